// Throughput of the data path: generating states (rows/s), writing and
// parsing raw and feature CSV (rows/s and bytes/s). The baseline of each
// parse benchmark is a plain memchr line count over the same bytes, measured
// in the same run, so the ratio survives a noisy machine.
#include <benchmark/benchmark.h>
#include <cstring>

#include "dataset.h"
#include "generator.h"
#include "prep.h"
#include "raw_schema.h"

namespace kmlb {
namespace {

constexpr size_t kRows = 86400;

const GeneratedStates &seed_states()
{
	static const GeneratedStates g = generate_states(preset_config(Preset::kSeed));
	return g;
}

const std::string &raw_text()
{
	static const std::string text = [] {
		std::string t;
		append_raw_header(t);
		for (const auto &s : seed_states().states)
			append_raw_row(t, s);
		return t;
	}();
	return text;
}

const std::string &features_text()
{
	static const std::string text = [] {
		RawTrace t;
		t.rows = seed_states().states;
		return prep(t, FeatureSet::kSeed, KernelVersion::k5_15).to_csv();
	}();
	return text;
}

void BM_GenerateSeedPreset(benchmark::State &state)
{
	for (auto _ : state)
		benchmark::DoNotOptimize(generate_states(preset_config(Preset::kSeed)));
	state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_GenerateOverloaded(benchmark::State &state)
{
	GeneratorConfig cfg = preset_config(Preset::kOverloaded);
	cfg.rows = kRows;
	for (auto _ : state)
		benchmark::DoNotOptimize(generate_states(cfg));
	state.SetItemsProcessed(state.iterations() * kRows);
}

// Baseline: the least any CSV reader must do, find every line end.
void count_lines(benchmark::State &state, const std::string &text)
{
	for (auto _ : state) {
		size_t n = 0;
		const char *p = text.data(), *end = p + text.size();
		while ((p = static_cast<const char *>(std::memchr(p, '\n', end - p))) != nullptr) {
			++n;
			++p;
		}
		benchmark::DoNotOptimize(n);
	}
	state.SetItemsProcessed(state.iterations() * kRows);
	state.SetBytesProcessed(state.iterations() * text.size());
}

void BM_Baseline_CountLinesRaw(benchmark::State &state) { count_lines(state, raw_text()); }
void BM_Baseline_CountLinesFeatures(benchmark::State &state) { count_lines(state, features_text()); }

void BM_ParseRawCsv(benchmark::State &state)
{
	const std::string &text = raw_text();
	for (auto _ : state)
		benchmark::DoNotOptimize(parse_raw_csv(text, "bench.csv"));
	state.SetItemsProcessed(state.iterations() * kRows);
	state.SetBytesProcessed(state.iterations() * text.size());
}

void BM_ParseFeaturesCsv(benchmark::State &state)
{
	const std::string &text = features_text();
	for (auto _ : state)
		benchmark::DoNotOptimize(parse_features_csv(text, "bench.csv"));
	state.SetItemsProcessed(state.iterations() * kRows);
	state.SetBytesProcessed(state.iterations() * text.size());
}

void BM_WriteRawCsv(benchmark::State &state)
{
	for (auto _ : state) {
		std::string t;
		append_raw_header(t);
		for (const auto &s : seed_states().states)
			append_raw_row(t, s);
		benchmark::DoNotOptimize(t);
	}
	state.SetItemsProcessed(state.iterations() * kRows);
	state.SetBytesProcessed(state.iterations() * raw_text().size());
}

void BM_PrepAndWriteFeaturesCsv(benchmark::State &state)
{
	RawTrace t;
	t.rows = seed_states().states;
	for (auto _ : state)
		benchmark::DoNotOptimize(prep(t, FeatureSet::kSeed, KernelVersion::k5_15).to_csv());
	state.SetItemsProcessed(state.iterations() * kRows);
	state.SetBytesProcessed(state.iterations() * features_text().size());
}

BENCHMARK(BM_GenerateSeedPreset)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GenerateOverloaded)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_CountLinesRaw)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseRawCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteRawCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Baseline_CountLinesFeatures)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseFeaturesCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrepAndWriteFeaturesCsv)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kmlb
