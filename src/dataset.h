// A feature data set in memory and its CSV form: exact snake_case header (the
// feature set's columns, then can_migrate), one row per decision, C locale,
// floats in shortest round-trip form. Every row is validated on reading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "feature_set.h"

namespace kmlb {

struct Dataset {
	FeatureSet feature_set = FeatureSet::kSeed;
	size_t rows = 0;
	size_t cols = 0;           // feature_count(feature_set)
	std::vector<float> x;      // rows * cols, row-major
	std::vector<uint8_t> y;    // rows labels, 0 or 1

	const float *row(size_t i) const { return x.data() + i * cols; }
	// Hex FNV-1a 64 of the CSV bytes that hold this data set (also what a
	// model file records as the hash of its training data).
	std::string content_hash() const;
	// CSV text of the data set; write it with write_file_atomic().
	std::string to_csv() const;
};

// Reads and validates a features CSV; the header picks the feature set.
// Throws Error(kNoInput) for a missing file, Error(kBadData) naming
// file:line:column and the field for anything malformed.
Dataset read_features_csv(const std::string &path);
Dataset parse_features_csv(const std::string &text, const std::string &name);

}  // namespace kmlb
