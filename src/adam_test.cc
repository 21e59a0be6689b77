#include "adam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mlp.h"

namespace kmlb {
namespace {

// torch's float32 ops and ours round differently in places (the BCE
// gradient, the L2 term); after a few Adam steps that stays far below this.
constexpr double kGoldenRelTol = 1e-5;
constexpr double kGoldenAbsTol = 1e-7;

TEST(Adam, FirstStepMovesEachParameterByTheLearningRate)
{
	// t = 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr * sqrt(0.001) / 0.1, so the
	// step is lr * g / (|g| + eps / sqrt(0.001)): about lr * sign(g).
	Adam adam(3, {});
	std::vector<float> p = {1.0f, 1.0f, 1.0f};
	const std::vector<float> g = {0.5f, -2.0f, 0.0f};
	adam.step(p, g);
	EXPECT_NEAR(p[0], 1.0f - 1e-3f, 1e-6);
	EXPECT_NEAR(p[1], 1.0f + 1e-3f, 1e-6);
	EXPECT_EQ(p[2], 1.0f);
	EXPECT_EQ(adam.steps(), 1u);
}

// Keras adds epsilon to sqrt(v) before the bias correction, torch after it:
// with a tiny gradient the two differ, and ours must be Keras'.
TEST(Adam, EpsilonIsKerasEpsilonHat)
{
	const float g = 1e-6f;
	Adam adam(1, {});
	std::vector<float> p = {0.0f};
	adam.step(p, std::vector<float>{g});
	const double m = 0.1 * g, v = 0.001 * double(g) * g;
	const double lr_t = 1e-3 * std::sqrt(1 - 0.999) / (1 - 0.9);
	const double keras = -lr_t * m / (std::sqrt(v) + 1e-7);
	const double torch = -1e-3 * (m / 0.1) / (std::sqrt(v / 0.001) + 1e-7);
	EXPECT_NEAR(p[0], keras, 1e-4 * std::abs(keras));
	EXPECT_GT(std::abs(keras - torch), 1e-2 * std::abs(keras));  // the test can tell them apart
}

TEST(Adam, LearningRateCanBeChangedKeepingMoments)
{
	Adam adam(1, {});
	std::vector<float> p = {0.0f};
	adam.step(p, std::vector<float>{1.0f});
	adam.set_learning_rate(0.0f);
	const float before = p[0];
	adam.step(p, std::vector<float>{1.0f});
	EXPECT_EQ(p[0], before);
	EXPECT_EQ(adam.steps(), 2u);
}

nlohmann::json load_fixture(const std::string &name)
{
	std::ifstream in(std::string(KMLB_TEST_DATA_DIR) + "/" + name);
	EXPECT_TRUE(in) << "missing fixture " << name << " (tools/torch_golden.py writes it)";
	std::stringstream ss;
	ss << in.rdbuf();
	return nlohmann::json::parse(ss.str());
}

// tools/torch_golden.py: 5 Keras-Adam steps with L2 0.001 and balanced class
// weights on one batch of 10, from a fixed model.
TEST(AdamGolden, FiveStepsMatchTorch)
{
	for (const char *name : {"golden_mlp_15_15_12_10.json", "golden_mlp_15_10.json"}) {
		SCOPED_TRACE(name);
		const nlohmann::json j = load_fixture(name);
		Mlp m(j["inputs"].get<size_t>(), j["hidden"].get<std::vector<size_t>>());
		const auto params = j["params"].get<std::vector<float>>();
		ASSERT_EQ(params.size(), m.param_count());
		std::copy(params.begin(), params.end(), m.params().begin());
		const auto x = j["x"].get<std::vector<float>>();
		const auto y = j["y"].get<std::vector<uint8_t>>();
		const float class_weight[2] = {j["class_weight"][0].get<float>(),
					       j["class_weight"][1].get<float>()};
		const float l2 = j["l2"].get<float>();
		AdamConfig config;
		config.learning_rate = j["adam"]["learning_rate"].get<float>();
		config.beta1 = j["adam"]["beta1"].get<float>();
		config.beta2 = j["adam"]["beta2"].get<float>();
		config.epsilon = j["adam"]["epsilon"].get<float>();
		Adam adam(m.param_count(), config);
		MlpBatch batch(m, y.size());
		std::vector<float> grad(m.param_count());
		Batch b{x.data(), m.inputs(), y.data(), nullptr, y.size(), class_weight};

		const size_t steps = j["adam_steps"].get<size_t>();
		for (size_t t = 1; t <= steps; ++t) {
			batch.forward_backward(m, b, grad);
			add_l2_gradient(m, l2, grad);
			adam.step(m.params(), grad);
			const std::string key = "params_after_adam_step_" + std::to_string(t);
			if (!j.contains(key))
				continue;
			const auto want = j[key].get<std::vector<double>>();
			ASSERT_EQ(want.size(), m.param_count());
			for (size_t k = 0; k < want.size(); ++k)
				EXPECT_NEAR(m.params()[k], want[k],
					    kGoldenAbsTol + kGoldenRelTol * std::abs(want[k]))
					<< "step " << t << " param " << k;
		}
	}
}

}  // namespace
}  // namespace kmlb
