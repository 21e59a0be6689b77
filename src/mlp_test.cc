#include "mlp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <span>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "rng.h"

namespace kmlb {
namespace {

// Tolerances, named once.
// Float32 gradient vs double central differences: float rounding of sums of
// a few hundred terms, and the O(h^2) truncation of the difference.
constexpr double kFiniteDifferenceRelTol = 1e-5;
constexpr double kFiniteDifferenceAbsTol = 1e-7;
constexpr double kFloatVsDoubleTol = 1e-5;        // float forward vs double forward
constexpr double kGoldenRelTol = 1e-5;            // torch float32 vs ours
constexpr double kGoldenAbsTol = 1e-7;            // for values near 0

struct Data {
	size_t rows = 0, cols = 0;
	std::vector<float> x;
	std::vector<uint8_t> y;
};

Data random_data(size_t rows, size_t cols, uint64_t seed)
{
	Rng rng(seed);
	Data d{rows, cols, {}, {}};
	for (size_t i = 0; i < rows * cols; ++i)
		d.x.push_back(static_cast<float>(rng.normal(0.5, 2.0)));
	for (size_t i = 0; i < rows; ++i)
		d.y.push_back(rng.bernoulli(0.7) ? 1 : 0);
	return d;
}

TEST(Mlp, ParamCountsMatchTheReportAndChen)
{
	EXPECT_EQ(Mlp(15, {15, 12, 10}).param_count(), 573u);
	EXPECT_EQ(Mlp(15, {10}).param_count(), 171u);
	EXPECT_EQ(Mlp(3, {}).param_count(), 4u);  // logistic regression
}

TEST(Mlp, LayoutIsLayerByLayerWeightsThenBias)
{
	const Mlp m(15, {15, 12, 10});
	EXPECT_EQ(m.weight_offset(0), 0u);
	EXPECT_EQ(m.bias_offset(0), 225u);
	EXPECT_EQ(m.weight_offset(1), 240u);
	EXPECT_EQ(m.bias_offset(3), 572u);
	const auto mask = m.weight_mask();
	size_t weights = 0;
	for (uint8_t v : mask)
		weights += v;
	EXPECT_EQ(weights, 225u + 180u + 120u + 10u);
}

TEST(Mlp, GlorotUniformIsBoundedDeterministicAndZeroBias)
{
	Rng a(7), b(7);
	const Mlp m = Mlp::glorot_uniform(15, {15, 12, 10}, a);
	EXPECT_EQ(m, Mlp::glorot_uniform(15, {15, 12, 10}, b));
	for (size_t l = 0; l < m.layer_count(); ++l) {
		const double limit = std::sqrt(6.0 / (m.layer_inputs(l) + m.layer_outputs(l)));
		for (size_t k = 0; k < m.layer_inputs(l) * m.layer_outputs(l); ++k)
			EXPECT_LE(std::abs(m.weights(l)[k]), limit);
		for (size_t o = 0; o < m.layer_outputs(l); ++o)
			EXPECT_EQ(m.bias(l)[o], 0.0f);
	}
}

Mlp random_model(std::vector<size_t> hidden, uint64_t seed, bool with_bias = true)
{
	Rng rng(seed);
	Mlp m = Mlp::glorot_uniform(6, std::move(hidden), rng);
	if (with_bias)
		for (size_t l = 0; l < m.layer_count(); ++l)
			for (size_t o = 0; o < m.layer_outputs(l); ++o)
				m.params()[m.bias_offset(l) + o] = static_cast<float>(rng.normal(0.1, 0.3));
	return m;
}

// The batched path and the scalar reference sum in the same order: equal bits.
TEST(Mlp, BatchedForwardEqualsScalarReferenceBitForBit)
{
	const Data d = random_data(203, 6, 1);  // not a multiple of the lane count
	for (bool standardise : {false, true}) {
		Mlp m = random_model({15, 12, 10}, 2);
		if (standardise)
			m.standardisation = Standardisation::fit(d.x.data(), d.cols, {}, d.rows);
		MlpBatch batch(m, 64);
		std::vector<float> logits(64);
		for (size_t start = 0; start < d.rows; start += 64) {
			std::vector<uint32_t> index;
			for (size_t i = start; i < std::min(d.rows, start + 64); ++i)
				index.push_back(static_cast<uint32_t>(i));
			Batch b{d.x.data(), d.cols, d.y.data(), index.data(), index.size(), nullptr};
			batch.forward(m, b, logits.data());
			for (size_t i = 0; i < index.size(); ++i) {
				const float *row = d.x.data() + index[i] * d.cols;
				ASSERT_EQ(logits[i], m.logit_reference(row)) << "row " << index[i];
				EXPECT_NEAR(logits[i], m.logit_reference_double(row),
					    kFloatVsDoubleTol * (1.0 + std::abs(logits[i])));
			}
		}
	}
}

TEST(Mlp, BceFromLogitIsStable)
{
	EXPECT_NEAR(bce_from_logit(0.0, 1), std::log(2.0), 1e-15);
	EXPECT_NEAR(bce_from_logit(800.0, 0), 800.0, 1e-9);
	EXPECT_NEAR(bce_from_logit(-800.0, 1), 800.0, 1e-9);
	EXPECT_LT(bce_from_logit(800.0, 1), 1e-300);
	EXPECT_EQ(sigmoid(-200.0f), 0.0f);
	EXPECT_EQ(sigmoid(200.0f), 1.0f);
	EXPECT_FLOAT_EQ(sigmoid(0.0f), 0.5f);
}

// The loss in double precision with parameter k shifted by delta (in double,
// so the step is not rounded to float): the finite-difference reference.
double loss_with_shift(const Mlp &m, const Data &d, const float *class_weight, size_t k,
		       double delta)
{
	double sum = 0.0;
	for (size_t r = 0; r < d.rows; ++r) {
		std::vector<double> in(d.x.begin() + r * d.cols, d.x.begin() + (r + 1) * d.cols), out;
		if (m.standardisation)
			for (size_t i = 0; i < d.cols; ++i)
				in[i] = (in[i] - m.standardisation->mean[i]) / m.standardisation->stddev[i];
		for (size_t l = 0; l < m.layer_count(); ++l) {
			const size_t n_in = m.layer_inputs(l), n_out = m.layer_outputs(l);
			out.assign(n_out, 0.0);
			for (size_t o = 0; o < n_out; ++o) {
				const size_t bk = m.bias_offset(l) + o;
				double acc = m.params()[bk] + (bk == k ? delta : 0.0);
				for (size_t i = 0; i < n_in; ++i) {
					const size_t wk = m.weight_offset(l) + o * n_in + i;
					acc += (m.params()[wk] + (wk == k ? delta : 0.0)) * in[i];
				}
				out[o] = l + 1 < m.layer_count() ? std::max(acc, 0.0) : acc;
			}
			in.swap(out);
		}
		const double w = class_weight ? class_weight[d.y[r]] : 1.0;
		sum += w * bce_from_logit(in[0], d.y[r]);
	}
	return sum / d.rows;
}

// Central differences (step 1e-6) of the double-precision loss against the
// float32 analytic gradient, for 3, 1 and 0 hidden layers, with class
// weights and standardisation. A ReLU kink inside +-1e-6 is improbable with
// random data; the only error left is float32 rounding of the gradient.
TEST(Mlp, GradientMatchesFiniteDifferences)
{
	const float class_weight[2] = {2.5f, 0.6f};
	for (auto hidden : {std::vector<size_t>{15, 12, 10}, std::vector<size_t>{10},
			    std::vector<size_t>{}}) {
		for (bool standardise : {false, true}) {
			SCOPED_TRACE(::testing::Message() << hidden.size() << " hidden layers, standardise "
							  << standardise);
			const Data d = random_data(37, 6, 3);
			Mlp m = random_model(hidden, 4);
			if (standardise)
				m.standardisation = Standardisation::fit(d.x.data(), d.cols, {}, d.rows);
			MlpBatch batch(m, 64);
			std::vector<float> grad(m.param_count());
			Batch b{d.x.data(), d.cols, d.y.data(), nullptr, d.rows, class_weight};
			const BatchStats stats = batch.forward_backward(m, b, grad);
			EXPECT_NEAR(stats.loss_sum / d.rows, loss_with_shift(m, d, class_weight, 0, 0.0),
				    kFloatVsDoubleTol);
			for (size_t k = 0; k < m.param_count(); ++k) {
				const double h = 1e-6;
				const double numeric = (loss_with_shift(m, d, class_weight, k, h) -
							loss_with_shift(m, d, class_weight, k, -h)) /
						       (2 * h);
				EXPECT_NEAR(grad[k], numeric,
					    kFiniteDifferenceAbsTol + kFiniteDifferenceRelTol * std::abs(numeric))
					<< "param " << k;
			}
		}
	}
}

TEST(Mlp, PaddedAndPartialBatchesGiveTheSameGradientAsOneBatch)
{
	// A batch of 20 in a workspace for 64: padding must not leak into grads.
	const Data d = random_data(20, 6, 8);
	Mlp m = random_model({15, 12, 10}, 9);
	MlpBatch small(m, 20), large(m, 64);
	std::vector<float> g1(m.param_count()), g2(m.param_count());
	Batch b{d.x.data(), d.cols, d.y.data(), nullptr, d.rows, nullptr};
	small.forward_backward(m, b, g1);
	large.forward_backward(m, b, g2);
	EXPECT_EQ(g1, g2);
}

TEST(Mlp, FoldStandardisationKeepsLogits)
{
	const Data d = random_data(100, 6, 10);
	Mlp m = random_model({15, 12, 10}, 11);
	m.standardisation = Standardisation::fit(d.x.data(), d.cols, {}, d.rows);
	const Mlp folded = m.fold_standardisation();
	EXPECT_FALSE(folded.standardisation);
	for (size_t i = 0; i < d.rows; ++i) {
		const float *row = d.x.data() + i * d.cols;
		const double a = m.logit_reference_double(row), b = folded.logit_reference_double(row);
		EXPECT_NEAR(a, b, 1e-5 * (1.0 + std::abs(a)));
	}
}

TEST(Mlp, StandardisationUsesOnlyTheGivenRowsAndNeverZeroStddev)
{
	const std::vector<float> x = {1, 5, 3, 5, 100, 5};  // 3 rows x 2 cols
	const std::vector<uint32_t> rows = {0, 1};
	const Standardisation s = Standardisation::fit(x.data(), 2, rows, 3);
	EXPECT_FLOAT_EQ(s.mean[0], 2.0f);
	EXPECT_FLOAT_EQ(s.stddev[0], 1.0f);
	EXPECT_FLOAT_EQ(s.mean[1], 5.0f);
	EXPECT_FLOAT_EQ(s.stddev[1], 1.0f);  // constant column
}

TEST(Mlp, JsonNumberRoundTripsFloats)
{
	Rng rng(12);
	for (int i = 0; i < 100000; ++i) {
		const uint32_t bits = static_cast<uint32_t>(rng.next());
		float f;
		std::memcpy(&f, &bits, 4);
		if (!std::isfinite(f))
			continue;
		const nlohmann::json j = json_number(f);
		const float back = static_cast<float>(nlohmann::json::parse(j.dump()).get<double>());
		ASSERT_EQ(back, f) << j.dump();
	}
	EXPECT_EQ(nlohmann::json(json_number(0.001f)).dump(), "0.001");
	EXPECT_EQ(nlohmann::json(json_number(1e-7f)).dump(), "1e-07");
}

// ---- golden numbers from tools/torch_golden.py (python3-torch) ----------

nlohmann::json load_golden(const std::string &name)
{
	std::ifstream in(std::string(KMLB_TEST_DATA_DIR) + "/" + name);
	EXPECT_TRUE(in) << "missing fixture " << name;
	std::stringstream ss;
	ss << in.rdbuf();
	return nlohmann::json::parse(ss.str());
}

// The fixture's model and batch (adam_test.cc reads the same files).
struct GoldenCase {
	Mlp model;
	std::vector<float> x;
	std::vector<uint8_t> y;
	size_t rows = 0;
	float class_weight[2] = {1, 1};
	float l2 = 0;
	nlohmann::json j;
};

GoldenCase load_golden_case(const std::string &name)
{
	GoldenCase g;
	g.j = load_golden(name);
	const auto &j = g.j;
	std::vector<size_t> hidden = j["hidden"].get<std::vector<size_t>>();
	const size_t inputs = j["inputs"].get<size_t>();
	g.model = Mlp(inputs, hidden);
	const auto params = j["params"].get<std::vector<float>>();
	EXPECT_EQ(params.size(), g.model.param_count());
	std::copy(params.begin(), params.end(), g.model.params().begin());
	g.x = j["x"].get<std::vector<float>>();
	g.y = j["y"].get<std::vector<uint8_t>>();
	g.rows = g.y.size();
	g.class_weight[0] = j["class_weight"][0].get<float>();
	g.class_weight[1] = j["class_weight"][1].get<float>();
	g.l2 = j["l2"].get<float>();
	return g;
}

void expect_close(std::span<const float> got, const std::vector<double> &want, const char *what)
{
	ASSERT_EQ(got.size(), want.size()) << what;
	for (size_t k = 0; k < got.size(); ++k)
		EXPECT_NEAR(got[k], want[k], kGoldenAbsTol + kGoldenRelTol * std::abs(want[k]))
			<< what << "[" << k << "]";
}

TEST(MlpGolden, ForwardLossAndGradientsMatchTorch)
{
	for (const char *name : {"golden_mlp_15_15_12_10.json", "golden_mlp_15_10.json"}) {
		SCOPED_TRACE(name);
		GoldenCase g = load_golden_case(name);
		MlpBatch batch(g.model, g.rows);
		std::vector<float> logits(g.rows), grad(g.model.param_count());
		Batch b{g.x.data(), g.model.inputs(), g.y.data(), nullptr, g.rows, g.class_weight};
		batch.forward(g.model, b, logits.data());
		expect_close(logits, g.j["logits"].get<std::vector<double>>(), "logits");
		const BatchStats s = batch.forward_backward(g.model, b, grad);
		// torch's loss includes the L2 term; ours adds it the same way.
		const double loss = s.loss_sum / g.rows + g.l2 * g.model.weight_square_sum();
		EXPECT_NEAR(loss, g.j["loss"].get<double>(), kGoldenRelTol * g.j["loss"].get<double>());
		add_l2_gradient(g.model, g.l2, grad);
		expect_close(grad, g.j["grad"].get<std::vector<double>>(), "grad");
	}
}

}  // namespace
}  // namespace kmlb
