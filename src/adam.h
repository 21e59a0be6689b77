// Adam with Keras' semantics (tf.keras.optimizers.Adam, the seed report's
// optimizer), not torch's:
//
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   p -= lr_t * m / (sqrt(v) + epsilon)
//
// Keras adds epsilon to sqrt(v) before bias correction ("epsilon hat" of
// Kingma & Ba); torch.optim.Adam adds it to sqrt(v / (1 - beta2^t)), so the
// two differ while v is small. Defaults are Keras': lr 1e-3, beta1 0.9,
// beta2 0.999, epsilon 1e-7. L2 is not decoupled weight decay: the trainer
// adds 2 * l2 * w to the gradient (a loss term, as Keras' kernel_regularizer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kmlb {

struct AdamConfig {
	float learning_rate = 1e-3f;
	float beta1 = 0.9f;
	float beta2 = 0.999f;
	float epsilon = 1e-7f;
};

class Adam {
public:
	Adam(size_t param_count, AdamConfig config);

	// One update of params by grad (both param_count floats).
	void step(std::span<float> params, std::span<const float> grad);

	uint64_t steps() const { return t_; }
	float learning_rate() const { return config_.learning_rate; }
	// For schedules and plateau drops; moments and step count are kept.
	void set_learning_rate(float lr) { config_.learning_rate = lr; }
	const AdamConfig &config() const { return config_; }

private:
	AdamConfig config_;
	uint64_t t_ = 0;
	std::vector<float> m_, v_;
};

}  // namespace kmlb
