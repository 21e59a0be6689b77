// The raw trace schema: one column per KernelState field, with its range and
// meaning. Two headers are accepted on input: the full kmlb schema (57
// columns) and the seed report's Appendix A1 record alone (the first 30),
// which carries enough for the `seed` features but not for the teacher.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel_state.h"

namespace kmlb {

struct RawColumn {
	std::string_view name;
	int64_t KernelState::*field;
	int64_t min, max;  // inclusive range a valid row may hold
	std::string_view meaning;
};

std::span<const RawColumn> raw_columns();
inline constexpr int kA1Columns = 30;
std::span<const std::string_view> raw_column_names();  // all 57

struct RawTrace {
	std::vector<KernelState> rows;
	bool full_schema = true;  // false: A1 columns only, the rest defaulted
	std::string file;
	// Line number in the file of each row (for messages).
	size_t first_data_line = 2;
};

// Reads and validates a raw CSV: ranges per column and the identities the
// schema guarantees (exactly one idle type, same_node from the node ids,
// buddy_hot = next || last, test_aggressive from the hard checks, ...).
RawTrace read_raw_csv(const std::string &path);
RawTrace parse_raw_csv(std::string_view text, const std::string &file);

// Why a row breaks the schema's identities, or empty. Used by the reader
// and by the generator's self-checks.
std::string raw_consistency_error(const KernelState &s, bool full_schema);

// Fills the A1 columns that are functions of kmlb's columns (same_node,
// prefer_*, delta_faults, buddy_hot, test_aggressive).
void derive_a1_columns(KernelState &s);

void append_raw_header(std::string &out);
void append_raw_row(std::string &out, const KernelState &s);

}  // namespace kmlb
