// Stratified splits of a labelled data set: a hold-out test set and K folds
// for cross-validation, each keeping the class shares of the whole (to within
// one row per class). Shuffled with kmlb::Rng, so a seed names a split.
//
// Row lists are returned sorted ascending; the trainer shuffles per epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kmlb {

class Rng;

struct HoldoutSplit {
	std::vector<uint32_t> train;
	std::vector<uint32_t> test;
};

// round(test_fraction * n) rows go to test; each class gives its share
// (floor of n_c * test_fraction, the remainder going to the classes with the
// largest fractional parts, ties to class 0).
HoldoutSplit stratified_holdout(std::span<const uint8_t> labels, double test_fraction, Rng &rng);

struct Fold {
	std::vector<uint32_t> train;
	std::vector<uint32_t> validation;
};

// K stratified folds over `rows` (indices into labels): every row is in
// exactly one validation set; fold sizes differ by at most one row and each
// class is dealt round-robin (continuing across classes) after a shuffle.
std::vector<Fold> stratified_kfold(std::span<const uint8_t> labels, std::span<const uint32_t> rows,
				   size_t k, Rng &rng);

// In-place Fisher-Yates shuffle driven by rng.below().
void shuffle_rows(std::span<uint32_t> rows, Rng &rng);

}  // namespace kmlb
