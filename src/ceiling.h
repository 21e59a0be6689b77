// The best accuracy any model can reach on a data set: rows whose feature
// vectors are identical but whose labels differ cannot all be right, so the
// ceiling is the share of rows that agree with the majority label of their
// feature vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataset.h"

namespace kmlb {

struct LabelCeiling {
	size_t rows = 0;
	size_t distinct_inputs = 0;
	size_t conflicting_inputs = 0;  // feature vectors seen with both labels
	size_t conflicting_rows = 0;    // rows carrying such a vector
	size_t best_correct = 0;        // rows a perfect model gets right

	double accuracy() const { return rows ? static_cast<double>(best_correct) / rows : 1.0; }
};

// Over the given rows (all when empty).
LabelCeiling label_ceiling(const Dataset &d, const std::vector<uint32_t> &rows = {});

// The same with src_load and dst_load set aside: the kernel never reads them,
// and their many distinct values make almost every real vector unique, so
// the plain ceiling says 100 % while a model can only separate such rows by
// memorising loads. This is the ceiling of what the kernel's inputs among the
// features can explain.
LabelCeiling label_ceiling_without_loads(const Dataset &d, const std::vector<uint32_t> &rows = {});

}  // namespace kmlb
