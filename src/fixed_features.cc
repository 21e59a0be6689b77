#include "fixed_features.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "teacher_internal.h"

namespace kmlb {

namespace {

// clang-format off
constexpr std::array<FeatureRange, 21> kRanges = {{
	{"src_non_pref_nr", true, 0, 1, "src_len > src_preferred_len"},
	{"delta_hot", true, 0, 1, "delta < migration_cost_ns"},
	{"cpu_idle", true, 0, 1, "cpu_idle != 0"},
	{"cpu_not_idle", true, 0, 1, "cpu_not_idle != 0"},
	{"cpu_newly_idle", true, 0, 1, "cpu_newly_idle != 0"},
	{"same_node", true, 0, 1, "same_node != 0"},
	{"prefer_src", true, 0, 1, "prefer_src != 0"},
	{"prefer_dst", true, 0, 1, "prefer_dst != 0"},
	{"src_len", false, -2, kMaxNrRunning - 2, "min(max(src_len, 0), 127) - 2"},
	{"src_load", false, 0, kMaxLoadAvg / 1000, "min(max(src_load, 0), 256000) / 1000"},
	{"dst_load", false, 0, kMaxLoadAvg / 1000, "min(max(dst_load, 0), 256000) / 1000"},
	{"dst_len", false, 0, kMaxNrRunning, "min(max(dst_len, 0), 127)"},
	{"delta_faults", false, -1, 1, "delta_faults / (total_faults or 1), saturated to [-1, 1]"},
	{"extra_fails", true, 0, 1, "nr_fails > cache_nice_tries"},
	{"buddy_hot", true, 0, 1, "buddy_hot != 0"},
	{"smt_domain", true, 0, 1, "sd_share_cpucapacity != 0"},
	{"active_lb", true, 0, 1, "active_lb != 0"},
	{"numa_active", true, 0, 1, "numa_balancing && has_numa_faults && sd_numa"},
	{"numa_weight_sign", false, -1, 1,
	 "sign(dst_weight - src_weight): -1, 0 or 1; weights 1000 * faults / total (group's in a NUMA group)"},
	{"idle_policy", true, 0, 1, "idle_policy != 0"},
	{"cookie_mismatch", true, 0, 1, "cookie_match == 0"},
}};
// clang-format on

int32_t one(int frac_bits) { return int32_t{1} << frac_bits; }

int32_t flag(bool b, int frac_bits) { return b ? one(frac_bits) : 0; }

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return std::min(hi, std::max(lo, v)); }

uint64_t magnitude(int64_t v) { return v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); }

// round(num * 2^F / den), halves up, for num <= den (so the result is at
// most 2^F) and den <= 2^(62 - F): 2 * num * 2^F + den then fits 64 bits.
uint64_t scaled_ratio(uint64_t num, uint64_t den, int frac_bits)
{
	return ((num << (frac_bits + 1)) + den) / (2 * den);
}

// round(num / den * 2^F) with halves away from zero, saturated to [-1, 1]
// (as 2^F). Exact while |den| <= 2^(62 - F); beyond that both counts drop
// their low bits first (fault counts are nowhere near: they decay).
int32_t fixed_ratio(int64_t num, int64_t den, int frac_bits)
{
	const bool negative = (num < 0) != (den < 0);
	uint64_t n = magnitude(num), d = magnitude(den);
	uint64_t q;
	if (n >= d) {
		q = one(frac_bits);
	} else {
		while (d > (uint64_t{1} << (62 - frac_bits))) {
			n >>= 1;
			d >>= 1;
		}
		q = scaled_ratio(n, d, frac_bits);
	}
	const auto v = static_cast<int32_t>(q);
	return negative ? -v : v;
}

// load_avg / 1000, saturated.
int32_t fixed_load(int64_t load_avg, int frac_bits)
{
	return static_cast<int32_t>(scaled_ratio(static_cast<uint64_t>(clamp64(load_avg, 0, kMaxLoadAvg)), 1000,
						 frac_bits));
}

int32_t fixed_len(int64_t nr_running, int64_t offset, int frac_bits)
{
	return static_cast<int32_t>((clamp64(nr_running, 0, kMaxNrRunning) - offset) * one(frac_bits));
}

}  // namespace

std::span<const FeatureRange> feature_ranges(FeatureSet set)
{
	return std::span(kRanges).first(feature_count(set));
}

int32_t fixed_min(const FeatureRange &r, int frac_bits) { return static_cast<int32_t>(r.min * one(frac_bits)); }

int32_t fixed_max(const FeatureRange &r, int frac_bits) { return static_cast<int32_t>(r.max * one(frac_bits)); }

void saturate_fixed_features(FeatureSet set, int frac_bits, int32_t *x)
{
	const auto ranges = feature_ranges(set);
	for (size_t i = 0; i < ranges.size(); ++i) {
		if (ranges[i].binary)
			x[i] = flag(x[i] != 0, frac_bits);
		else
			x[i] = std::clamp(x[i], fixed_min(ranges[i], frac_bits), fixed_max(ranges[i], frac_bits));
	}
}

void float_to_fixed_features(FeatureSet set, int frac_bits, const float *in, int32_t *out)
{
	const auto ranges = feature_ranges(set);
	for (size_t i = 0; i < ranges.size(); ++i) {
		if (ranges[i].binary) {
			out[i] = flag(in[i] != 0.0f, frac_bits);
			continue;
		}
		// Clamped in real units first, so a huge value cannot overflow.
		const double v = std::clamp(static_cast<double>(in[i]), static_cast<double>(ranges[i].min),
					    static_cast<double>(ranges[i].max));
		out[i] = static_cast<int32_t>(std::llround(std::ldexp(v, frac_bits)));
	}
}

void extract_features_fixed(const KernelState &s, FeatureSet set, int frac_bits, int32_t *out)
{
	const int f = frac_bits;
	out[0] = flag(s.src_len > s.src_preferred_len, f);
	out[1] = flag(s.delta < s.migration_cost_ns, f);
	out[2] = flag(s.cpu_idle != 0, f);
	out[3] = flag(s.cpu_not_idle != 0, f);
	out[4] = flag(s.cpu_newly_idle != 0, f);
	out[5] = flag(s.same_node != 0, f);
	out[6] = flag(s.prefer_src != 0, f);
	out[7] = flag(s.prefer_dst != 0, f);
	out[8] = fixed_len(s.src_len, 2, f);
	out[9] = fixed_load(s.src_load, f);
	out[10] = fixed_load(s.dst_load, f);
	out[11] = fixed_len(s.dst_len, 0, f);
	out[12] = fixed_ratio(s.delta_faults, s.total_faults == 0 ? 1 : s.total_faults, f);
	out[13] = flag(s.nr_fails > s.cache_nice_tries, f);
	out[14] = flag(s.buddy_hot != 0, f);
	if (set == FeatureSet::kSeed)
		return;
	out[15] = flag(s.sd_share_cpucapacity != 0, f);
	out[16] = flag(s.active_lb != 0, f);
	out[17] = flag(s.numa_balancing && s.has_numa_faults && s.sd_numa, f);
	// The outcome of the kernel's comparison of its scores (teacher_internal.h).
	out[18] = detail::numa_weight_sign(s) * one(f);
	out[19] = flag(s.idle_policy != 0, f);
	out[20] = flag(s.cookie_match == 0, f);
}

}  // namespace kmlb
