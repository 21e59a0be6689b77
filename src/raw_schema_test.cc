#include "raw_schema.h"

#include <cstring>
#include <gtest/gtest.h>

#include "exit_codes.h"
#include "generator.h"

namespace kmlb {
namespace {

std::string header() { std::string h; append_raw_header(h); return h; }

std::string valid_row()
{
	KernelState s;
	s.cpu_not_idle = 1;
	s.src_len = 3;
	s.src_preferred_len = 1;
	s.dst_cpu = 1;
	s.can_migrate = 1;
	derive_a1_columns(s);
	std::string r;
	append_raw_row(r, s);
	return r;
}

// Replaces field `col` (0-based) of a CSV line.
std::string with_field(std::string line, size_t col, const std::string &value)
{
	size_t start = 0;
	for (size_t i = 0; i < col; ++i)
		start = line.find(',', start) + 1;
	size_t end = line.find_first_of(",\n", start);
	return line.replace(start, end - start, value);
}

ExitCode code_of(const std::string &text, std::string *message = nullptr)
{
	try {
		parse_raw_csv(text, "t.csv");
	} catch (const Error &e) {
		if (message)
			*message = e.what();
		return e.code();
	}
	return ExitCode::kOk;
}

TEST(RawSchema, ColumnsMatchTheStructAndTheReport)
{
	ASSERT_EQ(raw_columns().size(), static_cast<size_t>(kRawColumns));
	EXPECT_EQ(raw_columns()[0].name, "ts");
	EXPECT_EQ(raw_columns()[kA1Columns - 1].name, "pc_1");
	EXPECT_EQ(raw_columns()[kA1Columns].name, "per_cpu_kthread");
	// Member pointers are in declaration order: column i is field i.
	KernelState s;
	auto *base = reinterpret_cast<int64_t *>(&s);
	for (int i = 0; i < kRawColumns; ++i)
		EXPECT_EQ(&(s.*raw_columns()[i].field), base + i) << raw_columns()[i].name;
}

TEST(RawSchema, RoundTripsGeneratedStates)
{
	GeneratorConfig cfg = preset_config(Preset::kOverloaded);
	cfg.rows = 2000;
	cfg.kernel = KernelVersion::k6_18;
	const auto gen = generate_states(cfg);
	std::string text = header();
	for (const auto &s : gen.states)
		append_raw_row(text, s);
	const RawTrace t = parse_raw_csv(text, "g.csv");
	ASSERT_EQ(t.rows.size(), gen.states.size());
	EXPECT_TRUE(t.full_schema);
	for (size_t i = 0; i < t.rows.size(); ++i)
		ASSERT_EQ(std::memcmp(&t.rows[i], &gen.states[i], sizeof(KernelState)), 0) << "row " << i;
}

TEST(RawSchema, AcceptsTheReportsA1ColumnsAlone)
{
	std::string h = header();
	std::string r = valid_row();
	auto cut = [](const std::string &line) {
		size_t pos = 0;
		for (int i = 0; i < kA1Columns; ++i)
			pos = line.find(',', pos) + 1;
		return line.substr(0, pos - 1) + "\n";
	};
	const RawTrace t = parse_raw_csv(cut(h) + cut(r), "a1.csv");
	EXPECT_FALSE(t.full_schema);
	ASSERT_EQ(t.rows.size(), 1u);
	EXPECT_EQ(t.rows[0].src_len, 3);
}

TEST(RawSchema, BadInputIsBadDataNamingFileLineAndField)
{
	const std::string h = header(), r = valid_row();
	std::string msg;
	EXPECT_EQ(code_of("", &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("empty file"), std::string::npos) << msg;

	// Missing column.
	EXPECT_EQ(code_of(h.substr(0, h.rfind(',')) + "\n", &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("missing 'current_donor'"), std::string::npos) << msg;
	// Extra column.
	EXPECT_EQ(code_of(h.substr(0, h.size() - 1) + ",extra\n" + r, &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("extra column 'extra'"), std::string::npos) << msg;
	// Misnamed column.
	EXPECT_EQ(code_of(with_field(h, 3, "srccpu") + r, &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("t.csv:1:"), std::string::npos) << msg;
	// Non-numeric.
	EXPECT_EQ(code_of(h + with_field(r, 6, "three"), &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("t.csv:2:"), std::string::npos) << msg;
	EXPECT_NE(msg.find("field 'src_len'"), std::string::npos) << msg;
	EXPECT_NE(msg.find("'three' is not an integer"), std::string::npos) << msg;
	// NaN, inf, fractional, empty.
	for (const char *bad : {"nan", "inf", "1.5", ""})
		EXPECT_EQ(code_of(h + with_field(r, 9, bad), &msg), ExitCode::kBadData) << bad;
	// Truncated last line (cut mid-row, no newline).
	EXPECT_EQ(code_of(h + r + r.substr(0, r.size() / 2), &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("t.csv:3: truncated last line"), std::string::npos) << msg;
	// Too few fields on a line.
	EXPECT_EQ(code_of(h + r.substr(0, r.rfind(',')) + "\n", &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("56 fields, expected 57"), std::string::npos) << msg;
	// Out-of-range binary flag.
	EXPECT_EQ(code_of(h + with_field(r, 24, "2"), &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("field 'throttled': 2 is out of range [0, 1]"), std::string::npos) << msg;
	// Broken identity: two idle types.
	EXPECT_EQ(code_of(h + with_field(r, 10, "1"), &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("exactly one"), std::string::npos) << msg;
	// Broken identity: same_node that contradicts the node ids.
	EXPECT_EQ(code_of(h + with_field(r, 13, "0"), &msg), ExitCode::kBadData);
	EXPECT_NE(msg.find("same_node is 0 but src_nid == dst_nid gives 1"), std::string::npos) << msg;
	// Valid file parses; CRLF line ends are accepted.
	EXPECT_EQ(code_of(h + r), ExitCode::kOk);
	std::string crlf = h.substr(0, h.size() - 1) + "\r\n" + r.substr(0, r.size() - 1) + "\r\n";
	EXPECT_EQ(code_of(crlf), ExitCode::kOk);
}

TEST(RawSchema, MissingFileIsNoInput)
{
	try {
		read_raw_csv("/nonexistent/raw.csv");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), ExitCode::kNoInput);
		EXPECT_NE(std::string(e.what()).find("/nonexistent/raw.csv"), std::string::npos);
	}
}

}  // namespace
}  // namespace kmlb
