#include "ceiling.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace kmlb {

LabelCeiling label_ceiling(const Dataset &d, const std::vector<uint32_t> &rows_in)
{
	std::vector<uint32_t> rows = rows_in;
	if (rows.empty() && d.rows) {
		rows.resize(d.rows);
		std::iota(rows.begin(), rows.end(), 0u);
	}
	// Sort row indices by their feature bytes so equal vectors are adjacent.
	const size_t bytes = d.cols * sizeof(float);
	std::sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
		const int c = std::memcmp(d.row(a), d.row(b), bytes);
		return c < 0 || (c == 0 && a < b);
	});
	LabelCeiling out;
	out.rows = rows.size();
	for (size_t i = 0; i < rows.size();) {
		size_t j = i, ones = 0;
		while (j < rows.size() && std::memcmp(d.row(rows[i]), d.row(rows[j]), bytes) == 0)
			ones += d.y[rows[j++]];
		const size_t n = j - i;
		++out.distinct_inputs;
		if (ones != 0 && ones != n) {
			++out.conflicting_inputs;
			out.conflicting_rows += n;
		}
		out.best_correct += std::max(ones, n - ones);
		i = j;
	}
	return out;
}

LabelCeiling label_ceiling_without_loads(const Dataset &d, const std::vector<uint32_t> &rows)
{
	Dataset projected = d;
	const auto names = feature_names(d.feature_set);
	for (size_t c = 0; c < d.cols; ++c) {
		if (names[c] != "src_load" && names[c] != "dst_load")
			continue;
		for (size_t i = 0; i < d.rows; ++i)
			projected.x[i * d.cols + c] = 0.0f;
	}
	return label_ceiling(projected, rows);
}

}  // namespace kmlb
