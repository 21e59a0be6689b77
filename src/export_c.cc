#include "export_c.h"
#include "subprocess.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <sys/wait.h>
#include <utility>

#include <fmt/format.h>

#include "atomic_file.h"
#include "exit_codes.h"
#include "fixed_features.h"
#include "raw_schema.h"

namespace kmlb {

namespace {

// ---- the hand-written part: struct kmlb_state and the features -------------
//
// Kernel style (tabs, C89 comments, declarations first). Mirrors
// fixed_features.cc operation for operation; @NAME@ are filled in below.

constexpr std::string_view kPrelude = R"C(#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/math64.h>
#define kmlb__div_u64(a, b) div64_u64((a), (b))
#else
#include <stdint.h>
#define kmlb__div_u64(a, b) ((a) / (b))
#endif

#define KMLB_FEATURE_SET "@SET@"
#define KMLB_NUM_FEATURES @NUM_FEATURES@
#define KMLB_FRAC_BITS @FRAC_BITS@
#define KMLB_LOGIT_FRAC_BITS @LOGIT_FRAC_BITS@
#define KMLB_NUM_PARAMS @NUM_PARAMS@
#define KMLB_MODEL_HASH "@MODEL_HASH@"
/* 1: kmlb verify proved the decision equal to the teacher's on every input. */
#define KMLB_MODEL_VERIFIED @VERIFIED@

#if !KMLB_MODEL_VERIFIED && !defined(KMLB_ALLOW_UNVERIFIED)
#error "kmlb_model.h: the model is not verified equal to the kernel's decision (kmlb verify); define KMLB_ALLOW_UNVERIFIED to build it anyway"
#endif

/* Raw-side saturation (see the feature table above). */
#define KMLB_MAX_NR_RUNNING @MAX_NR_RUNNING@
#define KMLB_MAX_LOAD_AVG @MAX_LOAD_AVG@

/*
 * One call of can_migrate_task(p, env): the fields of kmlb's raw schema
 * (docs/raw-schema.md) that the features read, under the same names.
 * Every kmlb header declares the same fields, whatever its feature set.
 */
struct kmlb_state {
@STATE_FIELDS@};

static inline int32_t kmlb__flag(int b)
{
	return b ? (int32_t)1 << KMLB_FRAC_BITS : 0;
}

static inline int64_t kmlb__clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* nr_running, saturated, minus offset. */
static inline int32_t kmlb__len(int64_t nr_running, int64_t offset)
{
	return (int32_t)((kmlb__clamp64(nr_running, 0, KMLB_MAX_NR_RUNNING) - offset) *
			 ((int64_t)1 << KMLB_FRAC_BITS));
}

/* load_avg / 1000, saturated, rounded to nearest. */
static inline int32_t kmlb__load(int64_t load_avg)
{
	uint64_t l = (uint64_t)kmlb__clamp64(load_avg, 0, KMLB_MAX_LOAD_AVG);

	return (int32_t)kmlb__div_u64((l << (KMLB_FRAC_BITS + 1)) + 1000, 2000);
}

/*
 * num / den in fixed point, rounded to nearest (halves away from zero) and
 * saturated to [-1, 1]. Exact while |den| <= 2^(62 - KMLB_FRAC_BITS); larger
 * counts drop low bits first (the loop runs at most 64 times).
 */
static inline int32_t kmlb__ratio(int64_t num, int64_t den)
{
	int negative = (num < 0) != (den < 0);
	uint64_t n = num < 0 ? 0 - (uint64_t)num : (uint64_t)num;
	uint64_t d = den < 0 ? 0 - (uint64_t)den : (uint64_t)den;
	uint64_t q;

	if (n >= d) {
		q = (uint64_t)1 << KMLB_FRAC_BITS;
	} else {
		while (d > (uint64_t)1 << (62 - KMLB_FRAC_BITS)) {
			n >>= 1;
			d >>= 1;
		}
		q = kmlb__div_u64((n << (KMLB_FRAC_BITS + 1)) + d, 2 * d);
	}
	return negative ? -(int32_t)q : (int32_t)q;
}
)C";

// task_weight()/group_weight(): 1000 * faults / total, unsigned, as the kernel.
constexpr std::string_view kNumaWeights = R"C(
static inline uint64_t kmlb__numa_weight(int64_t faults, int64_t total)
{
	if (total <= 0)
		return 0;
	return kmlb__div_u64(1000 * (uint64_t)faults, (uint64_t)total);
}

static inline uint64_t kmlb__src_weight(const struct kmlb_state *s)
{
	return s->numa_group ? kmlb__numa_weight(s->group_src_faults, s->group_total_faults) :
			       kmlb__numa_weight(s->src_faults, s->total_faults);
}

static inline uint64_t kmlb__dst_weight(const struct kmlb_state *s)
{
	return s->numa_group ? kmlb__numa_weight(s->group_dst_faults, s->group_total_faults) :
			       kmlb__numa_weight(s->dst_faults, s->total_faults);
}
)C";

constexpr std::string_view kFeaturesSeed = R"C(
/* The model's features from a raw state (Appendix A2 in fixed point). */
static inline void kmlb_features(const struct kmlb_state *s, int32_t x[KMLB_NUM_FEATURES])
{
	x[0] = kmlb__flag(s->src_len > s->src_preferred_len);
	x[1] = kmlb__flag(s->delta < s->migration_cost_ns);
	x[2] = kmlb__flag(s->cpu_idle != 0);
	x[3] = kmlb__flag(s->cpu_not_idle != 0);
	x[4] = kmlb__flag(s->cpu_newly_idle != 0);
	x[5] = kmlb__flag(s->same_node != 0);
	x[6] = kmlb__flag(s->prefer_src != 0);
	x[7] = kmlb__flag(s->prefer_dst != 0);
	x[8] = kmlb__len(s->src_len, 2);
	x[9] = kmlb__load(s->src_load);
	x[10] = kmlb__load(s->dst_load);
	x[11] = kmlb__len(s->dst_len, 0);
	x[12] = kmlb__ratio(s->delta_faults, s->total_faults == 0 ? 1 : s->total_faults);
	x[13] = kmlb__flag(s->nr_fails > s->cache_nice_tries);
	x[14] = kmlb__flag(s->buddy_hot != 0);
)C";

constexpr std::string_view kFeaturesModern = R"C(	x[15] = kmlb__flag(s->sd_share_cpucapacity != 0);
	x[16] = kmlb__flag(s->active_lb != 0);
	x[17] = kmlb__flag(s->numa_balancing && s->has_numa_faults && s->sd_numa);
	x[18] = kmlb__dst_weight(s) > kmlb__src_weight(s) ? kmlb__flag(1) :
		kmlb__dst_weight(s) < kmlb__src_weight(s) ? -kmlb__flag(1) : 0;
	x[19] = kmlb__flag(s->idle_policy != 0);
	x[20] = kmlb__flag(s->cookie_match == 0);
)C";

constexpr std::string_view kPredict = R"C(
/* 1: migrate (logit >= 0), 0: do not. x in the documented order and format. */
static inline int kmlb_predict_fixed(const int32_t x[KMLB_NUM_FEATURES])
{
	return kmlb_logit_fixed(x) >= 0;
}

static inline int kmlb_predict_state(const struct kmlb_state *s)
{
	int32_t x[KMLB_NUM_FEATURES];

	kmlb_features(s, x);
	return kmlb_predict_fixed(x);
}
)C";

constexpr std::array<std::string_view, 18> kSeedStateFields = {
	"src_len",   "src_preferred_len", "delta",      "migration_cost_ns", "cpu_idle",     "cpu_not_idle",
	"cpu_newly_idle", "same_node",     "prefer_src", "prefer_dst",        "src_load",     "dst_load",
	"dst_len",   "delta_faults",      "total_faults", "nr_fails",        "cache_nice_tries", "buddy_hot",
};
constexpr std::array<std::string_view, 13> kModernStateFields = {
	"sd_share_cpucapacity", "active_lb",   "numa_balancing",   "has_numa_faults",  "sd_numa",
	"numa_group",           "src_faults",  "dst_faults",       "group_src_faults", "group_dst_faults",
	"group_total_faults",   "idle_policy", "cookie_match",
};

// Every header declares all fields (a module fills one struct whatever the
// model's feature set); a `seed` model reads only the first group.
std::vector<std::string_view> state_fields()
{
	std::vector<std::string_view> f(kSeedStateFields.begin(), kSeedStateFields.end());
	f.insert(f.end(), kModernStateFields.begin(), kModernStateFields.end());
	return f;
}

void replace_all(std::string &s, std::string_view from, std::string_view to)
{
	for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
		s.replace(pos, from.size(), to);
}

// ---- the generated part: the network --------------------------------------

// A weight pair (low lane, high lane) as a C constant expression.
std::string pack(int64_t lo, int64_t hi, bool flag)
{
	return fmt::format("{}({}, {})", flag ? "KMLB_PACK_FLAG" : "KMLB_PACK", lo, hi);
}

std::string raw_meaning(std::string_view name)
{
	for (const RawColumn &c : raw_columns())
		if (c.name == name)
			return std::string(c.meaning);
	return "";
}

int raw_index(std::string_view name)
{
	const auto cols = raw_columns();
	for (size_t i = 0; i < cols.size(); ++i)
		if (cols[i].name == name)
			return static_cast<int>(i);
	return -1;
}

// "head item, item, ... tail" in lines of at most 100 columns (tabs are 8),
// continuation lines indented one tab deeper than the head.
std::string wrapped(const std::string &head, const std::vector<std::string> &items, const std::string &tail)
{
	auto width = [](const std::string &line) {
		size_t w = 0;
		for (char c : line)
			w = c == '\t' ? (w / 8 + 1) * 8 : w + 1;
		return w;
	};
	const size_t tabs = head.find_first_not_of('\t');
	const std::string indent(tabs + 1, '\t');
	std::string out, line = head;
	for (size_t k = 0; k < items.size(); ++k) {
		const bool last = k + 1 == items.size();
		const std::string piece = items[k] + (last ? "" : ",");
		// The tail (" },") must fit behind the last item too.
		const std::string end = last ? tail.substr(0, tail.find('\n')) : "";
		if (k > 0 && width(line + " " + piece + end) > 100) {
			out += line + "\n";
			line = indent + piece;
		} else {
			line += (k > 0 ? " " : "") + piece;
		}
	}
	return out + line + tail;
}

class Network {
public:
	explicit Network(const FixedModel &m) : m_(m) {}

	std::string emit()
	{
		// The body first: it records which tables and variables it uses, so
		// that a model with dead units declares nothing unused (-Werror).
		used_c_.assign(m_.layers.size(), false);
		for (size_t l = 0; l < m_.layers.size(); ++l)
			layer(l);
		body_ += fmt::format("\treturn (int32_t){};\n", acc(m_.layers.size() - 1, 0));
		declarations();
		if (!used_x_)
			decl_ += "\t(void)x;\n";
		return fmt::format("static inline int32_t kmlb_logit_fixed(const int32_t x[KMLB_NUM_FEATURES])\n{{\n{}{}}}\n",
				   decl_, body_);
	}

private:
	static size_t pairs(const FixedLayer &layer) { return (layer.outputs + 1) / 2; }
	static std::string acc(size_t l, size_t p) { return fmt::format("a{}_{}", l, p); }

	// Weight of unit o (or 0 past the last unit) from input i.
	static int64_t w(const FixedLayer &layer, size_t o, size_t i)
	{
		return o < layer.outputs ? layer.weight(o, i) : 0;
	}
	static int64_t b(const FixedLayer &layer, size_t o) { return o < layer.outputs ? layer.bias[o] : 0; }

	bool flag_input(size_t l, size_t i) const { return l == 0 && feature_ranges(m_.feature_set)[i].binary; }

	// Whether unit u of hidden layer l can ever be nonzero and is used.
	bool live(size_t l, size_t u) const
	{
		const FixedLayer &layer = m_.layers[l];
		if (layer.cap[u] == 0)
			return false;
		const FixedLayer &next = m_.layers[l + 1];
		for (size_t o = 0; o < next.outputs; ++o)
			if (next.weight(o, u) != 0)
				return true;
		return false;
	}

	// Whether pair p of layer l has a unit whose value is ever read.
	bool pair_used(size_t l, size_t p) const
	{
		if (l + 1 == m_.layers.size())
			return true;
		const FixedLayer &layer = m_.layers[l];
		return live(l, 2 * p) || (2 * p + 1 < layer.outputs && live(l, 2 * p + 1));
	}

	void declarations()
	{
		const auto ranges = feature_ranges(m_.feature_set);
		for (size_t l = 0; l < m_.layers.size(); ++l) {
			const FixedLayer &layer = m_.layers[l];
			decl_ += fmt::format("\t/* layer {}: {} -> {}; column i, pair p = units 2p (low), 2p + 1 (high) */\n",
					     l, layer.inputs, layer.outputs);
			if (!layer_used(l)) {
				decl_ += "\t/* (no unit of this layer is ever nonzero) */\n";
				continue;
			}
			if (used_c_[l]) {
				decl_ += fmt::format("\tstatic const uint64_t w{}[{}][{}] = {{\n", l, layer.inputs,
						     pairs(layer));
				for (size_t i = 0; i < layer.inputs; ++i) {
					decl_ += l == 0 ? fmt::format("\t\t/* {} */\n", ranges[i].name)
							: fmt::format("\t\t/* unit {} */\n", i);
					std::vector<std::string> items;
					for (size_t p = 0; p < pairs(layer); ++p)
						items.push_back(
							pack(w(layer, 2 * p, i), w(layer, 2 * p + 1, i), flag_input(l, i)));
					decl_ += wrapped("\t\t{ ", items, " },\n");
				}
				decl_ += "\t};\n";
			}
			const bool last = l + 1 == m_.layers.size();
			std::vector<std::string> items;
			for (size_t p = 0; p < pairs(layer); ++p)
				items.push_back(fmt::format("{}({}, {})", last ? "KMLB_PACK" : "KMLB_PACK_BIAS",
							    b(layer, 2 * p), b(layer, 2 * p + 1)));
			decl_ += wrapped(fmt::format("\tstatic const uint64_t b{}[{}] = {{ ", l, pairs(layer)), items,
					 " };\n");
		}
		// Pointers the optimizer cannot see through (the kernel's
		// OPTIMIZER_HIDE_VAR): without them GCC folds every constant into a
		// 10-byte immediate load, two instructions per pair where an add
		// from memory is one.
		for (size_t l = 0; l < m_.layers.size(); ++l)
			if (used_c_[l])
				decl_ += fmt::format("\tconst uint64_t (*c{})[{}] = w{};\n", l, pairs(m_.layers[l]), l);
		for (size_t l = 0; l < m_.layers.size(); ++l) {
			std::vector<std::string> accs;
			for (size_t p = 0; p < pairs(m_.layers[l]); ++p)
				if (pair_used(l, p))
					accs.push_back(acc(l, p));
			if (!accs.empty())
				decl_ += wrapped("\tuint64_t ", accs, ";\n");
		}
		if (used_v_)
			decl_ += "\tint32_t v;\n";
		decl_ += "\n";
	}

	// Adds column i of layer l (times v, or the flag's column) to every pair.
	void column(size_t l, size_t i, int indent)
	{
		const FixedLayer &layer = m_.layers[l];
		const std::string tabs(indent, '\t');
		for (size_t p = 0; p < pairs(layer); ++p) {
			if (!pair_used(l, p) || (w(layer, 2 * p, i) == 0 && w(layer, 2 * p + 1, i) == 0))
				continue;
			used_c_[l] = true;
			if (flag_input(l, i))
				body_ += fmt::format("{}{} += c{}[{}][{}];\n", tabs, acc(l, p), l, i, p);
			else if (l == 0)
				body_ += fmt::format("{}{} += (uint64_t)(int64_t)v * c{}[{}][{}];\n", tabs, acc(l, p), l, i, p);
			else
				body_ += fmt::format("{}{} += (uint32_t)v * c{}[{}][{}];\n", tabs, acc(l, p), l, i, p);
		}
	}

	bool column_is_zero(size_t l, size_t i) const
	{
		const FixedLayer &layer = m_.layers[l];
		for (size_t o = 0; o < layer.outputs; ++o)
			if (layer.weight(o, i) != 0)
				return false;
		return true;
	}

	// Whether any unit of layer l is ever nonzero and read.
	bool layer_used(size_t l) const
	{
		for (size_t p = 0; p < pairs(m_.layers[l]); ++p)
			if (pair_used(l, p))
				return true;
		return false;
	}

	void layer(size_t l)
	{
		const FixedLayer &layer = m_.layers[l];
		body_ += fmt::format("\t/* layer {} */\n", l);
		const size_t asm_at = body_.size();
		for (size_t p = 0; p < pairs(layer); ++p)
			if (pair_used(l, p))
				body_ += fmt::format("\t{} = b{}[{}];\n", acc(l, p), l, p);
		if (layer_used(l))
			layer_inputs(l);
		// Here, not earlier: the pointer is live only from this layer on.
		if (used_c_[l])
			body_.insert(asm_at, fmt::format("\t__asm__(\"\" : \"+r\"(c{}));\n", l));
	}

	void layer_inputs(size_t l)
	{
		const FixedLayer &layer = m_.layers[l];
		const auto ranges = feature_ranges(m_.feature_set);
		for (size_t i = 0; i < layer.inputs; ++i) {
			if (column_is_zero(l, i))
				continue;
			if (l == 0)
				used_x_ = true;
			else if (live(l - 1, i))
				used_v_ = true;
			if (l == 0 && ranges[i].binary) {
				body_ += fmt::format("\tif (x[{}]) {{ /* {} */\n", i, ranges[i].name);
			} else if (l == 0) {
				used_v_ = true;
				// Saturation: one unsigned compare on the (never taken on
				// generated data) out-of-range branch, the asm keeps it a branch.
				const int32_t lo = fixed_min(ranges[i], m_.frac_bits), hi = fixed_max(ranges[i], m_.frac_bits);
				body_ += fmt::format("\tv = x[{}]; /* {} */\n", i, ranges[i].name);
				body_ += fmt::format("\tif ((uint32_t)v - (uint32_t){} > {}u) {{\n", lo,
						     static_cast<uint32_t>(hi) - static_cast<uint32_t>(lo));
				body_ += fmt::format("\t\tv = v < {} ? {} : {};\n\t\t__asm__ volatile(\"\");\n\t}}\n", lo, lo,
						     hi);
				body_ += "\tif (v) {\n";
			} else {
				const FixedLayer &prev = m_.layers[l - 1];
				if (!live(l - 1, i))
					continue;
				// Unit i of the previous layer: ReLU, shift, saturation.
				const int s = prev.shift[i];
				if (i % 2 == 0)
					body_ += fmt::format("\tv = (int32_t)((uint32_t){} ^ 0x80000000u) >> {};\n",
							     acc(l - 1, i / 2), s);
				else
					body_ += fmt::format("\tv = (int32_t)((int64_t){} >> {});\n", acc(l - 1, i / 2), 32 + s);
				body_ += "\tif (v > 0) {\n";
				// Never true on the calibration data. The empty asm keeps it a
				// predicted branch (2 instructions) instead of a cmov (3).
				body_ += fmt::format("\t\tif (v > {}) {{\n\t\t\tv = {};\n\t\t\t__asm__ volatile(\"\");\n\t\t}}\n",
						     prev.cap[i], prev.cap[i]);
			}
			column(l, i, 2);
			body_ += "\t}\n";
		}
	}

	const FixedModel &m_;
	std::string decl_, body_;
	std::vector<bool> used_c_;
	bool used_v_ = false, used_x_ = false;
};

std::string banner(const FixedModel &m, const std::string &model_hash, const ExportVerification &v)
{
	std::string s = "/*\n * kmlb_model.h: a learnt can_migrate_task() decision for the Linux kernel.\n *\n";
	s += fmt::format(" * Generated by kmlb {} (kmlb export-c); do not edit.\n", KMLB_VERSION);
	s += fmt::format(" * Model:         fixed-point MLP {}, {} parameters, feature set \"{}\"\n", m.shape_name(),
			 m.param_count(), feature_set_name(m.feature_set));
	s += fmt::format(" * Model hash:    {} (fnv1a64 of the quantized model file)\n", model_hash);
	s += fmt::format(" * Source model:  {} (float), trained on data {}\n",
			 m.source_model_hash.empty() ? "-" : m.source_model_hash,
			 m.source_data_hash.empty() ? "-" : m.source_data_hash);
	s += fmt::format(" * Verification:  {} ({})\n", v.verified ? "VERIFIED" : "NOT VERIFIED", v.summary);
	s += " *\n * Format: int32 features with KMLB_FRAC_BITS fractional bits (";
	s += fmt::format("Q{}.{}).\n", 31 - m.frac_bits, m.frac_bits);
	for (size_t l = 0; l < m.layers.size(); ++l) {
		const FixedLayer &layer = m.layers[l];
		const auto [lo, hi] = std::minmax_element(layer.weight_frac_bits.begin(), layer.weight_frac_bits.end());
		s += fmt::format(" *   layer {} ({}x{}): inputs {} frac bits, weights {}..{}, sums {}..{} frac bits; ", l,
				 layer.outputs, layer.inputs, layer.input_frac_bits, *lo, *hi, layer.input_frac_bits + *lo,
				 layer.input_frac_bits + *hi);
		s += l + 1 < m.layers.size()
			     ? fmt::format("ReLU, >> per unit,\n *     saturate; outputs {} frac bits\n",
					   layer.output_frac_bits())
			     : "the logit\n";
	}
	s += " *   Interval analysis over the feature ranges below proves that every unit's sum\n"
	     " *   lies in (-2^31, 2^31): two sums share one uint64_t (A + B * 2^32) exactly.\n"
	     " * Decision: migrate iff logit >= 0 (no sigmoid).\n *\n";
	s += " * Features, in order (fixed point, KMLB_FRAC_BITS fractional bits):\n";
	const auto ranges = feature_ranges(m.feature_set);
	for (size_t i = 0; i < ranges.size(); ++i) {
		const FeatureRange &r = ranges[i];
		s += r.binary ? fmt::format(" *   {:2} {:18} flag: {}\n", i, r.name, r.source)
			      : fmt::format(" *   {:2} {:18} [{}, {}]: {}\n", i, r.name, r.min, r.max, r.source);
	}
	s += " * kmlb_predict_fixed() saturates its input the same way: a nonzero flag is 1,\n"
	     " * numbers are clamped to their range.\n *\n"
	     " * Freestanding: integer arithmetic only, no floating point or SIMD, no library\n"
	     " * calls, no allocation, straight-line code (one loop, bounded by 64 iterations).\n"
	     " * Kernel (__KERNEL__: <linux/types.h>) and user space (<stdint.h>).\n */\n";
	return s;
}

constexpr std::string_view kPackMacros = R"C(
/* Two 32-bit lanes in one uint64_t: lo + hi * 2^32 (mod 2^64). */
#define KMLB_PACK(lo, hi) ((uint64_t)(int64_t)(lo) + ((uint64_t)(int64_t)(hi) << 32))
/*
 * A hidden layer's bias pair, plus 2^31 in the low lane: the low lane then
 * holds A + 2^31, in [0, 2^32) since |A| < 2^31, and never borrows from the
 * high lane. So B = acc >> 32 (arithmetic) and A = (low 32 bits) ^ 2^31.
 */
#define KMLB_PACK_BIAS(lo, hi) (KMLB_PACK(lo, hi) + 0x80000000ull)
/* The column of a 0/1 feature: its weights times the feature's 1. */
#define KMLB_PACK_FLAG(lo, hi) \
	KMLB_PACK((int64_t)(lo) * ((int64_t)1 << KMLB_FRAC_BITS), \
		  (int64_t)(hi) * ((int64_t)1 << KMLB_FRAC_BITS))

)C";


}  // namespace

std::string export_c_header(const FixedModel &m, const std::string &model_hash,
			    const ExportVerification &verification)
{
	validate_fixed_model(m, "export-c");
	std::string prelude(kPrelude);
	std::string fields;
	for (std::string_view f : state_fields()) {
		if (f == kModernStateFields.front())
			fields += m.feature_set == FeatureSet::kModern ? "\t/* the modern features also read: */\n"
								       : "\t/* read by `modern` models only: */\n";
		fields += fmt::format("\tint64_t {}; /* {} */\n", f, raw_meaning(f));
	}
	replace_all(prelude, "@SET@", feature_set_name(m.feature_set));
	replace_all(prelude, "@NUM_FEATURES@", std::to_string(m.inputs()));
	replace_all(prelude, "@FRAC_BITS@", std::to_string(m.frac_bits));
	replace_all(prelude, "@LOGIT_FRAC_BITS@", std::to_string(m.logit_frac_bits()));
	replace_all(prelude, "@NUM_PARAMS@", std::to_string(m.param_count()));
	replace_all(prelude, "@MODEL_HASH@", model_hash);
	replace_all(prelude, "@VERIFIED@", verification.verified ? "1" : "0");
	replace_all(prelude, "@MAX_NR_RUNNING@", std::to_string(kMaxNrRunning));
	replace_all(prelude, "@MAX_LOAD_AVG@", std::to_string(kMaxLoadAvg));
	replace_all(prelude, "@STATE_FIELDS@", fields);

	std::string out = banner(m, model_hash, verification);
	out += "#ifndef KMLB_MODEL_H\n#define KMLB_MODEL_H\n\n";
	out += prelude;
	if (m.feature_set == FeatureSet::kModern)
		out += kNumaWeights;
	out += kFeaturesSeed;
	if (m.feature_set == FeatureSet::kModern)
		out += kFeaturesModern;
	out += "}\n";
	out += kPackMacros;
	out += "/* The logit at KMLB_LOGIT_FRAC_BITS fractional bits. */\n";
	out += Network(m).emit();
	out += kPredict;
	out += "\n#endif /* KMLB_MODEL_H */\n";
	return out;
}

HarnessSources c_harness_sources(const std::string &header_name)
{
	std::string fill;
	for (std::string_view f : state_fields())
		fill += fmt::format("\ts->{} = raw[{}];\n", f, raw_index(f));
	HarnessSources h;
	h.entry_points = fmt::format(R"C(/* User-space harness around {0}: generated by kmlb for tests and benchmarks. */
#include "{0}"

#include <stddef.h>

/* raw: the 57 values of kmlb's raw schema, in column order. */
void kmlb_harness_make_state(const int64_t *raw, struct kmlb_state *s)
{{
{1}}}

size_t kmlb_harness_state_size(void)
{{
	return sizeof(struct kmlb_state);
}}

int32_t kmlb_harness_logit(const int32_t *x)
{{
	return kmlb_logit_fixed(x);
}}

void kmlb_harness_raw_features(const int64_t *raw, int32_t *x)
{{
	struct kmlb_state s;

	kmlb_harness_make_state(raw, &s);
	kmlb_features(&s, x);
}}

int kmlb_harness_raw_predict(const int64_t *raw)
{{
	struct kmlb_state s;

	kmlb_harness_make_state(raw, &s);
	return kmlb_predict_state(&s);
}}
)C",
				     header_name, fill);
	h.loop_fixed = fmt::format(R"C(/* The timed loop over fixed-point features: the only call of the model here. */
#include "{0}"

#include <stddef.h>

size_t kmlb_harness_count_fixed(const int32_t *x, size_t rows)
{{
	size_t n = 0, r;

	for (r = 0; r < rows; ++r)
		n += kmlb_predict_fixed(x + r * KMLB_NUM_FEATURES);
	return n;
}}
)C",
				   header_name);
	h.loop_states = fmt::format(R"C(/* The timed loop over raw states: the only call of the model here. */
#include "{0}"

#include <stddef.h>

size_t kmlb_harness_count_states(const struct kmlb_state *s, size_t rows)
{{
	size_t n = 0, r;

	for (r = 0; r < rows; ++r)
		n += kmlb_predict_state(s + r);
	return n;
}}
)C",
				    header_name);
	return h;
}

std::vector<std::string> harness_cflags()
{
	return {"-std=gnu11", "-O2",       "-fPIC",          "-shared",
		"-nostdlib",  "-ffreestanding", "-mgeneral-regs-only", "-fno-strict-aliasing",
		"-Wall",      "-Wextra",   "-Werror",        "-Wdeclaration-after-statement",
		"-Wundef",    "-Wvla",     "-Wstrict-prototypes", "-Wmissing-prototypes",
		"-DKMLB_ALLOW_UNVERIFIED"};
}

// ---- ExportedModule ---------------------------------------------------------

ExportedModule ExportedModule::build(const FixedModel &m, const std::string &dir)
{
	namespace fs = std::filesystem;
	fs::create_directories(dir);
	const std::string header = (fs::path(dir) / "kmlb_model.h").string();
	const std::string so = (fs::path(dir) / "kmlb_harness.so").string();
	write_file_atomic(header, export_c_header(m, fnv1a64_hex(fixed_model_to_json(m))));
	const HarnessSources h = c_harness_sources("kmlb_model.h");
	std::string sources;
	for (const auto &[name, text] : {std::pair{"kmlb_harness.c", &h.entry_points},
					 std::pair{"kmlb_harness_fixed.c", &h.loop_fixed},
					 std::pair{"kmlb_harness_states.c", &h.loop_states}}) {
		const std::string path = (fs::path(dir) / name).string();
		write_file_atomic(path, *text);
		sources += ' ';
		sources += shell_quote(path);
	}

	const char *cc_env = std::getenv("CC");
	std::string cmd = cc_env && *cc_env ? cc_env : "cc";
	for (const std::string &flag : harness_cflags())
		cmd += " " + flag;
	// The harness exports functions without prototypes in the header.
	cmd += " -Wno-missing-prototypes -o " + shell_quote(so) + sources;
	const CommandOutput cc = run_command(cmd);
	if (cc.exit_code != 0)
		throw Error(ExitCode::kFailure,
			    fmt::format("compiling the exported header failed:\n{}\n{}", cmd, cc.output));
	return load(so);
}

ExportedModule ExportedModule::load(const std::string &so_path)
{
	ExportedModule mod;
	// dlopen searches the library path for a name without a slash.
	mod.so_path_ = std::filesystem::absolute(so_path).string();
	mod.handle_ = ::dlopen(mod.so_path_.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (!mod.handle_)
		throw Error(ExitCode::kNoInput, fmt::format("{}: cannot load: {}", so_path, ::dlerror()));
	mod.resolve();
	return mod;
}

void ExportedModule::resolve()
{
	auto sym = [&](const char *name) {
		void *p = ::dlsym(handle_, name);
		if (!p)
			throw Error(ExitCode::kBadData, fmt::format("{}: missing symbol {}", so_path_, name));
		return p;
	};
	// POSIX guarantees that dlsym results convert to function pointers.
	logit_ = reinterpret_cast<int32_t (*)(const int32_t *)>(sym("kmlb_harness_logit"));
	raw_features_ = reinterpret_cast<void (*)(const int64_t *, int32_t *)>(sym("kmlb_harness_raw_features"));
	raw_predict_ = reinterpret_cast<int (*)(const int64_t *)>(sym("kmlb_harness_raw_predict"));
	make_state_ = reinterpret_cast<void (*)(const int64_t *, void *)>(sym("kmlb_harness_make_state"));
	count_fixed_ = reinterpret_cast<size_t (*)(const int32_t *, size_t)>(sym("kmlb_harness_count_fixed"));
	count_states_ =
		reinterpret_cast<size_t (*)(const unsigned char *, size_t)>(sym("kmlb_harness_count_states"));
	state_size_ = reinterpret_cast<size_t (*)()>(sym("kmlb_harness_state_size"))();
}

ExportedModule::ExportedModule(ExportedModule &&other) noexcept { *this = std::move(other); }

ExportedModule &ExportedModule::operator=(ExportedModule &&other) noexcept
{
	if (this != &other) {
		if (handle_)
			::dlclose(handle_);
		handle_ = std::exchange(other.handle_, nullptr);
		so_path_ = std::move(other.so_path_);
		state_size_ = other.state_size_;
		logit_ = other.logit_;
		raw_features_ = other.raw_features_;
		raw_predict_ = other.raw_predict_;
		make_state_ = other.make_state_;
		count_fixed_ = other.count_fixed_;
		count_states_ = other.count_states_;
	}
	return *this;
}

ExportedModule::~ExportedModule()
{
	if (handle_)
		::dlclose(handle_);
}

namespace {

std::array<int64_t, kRawColumns> raw_row(const KernelState &s)
{
	std::array<int64_t, kRawColumns> raw;
	static_assert(sizeof raw == sizeof s);
	std::memcpy(raw.data(), &s, sizeof raw);
	return raw;
}

}  // namespace

void ExportedModule::features(const KernelState &s, int32_t *x) const { raw_features_(raw_row(s).data(), x); }

int ExportedModule::predict_state(const KernelState &s) const { return raw_predict_(raw_row(s).data()); }

std::vector<unsigned char> ExportedModule::make_states(std::span<const KernelState> states) const
{
	std::vector<unsigned char> out(states.size() * state_size_);
	for (size_t i = 0; i < states.size(); ++i)
		make_state_(raw_row(states[i]).data(), out.data() + i * state_size_);
	return out;
}

}  // namespace kmlb
