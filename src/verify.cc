// The verifier (verify.h): interval bound propagation with splitting over
// the regions of the domain.
#include "verify.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "fixed_features.h"
#include "prep.h"
#include "teacher.h"

namespace kmlb {

namespace {

__extension__ using int128 = __int128;

// ---- fixed point ------------------------------------------------------------

class FixedTarget final : public VerifyTarget {
public:
	explicit FixedTarget(const FixedModel &m) : m_(m) {}
	FeatureSet feature_set() const override { return m_.feature_set; }

	bool decide(const KernelState &s) const override
	{
		std::array<int32_t, kMaxFixedWidth> x;
		extract_features_fixed(s, m_.feature_set, m_.frac_bits, x.data());
		return fixed_decision(fixed_logit_reference(m_, x.data()));
	}

	int decide_box(const KernelState &lo, const KernelState &hi) const override
	{
		std::array<int32_t, kMaxFixedWidth> a, b;
		extract_features_fixed(lo, m_.feature_set, m_.frac_bits, a.data());
		extract_features_fixed(hi, m_.feature_set, m_.frac_bits, b.data());
		std::array<int64_t, kMaxFixedWidth> in_lo, in_hi, out_lo, out_hi;
		for (size_t i = 0; i < m_.inputs(); ++i) {
			in_lo[i] = std::min(a[i], b[i]);
			in_hi[i] = std::max(a[i], b[i]);
		}
		for (size_t l = 0; l < m_.layers.size(); ++l) {
			const FixedLayer &layer = m_.layers[l];
			const bool last = l + 1 == m_.layers.size();
			for (size_t o = 0; o < layer.outputs; ++o) {
				int128 lo_sum = layer.bias[o], hi_sum = layer.bias[o];
				const int32_t *w = layer.weights.data() + o * layer.inputs;
				for (size_t i = 0; i < layer.inputs; ++i) {
					const int128 p = int128{w[i]} * in_lo[i], q = int128{w[i]} * in_hi[i];
					lo_sum += p < q ? p : q;
					hi_sum += p < q ? q : p;
				}
				if (last) {
					if (lo_sum >= 0)
						return 1;
					if (hi_sum < 0)
						return 0;
					return -1;
				}
				// min(max(acc, 0) >> shift, cap): monotone, so the ends map to the ends.
				auto act = [&](int128 v) {
					const int128 r = (v < 0 ? 0 : v) >> layer.shift[o];
					return static_cast<int64_t>(r < layer.cap[o] ? r : layer.cap[o]);
				};
				out_lo[o] = act(lo_sum);
				out_hi[o] = act(hi_sum);
			}
			std::swap(in_lo, out_lo);
			std::swap(in_hi, out_hi);
		}
		return -1;
	}

	double sensitivity(size_t feature, const KernelState &lo, const KernelState &hi) const override
	{
		std::array<int32_t, kMaxFixedWidth> a, b;
		extract_features_fixed(lo, m_.feature_set, m_.frac_bits, a.data());
		extract_features_fixed(hi, m_.feature_set, m_.frac_bits, b.data());
		const double width = std::fabs(static_cast<double>(b[feature]) - a[feature]);
		const FixedLayer &first = m_.layers.front();
		double s = 0;
		for (size_t o = 0; o < first.outputs; ++o)
			s += std::fabs(static_cast<double>(first.weight(o, feature))) * width /
			     std::ldexp(1.0, first.weight_frac_bits[o]);
		return s;
	}

private:
	const FixedModel &m_;
};

// ---- float ------------------------------------------------------------------

constexpr double kUnitRoundoff = 0x1p-24;  // float32

class FloatTarget final : public VerifyTarget {
public:
	explicit FloatTarget(const ModelFile &m) : m_(m) {}
	FeatureSet feature_set() const override { return m_.feature_set; }

	bool decide(const KernelState &s) const override
	{
		std::array<float, 32> x;
		extract_features(s, m_.feature_set, x.data());
		return m_.model.logit_reference(x.data()) > 0.0f;
	}

	int decide_box(const KernelState &lo, const KernelState &hi) const override
	{
		const Mlp &mlp = m_.model;
		std::array<float, 32> a, b;
		extract_features(lo, m_.feature_set, a.data());
		extract_features(hi, m_.feature_set, b.data());
		std::vector<double> in_lo(mlp.max_width()), in_hi(mlp.max_width()), out_lo(mlp.max_width()),
			out_hi(mlp.max_width());
		for (size_t i = 0; i < mlp.inputs(); ++i) {
			double l = std::min(a[i], b[i]), h = std::max(a[i], b[i]);
			if (mlp.standardisation) {
				// fl(fl(x - mean) / stddev): two roundings of at most u each.
				const double m = mlp.standardisation->mean[i], sd = mlp.standardisation->stddev[i];
				const double err = 2.5 * kUnitRoundoff * (std::max(std::fabs(l), std::fabs(h)) + std::fabs(m)) / sd;
				l = (l - m) / sd - err;
				h = (h - m) / sd + err;
			}
			in_lo[i] = l;
			in_hi[i] = h;
		}
		for (size_t layer = 0; layer < mlp.layer_count(); ++layer) {
			const size_t n_in = mlp.layer_inputs(layer), n_out = mlp.layer_outputs(layer);
			const bool last = layer + 1 == mlp.layer_count();
			const float *w = mlp.weights(layer);
			const float *bias = mlp.bias(layer);
			// Rounding of n + 1 products and sums in float32, as a bound on
			// the sum of magnitudes (Higham's gamma_n), with margin for the
			// double arithmetic here.
			const double gamma = static_cast<double>(n_in + 2) * kUnitRoundoff /
					     (1.0 - static_cast<double>(n_in + 2) * kUnitRoundoff) * 1.001;
			for (size_t o = 0; o < n_out; ++o) {
				double lo_sum = bias[o], hi_sum = bias[o], mag = std::fabs(bias[o]);
				for (size_t i = 0; i < n_in; ++i) {
					const double wi = w[o * n_in + i];
					const double p = wi * in_lo[i], q = wi * in_hi[i];
					lo_sum += std::min(p, q);
					hi_sum += std::max(p, q);
					mag += std::fabs(wi) * std::max(std::fabs(in_lo[i]), std::fabs(in_hi[i]));
				}
				const double err = gamma * mag + 1e-300;
				lo_sum -= err;
				hi_sum += err;
				if (last) {
					if (lo_sum > 0)
						return 1;
					if (hi_sum <= 0)
						return 0;
					return -1;
				}
				out_lo[o] = std::max(0.0, lo_sum);
				out_hi[o] = std::max(0.0, hi_sum);
			}
			std::swap(in_lo, out_lo);
			std::swap(in_hi, out_hi);
		}
		return -1;
	}

	double sensitivity(size_t feature, const KernelState &lo, const KernelState &hi) const override
	{
		std::array<float, 32> a, b;
		extract_features(lo, m_.feature_set, a.data());
		extract_features(hi, m_.feature_set, b.data());
		double width = std::fabs(static_cast<double>(b[feature]) - a[feature]);
		if (m_.model.standardisation)
			width /= m_.model.standardisation->stddev[feature];
		const float *w = m_.model.weights(0);
		double s = 0;
		for (size_t o = 0; o < m_.model.layer_outputs(0); ++o)
			s += std::fabs(w[o * m_.model.inputs() + feature]) * width;
		return s;
	}

private:
	const ModelFile &m_;
};

}  // namespace

std::unique_ptr<VerifyTarget> fixed_target(const FixedModel &m) { return std::make_unique<FixedTarget>(m); }
std::unique_ptr<VerifyTarget> float_target(const ModelFile &m) { return std::make_unique<FloatTarget>(m); }

size_t feature_of_dim(size_t dim)
{
	static constexpr std::array<size_t, kNumDims> kFeature = {8, 9, 10, 11, 12, 18};
	return kFeature[dim];
}

std::string_view outcome_name(VerifyOutcome o)
{
	switch (o) {
	case VerifyOutcome::kVerified:
		return "verified";
	case VerifyOutcome::kFalsified:
		return "falsified";
	default:
		return "unknown";
	}
}

VerifyResult verify(const VerifyDomain &domain, const VerifyTarget &target, const VerifyOptions &opt)
{
	const auto start = std::chrono::steady_clock::now();
	VerifyResult res;
	res.regions = domain.regions().size();
	const size_t inputs = feature_count(target.feature_set());
	bool stop = false;
	struct Box {
		NumPoint lo, hi;
	};
	std::vector<Box> stack;
	for (size_t ri = 0; ri < domain.regions().size(); ++ri) {
		const Region &r = domain.regions()[ri];
		if (stop) {
			++res.undecided_boxes;
			++res.regions_undecided;
			continue;
		}
		size_t wrong = 0;
		bool undecided = false;
		const uint64_t boxes_before = res.boxes;
		// A concrete point: a counterexample when the model disagrees.
		auto check = [&](const NumPoint &p) {
			++res.concrete_points;
			KernelState s = domain.realize(r, p);
			const Decision d = can_migrate_task(s, domain.kernel());
			s.can_migrate = d.migrate;
			const bool m = target.decide(s);
			if (m == d.migrate)
				return true;
			++wrong;
			if (res.counterexamples.size() < opt.max_counterexamples)
				res.counterexamples.push_back({s, d.reason, m, ri});
			if (res.counterexamples.size() >= opt.max_counterexamples)
				stop = true;
			return false;
		};
		stack.assign(1, {r.lo, r.hi});
		while (!stack.empty()) {
			if (stop || res.boxes >= opt.max_boxes) {
				res.undecided_boxes += stack.size();
				stop = true;
				undecided = true;
				break;
			}
			if (wrong >= opt.max_per_region) {
				res.undecided_boxes += stack.size();
				break;
			}
			if (res.boxes - boxes_before >= opt.max_boxes_per_region) {
				res.undecided_boxes += stack.size();
				undecided = true;
				break;
			}
			const Box box = stack.back();
			stack.pop_back();
			++res.boxes;
			const KernelState lo = domain.realize(r, box.lo), hi = domain.realize(r, box.hi);
			const int d = target.decide_box(lo, hi);
			if (d == static_cast<int>(r.label))
				continue;
			bool point = true;
			for (size_t i = 0; i < kNumDims; ++i)
				point = point && box.lo[i] == box.hi[i];
			if (d != -1 || point) {
				// Decided against the teacher (every point is wrong), or a single
				// point the bounds did not settle (float rounding): concrete.
				check(box.lo);
				continue;
			}
			NumPoint mid;
			for (size_t i = 0; i < kNumDims; ++i)
				mid[i] = box.lo[i] + (box.hi[i] - box.lo[i]) / 2;
			if (!check(mid))
				continue;  // falsified box: one counterexample each
			// Split where the first layer moves most.
			size_t best = kNumDims;
			double best_s = -1;
			for (size_t i = 0; i < kNumDims; ++i) {
				if (box.lo[i] == box.hi[i] || feature_of_dim(i) >= inputs)
					continue;
				// 0: the input does not move over the box (numa_weight_sign
				// over a weight range of one sign), or the first layer
				// ignores it; splitting there cannot help.
				const double s = target.sensitivity(feature_of_dim(i), lo, hi);
				if (s > 0 && s > best_s) {
					best_s = s;
					best = i;
				}
			}
			if (best == kNumDims) {
				// Only dimensions the model does not read vary (their inputs
				// are constant over the box or have no weight): it cannot
				// decide differently within the box, and the middle was right.
				continue;
			}
			Box left = box, right = box;
			left.hi[best] = mid[best];
			right.lo[best] = mid[best] + 1;
			stack.push_back(right);
			stack.push_back(left);
		}
		res.regions_wrong += wrong > 0;
		res.regions_undecided += undecided && wrong == 0;
		res.boxes_by_reason[r.reason] += res.boxes - boxes_before;
	}
	res.outcome = !res.counterexamples.empty() ? VerifyOutcome::kFalsified
		      : res.undecided_boxes       ? VerifyOutcome::kUnknown
						  : VerifyOutcome::kVerified;
	res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	return res;
}

nlohmann::json VerifyResult::to_json() const
{
	nlohmann::json by_reason = nlohmann::json::object();
	for (const Counterexample &c : counterexamples) {
		const std::string name(reason_name(c.reason));
		by_reason[name] = by_reason.value(name, 0) + 1;
	}
	nlohmann::json boxes_by = nlohmann::json::object();
	for (const auto &[reason, n] : boxes_by_reason)
		boxes_by[std::string(reason_name(reason))] = n;
	return {{"result", outcome_name(outcome)},
		{"boxes", boxes},
		{"counterexamples", counterexamples.size()},
		{"seconds", seconds},
		{"undecided_boxes", undecided_boxes},
		{"concrete_points", concrete_points},
		{"regions", regions},
		{"regions_with_counterexamples", regions_wrong},
		{"regions_undecided", regions_undecided},
		{"by_reason", by_reason},
		{"boxes_by_reason", boxes_by}};
}

}  // namespace kmlb
