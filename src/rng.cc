#include "rng.h"

#include <cmath>
#include <numbers>

namespace kmlb {

namespace {

uint64_t splitmix64(uint64_t &x)
{
	uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed)
{
	for (auto &word : s_)
		word = splitmix64(seed);
}

uint64_t Rng::next()
{
	const uint64_t result = rotl(s_[1] * 5, 7) * 9;
	const uint64_t t = s_[1] << 17;
	s_[2] ^= s_[0];
	s_[3] ^= s_[1];
	s_[1] ^= s_[2];
	s_[0] ^= s_[3];
	s_[2] ^= t;
	s_[3] = rotl(s_[3], 45);
	return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n)
{
	__extension__ using u128 = unsigned __int128;
	return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
}

int64_t Rng::between(int64_t lo, int64_t hi)
{
	return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
}

double Rng::normal(double mean, double stddev)
{
	const double u1 = uniform();
	const double u2 = uniform();
	return mean + stddev * std::sqrt(-2.0 * std::log1p(-u1)) *
			      std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::exponential(double mean) { return -mean * std::log1p(-uniform()); }

Rng Rng::split(uint64_t stream) const
{
	return Rng(s_[0] ^ (stream * 0x9e3779b97f4a7c15ULL));
}

}  // namespace kmlb
