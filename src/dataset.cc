#include "dataset.h"

#include <charconv>
#include <fmt/format.h>

#include "atomic_file.h"
#include "csv.h"
#include "fixed_features.h"
#include "exit_codes.h"

namespace kmlb {

std::string Dataset::to_csv() const
{
	std::string out;
	out.reserve(rows * cols * 6 + 256);
	const auto names = feature_names(feature_set);
	for (const auto &name : names)
		out.append(name).push_back(',');
	out.append(kLabelName).push_back('\n');
	char buf[32];
	for (size_t i = 0; i < rows; ++i) {
		const float *r = row(i);
		for (size_t c = 0; c < cols; ++c) {
			// Shortest representation that reads back to the same float.
			const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, r[c]);
			out.append(buf, end).push_back(',');
		}
		out.push_back(static_cast<char>('0' + y[i]));
		out.push_back('\n');
	}
	return out;
}

std::string Dataset::content_hash() const { return fnv1a64_hex(to_csv()); }

Dataset parse_features_csv(const std::string &text, const std::string &name)
{
	CsvReader csv(text, name);
	const size_t ncols = csv.header().size();
	const FeatureSet set = ncols == feature_count(FeatureSet::kModern) + 1 ? FeatureSet::kModern
										: FeatureSet::kSeed;
	std::vector<std::string_view> expected(feature_names(set).begin(), feature_names(set).end());
	expected.push_back(kLabelName);
	csv.expect_header(expected, !csv.header().empty() && csv.header()[0] == "ts"
					    ? "this is a raw trace: make features of it with kmlb prep --in FILE --out features.csv"
					    : "");
	const std::span<const FeatureRange> ranges = feature_ranges(set);

	Dataset d;
	d.feature_set = set;
	d.cols = feature_count(set);
	d.x.reserve(text.size() / 3);
	while (csv.next_row()) {
		for (size_t c = 0; c < d.cols; ++c) {
			const float v = csv.float_field(c);
			if (feature_is_binary(c) && v != 0.0f && v != 1.0f)
				csv.fail(c, fmt::format("{} is not a 0/1 flag", csv.fields()[c]));
			// Below a feature's least value, or above the bound of a
			// ratio, no raw row can lead (counts and loads have no upper
			// bound in float; only the fixed-point path saturates them).
			const FeatureRange &r = ranges[c];
			if (v < static_cast<float>(r.min) || (r.max <= 1 && v > static_cast<float>(r.max)))
				csv.fail(c, r.max <= 1 ? fmt::format("{} is outside [{}, {}]", csv.fields()[c], r.min, r.max)
						       : fmt::format("{} is below {}, the least value prep gives",
								     csv.fields()[c], r.min));
			d.x.push_back(v);
		}
		const int64_t label = csv.int_field(d.cols);
		if (label != 0 && label != 1)
			csv.fail(d.cols, fmt::format("{} is not a label (0 or 1)", label));
		d.y.push_back(static_cast<uint8_t>(label));
	}
	d.rows = d.y.size();
	return d;
}

Dataset read_features_csv(const std::string &path)
{
	return parse_features_csv(read_file(path), path);
}

}  // namespace kmlb
