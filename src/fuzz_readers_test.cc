// Seeded mutation fuzzing of everything kmlb reads from a user: the features
// and raw CSV readers and both model files. Each input of a small committed
// corpus (tests/data/fuzz/) is mutated (bytes flipped, inserted, deleted,
// duplicated, tokens such as 1e999, NUL, a BOM or a minus sign spliced in,
// cut short) and handed to every reader. Every outcome must be a result or
// an Error(kBadData) whose message is readable: no crash, no hang (a
// watchdog aborts an input that takes over 10 s), no raw library exception
// (std::*, json.exception) and no NUL or other unescaped byte in a message.
//
// The corpus was made with kmlb itself (--seed 5): the first 40 rows of
// `generate --preset seed --rows 3000`, 30 of `generate --preset balanced
// --features modern`, `generate --preset overloaded --format raw --rows 25`
// (and its first 30 columns, the report's A1 schema), `train --hidden 4,3
// --epochs 3` on the 3000 rows and `quantize` of that model.
//
// Bounded: KMLB_FUZZ_SECONDS (default 50) or KMLB_FUZZ_RUNS mutated inputs
// (default 1,000,000), whichever ends first; the seed is fixed (KMLB_FUZZ_SEED
// to change it), so a failure names the run that reproduces it.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <string>
#include <thread>
#include <vector>

#include "atomic_file.h"
#include "dataset.h"
#include "exit_codes.h"
#include "fixed_point.h"
#include "model_file.h"
#include "raw_schema.h"
#include "rng.h"

namespace kmlb {
namespace {

uint64_t env_or(const char *name, uint64_t fallback)
{
	const char *v = std::getenv(name);
	return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

constexpr size_t kNul = 11;  // kTokens[kNul] stands for a NUL byte

std::string mutate(const std::string &seed_text, Rng &rng)
{
	static const char *const kTokens[] = {
		"-",    "1e999", "-1e999", "nan", "inf",  "99999999999999999999", "-9223372036854775809", ",",  "\n",
		"\r\n", "\r",    "" /* NUL, see kNul */, "\xEF\xBB\xBF", "\"", "{",  "}", "[", "]", ":", "0x10",
		" ",    "1.5",   "-0",  "1e-45", "\xff", "null", "true", "[[]]", "\\u0000", "18446744073709551616",
	};
	std::string s = seed_text;
	const int edits = 1 + static_cast<int>(rng.below(4));
	for (int e = 0; e < edits; ++e) {
		const size_t n = s.size();
		const size_t at = n ? rng.below(n) : 0;
		switch (rng.below(7)) {
		case 0:  // flip a bit
			if (n)
				s[at] = static_cast<char>(s[at] ^ (1 << rng.below(8)));
			break;
		case 1:  // a random byte
			s.insert(at, 1, static_cast<char>(rng.below(256)));
			break;
		case 2: {  // delete a range
			const size_t len = std::min<size_t>(n - at, 1 + rng.below(16));
			s.erase(at, len);
			break;
		}
		case 3: {  // duplicate a range
			const size_t len = std::min<size_t>(n - at, 1 + rng.below(64));
			s.insert(at, s.substr(at, len));
			break;
		}
		case 4: {  // a token
			const size_t t = rng.below(std::size(kTokens));
			s.insert(at, t == kNul ? std::string("\0", 1) : std::string(kTokens[t]));
			break;
		}
		case 5: {  // replace a number-looking run with a token
			const size_t t = rng.below(std::size(kTokens));
			size_t end = at;
			while (end < n && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.'))
				++end;
			s.replace(at, end - at, t == kNul ? std::string("\0", 1) : std::string(kTokens[t]));
			break;
		}
		default:  // cut short
			s.resize(at);
			break;
		}
	}
	return s;
}

struct Target {
	const char *name;
	void (*read)(const std::string &text);
};

void read_features(const std::string &t) { (void)parse_features_csv(t, "fuzz.csv"); }
void read_raw(const std::string &t) { (void)parse_raw_csv(t, "fuzz.csv"); }
void read_model(const std::string &t)
{
	const ModelFile f = model_from_json(t, "fuzz.json");
	const std::vector<float> x(f.model.inputs(), 0.5f);
	(void)f.model.logit_reference(x.data());
}
void read_fixed(const std::string &t)
{
	const FixedModel m = fixed_model_from_json(t, "fuzz.json");
	const std::vector<int32_t> x(m.layers.front().inputs, 1);
	(void)fixed_logit_reference(m, x.data());
}

const Target kTargets[] = {
	{"features", read_features}, {"raw", read_raw}, {"model", read_model}, {"fixed model", read_fixed}};

// Returns "" when the outcome is acceptable, else what is wrong.
std::string judge(const Target &target, const std::string &input)
{
	try {
		target.read(input);
		return "";
	} catch (const Error &e) {
		const std::string what = e.what();
		if (e.code() != ExitCode::kBadData)
			return fmt::format("exit code {} instead of 65: {}", static_cast<int>(e.code()), what);
		if (what.empty())
			return "an empty message";
		if (what.find("json.exception") != std::string::npos || what.find("std::") != std::string::npos ||
		    what.find("basic_string") != std::string::npos || what.find("vector::") != std::string::npos)
			return "a library's words in the message: " + what;
		for (unsigned char c : what)
			if (c < 0x20 || c >= 0x7f)
				return "an unescaped byte in the message: " + what;
		if (what.find("fuzz.") != 0)
			return "the message does not start with the file name: " + what;
		return "";
	} catch (const std::exception &e) {
		return fmt::format("raw exception: {}", e.what());
	}
}

std::atomic<int64_t> g_started_ms{-1};

int64_t now_ms()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
		.count();
}

TEST(FuzzReaders, MutatedInputsGiveResultsOrNamedBadDataErrors)
{
	const std::filesystem::path corpus_dir = std::filesystem::path(KMLB_TEST_DATA_DIR) / "fuzz";
	struct Seed {
		std::string file, text;
	};
	std::vector<Seed> corpus;
	for (const auto &e : std::filesystem::directory_iterator(corpus_dir))
		corpus.push_back({e.path().filename().string(), read_file(e.path().string())});
	std::sort(corpus.begin(), corpus.end(), [](const Seed &a, const Seed &b) { return a.file < b.file; });
	ASSERT_GE(corpus.size(), 4u) << "corpus missing under " << corpus_dir;
	// Every unmutated corpus file is read by the reader it is for.
	for (const Seed &s : corpus) {
		const bool csv = s.file.ends_with(".csv");
		const Target &t = csv ? kTargets[s.file.starts_with("raw") ? 1 : 0]
				      : kTargets[s.file.find(".q.") != std::string::npos ? 3 : 2];
		EXPECT_EQ(judge(t, s.text), "") << s.file;
		EXPECT_NO_THROW(t.read(s.text)) << s.file;
	}

	const uint64_t seed = env_or("KMLB_FUZZ_SEED", 13);
	const uint64_t max_runs = env_or("KMLB_FUZZ_RUNS", 1000000);
	const double seconds = static_cast<double>(env_or("KMLB_FUZZ_SECONDS", 50));
	std::atomic<bool> done{false};
	std::atomic<uint64_t> current{0};
	std::thread watchdog([&] {
		while (!done) {
			std::this_thread::sleep_for(std::chrono::milliseconds(200));
			const int64_t started = g_started_ms.load();
			if (started >= 0 && now_ms() - started > 10000) {
				std::fprintf(stderr, "fuzz: run %llu (KMLB_FUZZ_SEED=%llu) hangs\n",
					     static_cast<unsigned long long>(current.load()),
					     static_cast<unsigned long long>(seed));
				std::abort();
			}
		}
	});
	Rng rng(seed);
	const auto start = std::chrono::steady_clock::now();
	uint64_t runs = 0, failures = 0;
	for (; runs < max_runs; ++runs) {
		if ((runs & 255) == 0 &&
		    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds)
			break;
		const Seed &s = corpus[rng.below(corpus.size())];
		const std::string input = mutate(s.text, rng);
		current = runs;
		for (const Target &t : kTargets) {
			g_started_ms = now_ms();
			const std::string problem = judge(t, input);
			g_started_ms = -1;
			if (problem.empty())
				continue;
			if (++failures <= 5)
				ADD_FAILURE() << "run " << runs << " (seed " << seed << "), " << s.file << " mutated, read as "
					      << t.name << ": " << problem;
		}
	}
	done = true;
	watchdog.join();
	std::fprintf(stderr, "fuzz: %llu mutated inputs x %zu readers, %llu failures\n",
		     static_cast<unsigned long long>(runs), std::size(kTargets),
		     static_cast<unsigned long long>(failures));
	EXPECT_EQ(failures, 0u);
	EXPECT_GT(runs, 1000u) << "too few runs to mean anything";
}

}  // namespace
}  // namespace kmlb
