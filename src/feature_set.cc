#include "feature_set.h"

#include <array>
#include <fmt/format.h>

#include "exit_codes.h"

namespace kmlb {

namespace {

// Chen et al.'s training configuration, also the seed report's (in this order).
constexpr std::array<std::string_view, 21> kModern = {
	"src_non_pref_nr", "delta_hot",   "cpu_idle",    "cpu_not_idle", "cpu_newly_idle",
	"same_node",       "prefer_src",  "prefer_dst",  "src_len",      "src_load",
	"dst_load",        "dst_len",     "delta_faults", "extra_fails", "buddy_hot",
	// What kernels >= 5.10 also read (features.cc says why).
	"smt_domain",      "active_lb",   "numa_active", "numa_weight_sign",
	"idle_policy",     "cookie_mismatch",
};
constexpr size_t kSeedCount = 15;

}  // namespace

std::span<const std::string_view> feature_names(FeatureSet set)
{
	return std::span(kModern).first(feature_count(set));
}

size_t feature_count(FeatureSet set)
{
	return set == FeatureSet::kSeed ? kSeedCount : kModern.size();
}

bool feature_is_binary(size_t index)
{
	// src_len, src_load, dst_load, dst_len, delta_faults are numbers;
	// numa_weight_sign takes -1, 0 or 1.
	return !(index >= 8 && index <= 12) && index != 18;
}

std::string_view feature_set_name(FeatureSet set)
{
	return set == FeatureSet::kSeed ? "seed" : "modern";
}

FeatureSet parse_feature_set(std::string_view name)
{
	if (name == "seed")
		return FeatureSet::kSeed;
	if (name == "modern")
		return FeatureSet::kModern;
	throw Error(ExitCode::kUsage,
		    fmt::format("unknown feature set '{}' (supported: seed, modern)", name));
}

}  // namespace kmlb
