// Training speed: the train step at batch 64 (samples per second, one
// thread) for the report's 15-15-12-10-1 and Chen's 15-10-1, inference
// throughput, and the wall time of whole protocols on the distilled seed
// data (the `seed` preset, 86,400 rows, generated in memory).
//
//   build/train_bench --benchmark_filter=TrainStep
//   tools/torch_protocol.py --bench build/train_bench   (the torch comparison)
#include <benchmark/benchmark.h>

#include <numeric>

#include "adam.h"
#include "dataset.h"
#include "generator.h"
#include "mlp.h"
#include "prep.h"
#include "rng.h"
#include "split.h"
#include "trainer.h"

namespace kmlb {
namespace {

const Dataset &seed_data()
{
	static const Dataset data = [] {
		const GeneratorConfig config = preset_config(Preset::kSeed);  // seed 1
		RawTrace trace;
		trace.rows = generate_states(config).states;
		trace.file = "seed preset";
		return prep(trace, FeatureSet::kSeed, KernelVersion::k5_15);
	}();
	return data;
}

std::vector<size_t> hidden_of(int64_t arg)
{
	return arg == 0 ? std::vector<size_t>{15, 12, 10} : std::vector<size_t>{10};
}

// One train step as the trainer runs it: gather + forward + backward + L2
// gradient + Keras Adam, with balanced class weights, over shuffled rows.
void BM_TrainStep(benchmark::State &state)
{
	const Dataset &d = seed_data();
	const size_t batch = 64;
	Rng rng(1);
	Mlp model = Mlp::glorot_uniform(d.cols, hidden_of(state.range(0)), rng);
	const std::vector<float> x = Standardisation::fit(d.x.data(), d.cols, {}, d.rows)
					     .apply(d.x.data(), d.rows);
	const float class_weight[2] = {2.7f, 0.6f};
	Adam adam(model.param_count(), {});
	MlpBatch work(model, batch);
	std::vector<float> grad(model.param_count());
	std::vector<uint32_t> order(d.rows);
	std::iota(order.begin(), order.end(), 0);
	shuffle_rows(order, rng);
	size_t start = 0;
	for (auto _ : state) {
		if (start + batch > order.size())
			start = 0;
		Batch b{x.data(), d.cols, d.y.data(), order.data() + start, batch, class_weight};
		benchmark::DoNotOptimize(work.forward_backward(model, b, grad));
		add_l2_gradient(model, 0.001f, grad);
		adam.step(model.params(), grad);
		start += batch;
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
	state.counters["params"] = static_cast<double>(model.param_count());
}
BENCHMARK(BM_TrainStep)->Arg(0)->Arg(1)->ArgName("chen");

// Forward only, as evaluation runs it (chunks of 1024 rows).
void BM_Forward(benchmark::State &state)
{
	const Dataset &d = seed_data();
	const size_t chunk = 1024;
	Rng rng(2);
	const Mlp model = Mlp::glorot_uniform(d.cols, {15, 12, 10}, rng);
	MlpBatch work(model, chunk);
	size_t start = 0;
	for (auto _ : state) {
		if (start + chunk > d.rows)
			start = 0;
		Batch b{d.x.data() + start * d.cols, d.cols, d.y.data() + start, nullptr, chunk, nullptr};
		benchmark::DoNotOptimize(work.forward(model, b));
		start += chunk;
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * chunk));
}
BENCHMARK(BM_Forward);

// A whole protocol on the seed data: the wall time of `kmlb train` minus I/O.
void run_protocol(benchmark::State &state, const TrainConfig &config)
{
	const Dataset &d = seed_data();
	TrainResult result;
	for (auto _ : state)
		result = train(d, config);
	state.counters["test_misclassified"] = static_cast<double>(result.test.misclassified);
	state.counters["test_rows"] = static_cast<double>(result.test.rows);
	state.counters["train_samples_per_second"] = result.samples_per_second;
	state.counters["epochs"] = static_cast<double>(result.history.size());
}

void BM_ReportProtocol(benchmark::State &state) { run_protocol(state, TrainConfig::report()); }
BENCHMARK(BM_ReportProtocol)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void BM_RecommendedProtocol(benchmark::State &state)
{
	run_protocol(state, TrainConfig::recommended());
}
BENCHMARK(BM_RecommendedProtocol)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Chen's 15-10-1 under the report's protocol (the third model of `kmlb reproduce`).
void BM_ChenProtocol(benchmark::State &state)
{
	TrainConfig c = TrainConfig::report();
	c.hidden = {10};
	run_protocol(state, c);
}
BENCHMARK(BM_ChenProtocol)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace kmlb

BENCHMARK_MAIN();
