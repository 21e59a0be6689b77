// Model features in fixed point, as the kernel computes them: the seed
// report's Appendix A2 transforms (prep.h) in integer arithmetic only, every
// value saturated to a documented range so that the quantizer can prove that
// no accumulator overflows (fixed_point.h).
//
// A feature value v is carried as round(v * 2^F) in an int32 ("F fractional
// bits", F = the model's input frac bits, KMLB_FRAC_BITS in the exported
// header). Rounding is to nearest, halves away from zero, like llround().
//
// The ranges (real units, after the A2 transform):
//   0/1 flags          src_non_pref_nr, delta_hot, cpu_idle, cpu_not_idle,
//                      cpu_newly_idle, same_node, prefer_src, prefer_dst,
//                      extra_fails, buddy_hot; modern: smt_domain, active_lb,
//                      numa_active, idle_policy, cookie_mismatch.
//                      Any nonzero value counts as 1.
//   src_len            [-2, 125]: nr_running saturated to 0..127, minus 2
//   dst_len            [0, 127]: nr_running saturated to 0..127
//   src_load, dst_load [0, 256]: load_avg saturated to 0..256000, / 1000
//   delta_faults       [-1, 1]: (dst - src faults) / total, saturated
//   numa_weight_sign   -1, 0 or 1: sign(dst_weight - src_weight), the outcome
//                      of the kernel's comparison of its NUMA scores
// The caps are far above anything the generated data sets hold (nr_running
// <= 40, load_avg <= 89000 in every preset): 127 runnable tasks on one CPU or a load of 250 nice-0
// tasks is where a model trained on those rows has long stopped meaning
// anything, and smaller caps leave more bits for the weights. Outside the
// caps the fixed-point model sees the cap; the float model extrapolates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "feature_set.h"
#include "kernel_state.h"

namespace kmlb {

// Largest input frac bits: 127 * 2^F and 256 * 2^F must fit an int32 with
// room to spare.
inline constexpr int kMaxInputFracBits = 20;

// Raw-side saturation limits (see the table above).
inline constexpr int64_t kMaxNrRunning = 127;
inline constexpr int64_t kMaxLoadAvg = 256000;

struct FeatureRange {
	std::string_view name;
	bool binary = false;
	int64_t min = 0, max = 1;  // real units; integers, so exact in any Q format
	std::string_view source;   // how the kernel value is mapped, for reports
};

// One range per feature of the set, in the set's order.
std::span<const FeatureRange> feature_ranges(FeatureSet set);

// The fixed-point limits of feature `index` at `frac_bits`.
int32_t fixed_min(const FeatureRange &r, int frac_bits);
int32_t fixed_max(const FeatureRange &r, int frac_bits);

// Saturates fixed-point inputs in place: flags become 0 or 1 << frac_bits,
// numbers are clamped to their range. Every fixed-point path starts here.
void saturate_fixed_features(FeatureSet set, int frac_bits, int32_t *x);

// A float feature vector (prep.h) to fixed point: round(v * 2^F), then
// saturated. What a features CSV becomes in the quantizer.
void float_to_fixed_features(FeatureSet set, int frac_bits, const float *in, int32_t *out);

// The A2 transforms from a raw state in integer arithmetic, saturated; the
// same operations as kmlb_features() in the exported C header (tested equal).
// Agrees with round(extract_features() * 2^F) to within one unit in the last
// place on every state inside the ranges (the float path rounds twice).
void extract_features_fixed(const KernelState &s, FeatureSet set, int frac_bits, int32_t *out);

}  // namespace kmlb
