#include "split.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "exit_codes.h"
#include "rng.h"

namespace kmlb {

void shuffle_rows(std::span<uint32_t> rows, Rng &rng)
{
	for (size_t i = rows.size(); i > 1; --i)
		std::swap(rows[i - 1], rows[rng.below(i)]);
}

HoldoutSplit stratified_holdout(std::span<const uint8_t> labels, double test_fraction, Rng &rng)
{
	if (!(test_fraction > 0.0 && test_fraction < 1.0))
		throw Error(ExitCode::kUsage, "test fraction must be in (0, 1)");
	std::array<std::vector<uint32_t>, 2> by_class;
	for (size_t i = 0; i < labels.size(); ++i)
		by_class[labels[i] ? 1 : 0].push_back(static_cast<uint32_t>(i));

	const size_t total_test = static_cast<size_t>(std::llround(test_fraction * labels.size()));
	std::array<size_t, 2> take{};
	std::array<double, 2> frac{};
	size_t taken = 0;
	for (int c = 0; c < 2; ++c) {
		const double exact = test_fraction * by_class[c].size();
		take[c] = static_cast<size_t>(std::floor(exact));
		frac[c] = exact - take[c];
		taken += take[c];
	}
	// Hand out the rounding remainder (0, 1 or 2 rows) by largest fraction.
	while (taken < total_test) {
		const int c = frac[1] > frac[0] ? 1 : 0;
		++take[c];
		frac[c] = -1.0;
		++taken;
	}

	HoldoutSplit split;
	for (int c = 0; c < 2; ++c) {
		shuffle_rows(by_class[c], rng);
		const auto mid = by_class[c].begin() + std::min(take[c], by_class[c].size());
		split.test.insert(split.test.end(), by_class[c].begin(), mid);
		split.train.insert(split.train.end(), mid, by_class[c].end());
	}
	std::sort(split.test.begin(), split.test.end());
	std::sort(split.train.begin(), split.train.end());
	return split;
}

std::vector<Fold> stratified_kfold(std::span<const uint8_t> labels, std::span<const uint32_t> rows,
				   size_t k, Rng &rng)
{
	if (k < 2)
		throw Error(ExitCode::kUsage, "cross-validation needs at least 2 folds");
	std::array<std::vector<uint32_t>, 2> by_class;
	for (uint32_t r : rows)
		by_class[labels[r] ? 1 : 0].push_back(r);

	std::vector<std::vector<uint32_t>> members(k);
	size_t next = 0;
	for (auto &cls : by_class) {
		shuffle_rows(cls, rng);
		for (uint32_t r : cls) {
			members[next].push_back(r);
			next = (next + 1) % k;
		}
	}

	std::vector<Fold> folds(k);
	for (size_t f = 0; f < k; ++f) {
		folds[f].validation = members[f];
		for (size_t g = 0; g < k; ++g)
			if (g != f)
				folds[f].train.insert(folds[f].train.end(), members[g].begin(),
						      members[g].end());
		std::sort(folds[f].validation.begin(), folds[f].validation.end());
		std::sort(folds[f].train.begin(), folds[f].train.end());
	}
	return folds;
}

}  // namespace kmlb
