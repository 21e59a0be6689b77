// A strict reader for kmlb's numeric CSV files: comma-separated, no quoting,
// one header line, '\n' (or "\r\n") line ends, every line complete; a UTF-8
// byte order mark before the header is skipped. Any deviation throws
// Error(kBadData) naming file:line:column and the field, where the column is
// the 1-based byte column of the field in its line (header and data rows
// alike) and file bytes are shown escaped (printable()).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kmlb {

class CsvReader {
public:
	// `text` must outlive the reader; `file` names it in messages.
	CsvReader(std::string_view text, std::string file);

	// The header's column names. Fails on an empty file.
	const std::vector<std::string_view> &header() const { return header_; }
	// Checks that the header is exactly `expected`, naming the first column
	// that differs (missing, extra or misnamed).
	// `hint`, when not empty, is added to the message (what the file looks
	// like instead, and what to do).
	void expect_header(std::span<const std::string_view> expected, std::string_view hint = {}) const;

	// Splits the next line into fields; false at the end of the file.
	// Fails on a line with the wrong field count or without its '\n'.
	bool next_row();
	const std::vector<std::string_view> &fields() const { return fields_; }
	size_t line() const { return line_; }

	int64_t int_field(size_t column) const;
	// Finite only: NaN and infinities are rejected.
	float float_field(size_t column) const;

	[[noreturn]] void fail(size_t column, std::string_view what) const;
	[[noreturn]] void fail_line(std::string_view what) const;

private:
	std::string_view text_;
	std::string file_;
	size_t pos_ = 0;
	size_t line_ = 0;
	std::vector<std::string_view> header_;
	std::vector<std::string_view> fields_;
	std::vector<size_t> field_offsets_;  // 1-based byte column of each field
	std::vector<size_t> header_offsets_;

	bool split_line(std::vector<std::string_view> &out);
};

// Bytes of a file as they may appear in a message: printable ASCII as is,
// anything else (NUL, control bytes, non-ASCII) as \xNN, at most `max`
// bytes shown (then "...").
std::string printable(std::string_view bytes, size_t max = 64);

// Appends "a,b,c\n".
void append_csv_line(std::string &out, std::span<const std::string_view> fields);

}  // namespace kmlb
