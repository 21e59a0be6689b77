#include "csv.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "exit_codes.h"

namespace kmlb {

CsvReader::CsvReader(std::string_view text, std::string file)
	: text_(text), file_(std::move(file))
{
	if (text_.starts_with("\xEF\xBB\xBF"))
		pos_ = 3;  // a UTF-8 byte order mark (spreadsheets write one)
	if (text_.size() == pos_)
		throw Error(ExitCode::kBadData, fmt::format("{}: empty file (expected a header line)", file_));
	if (!split_line(header_))
		throw Error(ExitCode::kBadData, fmt::format("{}: empty file (expected a header line)", file_));
	header_offsets_ = field_offsets_;
	for (size_t c = 0; c < header_.size(); ++c)
		if (header_[c].empty())
			fail(c, "empty column name in header");
}

bool CsvReader::split_line(std::vector<std::string_view> &out)
{
	if (pos_ >= text_.size())
		return false;
	++line_;
	const size_t end = text_.find('\n', pos_);
	if (end == std::string_view::npos) {
		pos_ = text_.size();
		fail_line("truncated last line (no line end): the file was cut short");
	}
	std::string_view line = text_.substr(pos_, end - pos_);
	pos_ = end + 1;
	if (!line.empty() && line.back() == '\r')
		line.remove_suffix(1);
	if (line.empty())
		fail_line("empty line");
	out.clear();
	field_offsets_.clear();
	size_t start = 0;
	for (;;) {
		const size_t comma = line.find(',', start);
		field_offsets_.push_back(start + 1);
		if (comma == std::string_view::npos) {
			out.push_back(line.substr(start));
			break;
		}
		out.push_back(line.substr(start, comma - start));
		start = comma + 1;
	}
	return true;
}

void CsvReader::expect_header(std::span<const std::string_view> expected, std::string_view hint) const
{
	const std::string tail = hint.empty() ? std::string() : fmt::format(" ({})", hint);
	const size_t n = std::min(expected.size(), header_.size());
	for (size_t c = 0; c < n; ++c)
		if (header_[c] != expected[c])
			throw Error(ExitCode::kBadData,
				    fmt::format("{}:1:{}: header column {} is '{}', expected '{}'{}", file_,
						header_offsets_[c], c + 1, printable(header_[c]), expected[c], tail));
	if (header_.size() < expected.size())
		throw Error(ExitCode::kBadData,
			    fmt::format("{}:1: header has {} columns, expected {}: missing '{}'{}", file_,
					header_.size(), expected.size(), expected[header_.size()], tail));
	if (header_.size() > expected.size())
		throw Error(ExitCode::kBadData,
			    fmt::format("{}:1:{}: header has {} columns, expected {}: extra column '{}'{}", file_,
					header_offsets_[expected.size()], header_.size(), expected.size(),
					printable(header_[expected.size()]), tail));
}

bool CsvReader::next_row()
{
	if (!split_line(fields_))
		return false;
	if (fields_.size() != header_.size())
		fail_line(fmt::format("{} fields, expected {}", fields_.size(), header_.size()));
	return true;
}

int64_t CsvReader::int_field(size_t column) const
{
	const std::string_view f = fields_[column];
	int64_t value = 0;
	const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
	if (f.empty())
		fail(column, "empty field, expected an integer");
	if (ec == std::errc::result_out_of_range)
		fail(column, fmt::format("'{}' is out of the 64-bit integer range", printable(f)));
	if (ec != std::errc() || end != f.data() + f.size())
		fail(column, fmt::format("'{}' is not an integer", printable(f)));
	return value;
}

float CsvReader::float_field(size_t column) const
{
	const std::string_view f = fields_[column];
	if (f.empty())
		fail(column, "empty field, expected a number");
	float value = 0;
	const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
	if (ec == std::errc::result_out_of_range)
		fail(column, fmt::format("'{}' is out of the float range", printable(f)));
	if (ec != std::errc() || end != f.data() + f.size())
		fail(column, fmt::format("'{}' is not a number", printable(f)));
	if (!std::isfinite(value))
		fail(column, fmt::format("'{}' is not finite (NaN and infinities are not allowed)", printable(f)));
	return value;
}

void CsvReader::fail(size_t column, std::string_view what) const
{
	const std::string name = column < header_.size() ? printable(header_[column]) : std::string("?");
	const size_t char_col = column < field_offsets_.size() ? field_offsets_[column] : 1;
	throw Error(ExitCode::kBadData,
		    fmt::format("{}:{}:{}: field '{}': {}", file_, line_, char_col, name, what));
}

void CsvReader::fail_line(std::string_view what) const
{
	throw Error(ExitCode::kBadData, fmt::format("{}:{}: {}", file_, line_, what));
}

std::string printable(std::string_view bytes, size_t max)
{
	std::string out;
	for (size_t i = 0; i < bytes.size(); ++i) {
		if (i == max) {
			out += "...";
			break;
		}
		const unsigned char c = static_cast<unsigned char>(bytes[i]);
		if (c >= 0x20 && c < 0x7f)
			out.push_back(static_cast<char>(c));
		else
			out += fmt::format("\\x{:02x}", c);
	}
	return out;
}

void append_csv_line(std::string &out, std::span<const std::string_view> fields)
{
	for (size_t i = 0; i < fields.size(); ++i) {
		if (i)
			out.push_back(',');
		out.append(fields[i]);
	}
	out.push_back('\n');
}

}  // namespace kmlb
