#include "rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kmlb {
namespace {

// The stream is part of kmlb's file formats: data sets and models depend on
// it. These values pin it (xoshiro256** seeded by SplitMix64(0)).
TEST(Rng, StreamIsPinned)
{
	Rng rng(0);
	EXPECT_EQ(rng.next(), 0x99ec5f36cb75f2b4ULL);
	EXPECT_EQ(rng.next(), 0xbf6e1f784956452aULL);
	EXPECT_EQ(rng.next(), 0x1a5f849d4933e6e0ULL);
}

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream)
{
	Rng a(42), b(42), c(43);
	for (int i = 0; i < 100; ++i) {
		const uint64_t x = a.next();
		EXPECT_EQ(x, b.next());
		EXPECT_NE(x, c.next());
	}
}

TEST(Rng, BetweenIsInclusiveAndCoversRange)
{
	Rng rng(7);
	int seen[5] = {};
	for (int i = 0; i < 10000; ++i) {
		const int64_t v = rng.between(-2, 2);
		ASSERT_GE(v, -2);
		ASSERT_LE(v, 2);
		++seen[v + 2];
	}
	for (int count : seen)
		EXPECT_GT(count, 1800);
}

TEST(Rng, DistributionMoments)
{
	Rng rng(1);
	const int n = 200000;
	double sum = 0, sum2 = 0, esum = 0, usum = 0;
	for (int i = 0; i < n; ++i) {
		const double z = rng.normal(1.0, 3.0);
		sum += z;
		sum2 += z * z;
		esum += rng.exponential(2.0);
		usum += rng.uniform();
	}
	const double mean = sum / n;
	EXPECT_NEAR(mean, 1.0, 0.03);
	EXPECT_NEAR(std::sqrt(sum2 / n - mean * mean), 3.0, 0.03);
	EXPECT_NEAR(esum / n, 2.0, 0.03);
	EXPECT_NEAR(usum / n, 0.5, 0.005);
}

TEST(Rng, SplitStreamsAreIndependentAndDeterministic)
{
	const Rng root(5);
	Rng a = root.split(1), b = root.split(1), c = root.split(2);
	EXPECT_EQ(a.next(), b.next());
	EXPECT_NE(a.next(), c.next());
}

}  // namespace
}  // namespace kmlb
