// kmlb's random numbers, specified bit for bit so that a --seed gives the same
// data sets and models with any standard library (std::*_distribution output
// is implementation-defined).
//
//   seeding:   SplitMix64(seed) fills the four state words of xoshiro256**.
//   uniform:   the top 53 bits of next() scaled by 2^-53, in [0, 1).
//   below(n):  (next() * n) >> 64 with 128-bit product (Lemire, no rejection).
//   normal:    Box-Muller, one draw per call: sqrt(-2 ln(1-u1)) cos(2 pi u2).
//   exponential(mean): -mean * ln(1 - u).
//   split(k):  an independent stream: SplitMix64 of (state0 ^ k * golden).
#pragma once

#include <cstdint>

namespace kmlb {

class Rng {
public:
	explicit Rng(uint64_t seed);

	uint64_t next();
	double uniform();
	uint64_t below(uint64_t n);
	// Uniform integer in [lo, hi], both inclusive.
	int64_t between(int64_t lo, int64_t hi);
	bool bernoulli(double p) { return uniform() < p; }
	double normal(double mean, double stddev);
	double exponential(double mean);
	Rng split(uint64_t stream) const;

private:
	uint64_t s_[4];
};

}  // namespace kmlb
