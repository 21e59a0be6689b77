#include "split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "exit_codes.h"
#include "rng.h"

namespace kmlb {
namespace {

// The seed's shape: 86,400 rows, about 18 % class 0.
std::vector<uint8_t> labels(size_t n, double share_of_ones, uint64_t seed)
{
	Rng rng(seed);
	std::vector<uint8_t> y(n);
	for (auto &v : y)
		v = rng.bernoulli(share_of_ones) ? 1 : 0;
	return y;
}

size_t ones(const std::vector<uint8_t> &y, const std::vector<uint32_t> &rows)
{
	size_t n = 0;
	for (uint32_t r : rows)
		n += y[r];
	return n;
}

TEST(Split, HoldoutTakesExactlyAQuarterWithTheClassShares)
{
	const auto y = labels(86400, 0.82, 1);
	Rng rng(2);
	const HoldoutSplit s = stratified_holdout(y, 0.25, rng);
	EXPECT_EQ(s.test.size(), 21600u);
	EXPECT_EQ(s.train.size(), 64800u);
	const size_t all_ones = std::count(y.begin(), y.end(), 1);
	// Each class gives a quarter of its rows, to within one row.
	EXPECT_NEAR(static_cast<double>(ones(y, s.test)), all_ones * 0.25, 1.0);
	std::vector<uint32_t> all = s.test;
	all.insert(all.end(), s.train.begin(), s.train.end());
	std::sort(all.begin(), all.end());
	for (size_t i = 0; i < all.size(); ++i)
		ASSERT_EQ(all[i], i);  // a partition
	EXPECT_TRUE(std::is_sorted(s.test.begin(), s.test.end()));
}

TEST(Split, HoldoutIsSeededAndDependsOnTheSeed)
{
	const auto y = labels(1000, 0.8, 3);
	Rng a(5), b(5), c(6);
	EXPECT_EQ(stratified_holdout(y, 0.25, a).test, stratified_holdout(y, 0.25, b).test);
	Rng d(5);
	EXPECT_NE(stratified_holdout(y, 0.25, d).test, stratified_holdout(y, 0.25, c).test);
}

TEST(Split, HoldoutRoundsTheRemainderToTheLargerFraction)
{
	// 3 zeros and 5 ones, 25 %: 2 test rows (0.75 + 1.25 -> 0 + 1, one more
	// to the zeros, whose fraction .75 is larger).
	const std::vector<uint8_t> y = {0, 0, 0, 1, 1, 1, 1, 1};
	Rng rng(1);
	const HoldoutSplit s = stratified_holdout(y, 0.25, rng);
	ASSERT_EQ(s.test.size(), 2u);
	EXPECT_EQ(ones(y, s.test), 1u);
}

TEST(Split, KFoldPartitionsTheRowsAndKeepsClassSharesPerFold)
{
	const auto y = labels(64800, 0.82, 4);
	std::vector<uint32_t> rows(y.size());
	std::iota(rows.begin(), rows.end(), 0);
	Rng rng(7);
	const auto folds = stratified_kfold(y, rows, 3, rng);
	ASSERT_EQ(folds.size(), 3u);
	const size_t all_ones = std::count(y.begin(), y.end(), 1);
	std::set<uint32_t> seen;
	for (const Fold &f : folds) {
		EXPECT_EQ(f.validation.size() + f.train.size(), y.size());
		EXPECT_NEAR(static_cast<double>(f.validation.size()), y.size() / 3.0, 1.0);
		// Class shares per fold: within one row of a third of each class.
		EXPECT_NEAR(static_cast<double>(ones(y, f.validation)), all_ones / 3.0, 1.0);
		EXPECT_NEAR(static_cast<double>(ones(y, f.train)), all_ones * 2.0 / 3.0, 1.0);
		std::set<uint32_t> train(f.train.begin(), f.train.end());
		for (uint32_t r : f.validation) {
			EXPECT_FALSE(train.count(r));
			EXPECT_TRUE(seen.insert(r).second) << "row " << r << " validated twice";
		}
	}
	EXPECT_EQ(seen.size(), y.size());
}

TEST(Split, KFoldUsesOnlyTheGivenRows)
{
	const auto y = labels(100, 0.5, 8);
	const std::vector<uint32_t> rows = {1, 5, 9, 20, 33, 47, 50, 51, 70, 99};
	Rng rng(9);
	for (const Fold &f : stratified_kfold(y, rows, 2, rng))
		for (uint32_t r : f.validation)
			EXPECT_TRUE(std::count(rows.begin(), rows.end(), r));
}

TEST(Split, BadArgumentsAreUsageErrors)
{
	const std::vector<uint8_t> y = {0, 1, 0, 1};
	const std::vector<uint32_t> rows = {0, 1, 2, 3};
	Rng rng(1);
	EXPECT_THROW(stratified_holdout(y, 0.0, rng), Error);
	EXPECT_THROW(stratified_holdout(y, 1.0, rng), Error);
	EXPECT_THROW(stratified_kfold(y, rows, 1, rng), Error);
}

TEST(Split, ShuffleIsAPermutation)
{
	std::vector<uint32_t> v(1000);
	std::iota(v.begin(), v.end(), 0);
	Rng rng(10);
	shuffle_rows(v, rng);
	std::vector<uint32_t> sorted = v;
	std::sort(sorted.begin(), sorted.end());
	for (size_t i = 0; i < sorted.size(); ++i)
		ASSERT_EQ(sorted[i], i);
	EXPECT_NE(v, sorted);
}

}  // namespace
}  // namespace kmlb
