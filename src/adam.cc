#include "adam.h"

#include <cassert>
#include <cmath>

namespace kmlb {

Adam::Adam(size_t param_count, AdamConfig config)
	: config_(config), m_(param_count, 0.0f), v_(param_count, 0.0f)
{
}

void Adam::step(std::span<float> params, std::span<const float> grad)
{
	assert(params.size() == m_.size() && grad.size() == m_.size());
	++t_;
	const double t = static_cast<double>(t_);
	// The bias corrections fold into one step size, computed in double and
	// rounded once (tools/torch_golden.py does the same).
	const float lr_t = static_cast<float>(
		config_.learning_rate * std::sqrt(1.0 - std::pow(static_cast<double>(config_.beta2), t)) /
		(1.0 - std::pow(static_cast<double>(config_.beta1), t)));
	const float b1 = config_.beta1, b2 = config_.beta2, eps = config_.epsilon;
	const float one_minus_b1 = 1.0f - b1, one_minus_b2 = 1.0f - b2;
	float *p = params.data();
	float *m = m_.data();
	float *v = v_.data();
	const float *g = grad.data();
	for (size_t k = 0; k < m_.size(); ++k) {
		m[k] = b1 * m[k] + one_minus_b1 * g[k];
		v[k] = b2 * v[k] + one_minus_b2 * (g[k] * g[k]);
		p[k] -= lr_t * m[k] / (std::sqrt(v[k]) + eps);
	}
}

}  // namespace kmlb
