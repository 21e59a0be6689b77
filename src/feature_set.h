// The model inputs. `seed` is Chen's and the seed report's 15 features, in
// their order; `modern` adds what the teacher proves a kernel >= 5.10 also
// reads (see features.cc for why each one is needed).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kmlb {

enum class FeatureSet { kSeed, kModern };

// Column names, in order, without the label.
std::span<const std::string_view> feature_names(FeatureSet set);
size_t feature_count(FeatureSet set);
std::string_view feature_set_name(FeatureSet set);
// Throws Error(kUsage) naming the accepted values.
FeatureSet parse_feature_set(std::string_view name);

// Whether feature `index` is a 0/1 flag (checked when a features CSV is read).
bool feature_is_binary(size_t index);

inline constexpr std::string_view kLabelName = "can_migrate";

}  // namespace kmlb
