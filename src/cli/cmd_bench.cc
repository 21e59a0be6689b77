// kmlb bench infer: what one decision costs on this machine, for the teacher
// (the kernel's own can_migrate_task heuristic, re-implemented), the float
// MLP, the fixed-point scalar reference, the exported kernel code (compiled
// by the system C compiler from `kmlb export-c`'s header, straight from a
// kernel-style caller loop and from raw states) and the batched user-space
// path. Wall time per decision (median and p99 over batches) and, with
// valgrind, instructions per decision counted by callgrind.
//
// Instructions: callgrind runs the hidden `kmlb bench worker` mode twice,
// with N and 2N decisions of one path on the same rows; the difference of
// the two totals over N is the cost of one decision, with everything else
// (start-up, data generation, loading) cancelled out exactly. It includes
// the calling loop and, for the exported code, the call into the model
// (a handful of instructions), as a kernel caller would pay them.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <memory>
#include <optional>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "atomic_file.h"
#include "command.h"
#include "flag_checks.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "dataset.h"
#include "exit_codes.h"
#include "export_c.h"
#include "fixed_features.h"
#include "fixed_point.h"
#include "generator.h"
#include "model_file.h"
#include "prep.h"
#include "raw_schema.h"
#include "teacher.h"
#include "trainer.h"

namespace kmlb::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kBenchSchemaVersion = 1;
// Rows the worker cycles over: enough to defeat branch-history memorisation,
// small enough to generate quickly under valgrind.
constexpr size_t kWorkerRows = 8192;

struct PathInfo {
	const char *id;
	const char *label;
	bool needs_model;  // per model (teacher is not)
};

constexpr std::array<PathInfo, 6> kPaths = {{
	{"teacher", "teacher: can_migrate_task() 5.15", false},
	{"float", "float MLP (Mlp::logit_reference)", true},
	{"fixed-ref", "fixed point, C++ scalar reference", true},
	{"kernel", "fixed point, exported C (kernel path)", true},
	{"kernel-state", "exported C from raw state (+ features)", true},
	{"batched", "fixed point, batched C++ (AVX2)", true},
}};

const PathInfo *find_path(const std::string &id)
{
	for (const PathInfo &p : kPaths)
		if (id == p.id)
			return &p;
	return nullptr;
}

// ---- the data and the timed loops --------------------------------------------

struct Rows {
	std::vector<KernelState> states;  // kept by preprocessing
	Calibration seed_cal, modern_cal;

	explicit Rows(size_t rows)
	{
		GeneratorConfig c = preset_config(Preset::kSeed);
		if (rows)
			c.rows = rows;
		const GeneratedStates g = generate_states(c);
		seed_cal = calibration_from_states(g.states, FeatureSet::kSeed, c.kernel, "seed preset");
		modern_cal = calibration_from_states(g.states, FeatureSet::kModern, c.kernel, "seed preset");
		states = seed_cal.states;
	}
	const Calibration &cal(FeatureSet set) const { return set == FeatureSet::kSeed ? seed_cal : modern_cal; }
	size_t size() const { return states.size(); }
};

// What a model brings to the loops.
struct ModelPaths {
	std::string name;
	ModelFile file;
	FixedModel fixed;
	std::vector<int32_t> xq;  // fixed-point features of every row
	std::optional<ExportedModule> module;
	std::vector<unsigned char> packed_states;  // struct kmlb_state array
	std::string float_path, fixed_path, so_path;  // files for the worker
};

// Runs n decisions from row `start` on (cycling); returns how many migrate,
// so that nothing is optimised away.
using Loop = std::function<size_t(size_t start, size_t n)>;

// Splits [start, start + n) over the end of the rows into contiguous runs.
template <typename F>
size_t cyclic(size_t rows, size_t start, size_t n, F &&run)
{
	size_t total = 0;
	while (n) {
		const size_t s = start % rows;
		const size_t k = std::min(n, rows - s);
		total += run(s, k);
		start += k;
		n -= k;
	}
	return total;
}

Loop make_loop(const std::string &id, const Rows &rows, ModelPaths *m)
{
	const size_t n_rows = rows.size();
	if (id == "teacher")
		return [&rows, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n, [&](size_t s, size_t k) {
				size_t c = 0;
				for (size_t i = s; i < s + k; ++i)
					c += can_migrate_task(rows.states[i], KernelVersion::k5_15).migrate;
				return c;
			});
		};
	const Calibration &cal = rows.cal(m->file.feature_set);
	const size_t cols = cal.cols();
	if (id == "float")
		return [m, &cal, cols, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n, [&](size_t s, size_t k) {
				size_t c = 0;
				for (size_t i = s; i < s + k; ++i)
					c += m->file.model.logit_reference(cal.x.data() + i * cols) > 0.0f;
				return c;
			});
		};
	if (id == "fixed-ref")
		return [m, cols, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n, [&](size_t s, size_t k) {
				size_t c = 0;
				for (size_t i = s; i < s + k; ++i)
					c += fixed_decision(fixed_logit_reference(m->fixed, m->xq.data() + i * cols));
				return c;
			});
		};
	if (id == "kernel")
		return [m, cols, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n,
				      [&](size_t s, size_t k) { return m->module->count_fixed(m->xq.data() + s * cols, k); });
		};
	if (id == "kernel-state") {
		const size_t size = m->packed_states.size() / n_rows;
		return [m, size, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n, [&](size_t s, size_t k) {
				return m->module->count_states(m->packed_states.data() + s * size, k);
			});
		};
	}
	if (id == "batched") {
		auto batch = std::make_shared<FixedBatch>(m->fixed);
		auto out = std::make_shared<std::vector<int32_t>>();
		return [m, batch, out, cols, n_rows](size_t start, size_t n) {
			return cyclic(n_rows, start, n, [&](size_t s, size_t k) {
				out->resize(k);
				batch->logits(m->xq.data() + s * cols, k, out->data());
				size_t c = 0;
				for (int32_t z : *out)
					c += fixed_decision(z);
				return c;
			});
		};
	}
	throw Error(ExitCode::kUsage, fmt::format("unknown bench path '{}'", id));
}

void prepare_fixed(ModelPaths &m, const Rows &rows)
{
	m.xq = rows.cal(m.file.feature_set).fixed_inputs(m.fixed.frac_bits);
	if (m.module)
		m.packed_states = m.module->make_states(rows.states);
}

// ---- small utilities -----------------------------------------------------------


std::string cpu_model()
{
	try {
		const std::string info = read_file("/proc/cpuinfo");
		const size_t pos = info.find("model name");
		if (pos != std::string::npos) {
			const size_t colon = info.find(':', pos);
			return info.substr(colon + 2, info.find('\n', colon) - colon - 2);
		}
	} catch (const Error &) {
	}
	return "unknown";
}


double percentile(std::vector<double> v, double q)
{
	std::sort(v.begin(), v.end());
	const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
	return v[i];
}

// ---- the worker (run under callgrind) ------------------------------------------

struct WorkerOptions {
	std::string path, model, fixed, so;
	size_t decisions = 0;
};

int run_worker(const WorkerOptions &o)
{
	const Rows rows(kWorkerRows);
	ModelPaths m;
	const PathInfo *info = find_path(o.path);
	if (!info)
		throw Error(ExitCode::kUsage, fmt::format("unknown --path '{}'", o.path));
	if (info->needs_model) {
		if (o.model.empty() || o.fixed.empty())
			throw Error(ExitCode::kUsage, "--model and --fixed are required for this path");
		m.file = load_model(o.model);
		m.fixed = load_fixed_model(o.fixed);
		if (!o.so.empty())
			m.module = ExportedModule::load(o.so);
		prepare_fixed(m, rows);
	}
	const Loop loop = make_loop(o.path, rows, &m);
	fmt::print("{}\n", loop(0, o.decisions));
	return 0;
}

// ---- bench infer ---------------------------------------------------------------

struct InferOptions {
	std::vector<std::string> models;
	std::string paths = "teacher,float,fixed-ref,kernel,kernel-state,batched";
	std::string save_models;
	size_t batch = 1024, reps = 200, callgrind_decisions = 20000;
	bool no_callgrind = false, json = false;
};

struct Measured {
	std::string path, label;
	std::vector<double> ns;  // per decision, one per batch
	std::optional<double> instructions;
	std::string note;
};

// Quick models when none are given: the recommended protocol on the seed
// data set, for the report's 573-parameter and Chen's 171-parameter shapes.
std::vector<ModelPaths> trained_models(const Rows &rows, const std::string &save_dir)
{
	RawTrace trace;
	trace.rows = rows.states;
	const Dataset d = prep(trace, FeatureSet::kSeed, preset_config(Preset::kSeed).kernel);
	std::vector<ModelPaths> out;
	for (const std::vector<size_t> &hidden : {std::vector<size_t>{15, 12, 10}, std::vector<size_t>{10}}) {
		TrainConfig c = TrainConfig::recommended();
		c.hidden = hidden;
		fmt::print(stderr, "kmlb bench: training {} ({} protocol) on the seed data set...\n",
			   hidden.size() == 3 ? "15-15-12-10-1" : "15-10-1", c.name);
		const TrainResult r = train(d, c);
		ModelPaths m;
		m.file.model = r.model;
		m.file.feature_set = FeatureSet::kSeed;
		m.file.training = c;
		m.file.data_hash = r.data_hash;
		m.file.metrics = r.metrics_json(false);
		m.name = fmt::format("seed-{}", r.model.param_count());
		if (!save_dir.empty()) {
			fs::create_directories(save_dir);
			save_model((fs::path(save_dir) / (m.name + ".model.json")).string(), m.file);
		}
		out.push_back(std::move(m));
	}
	return out;
}

int run_infer(const InferOptions &o)
{
	std::vector<std::string> paths;
	for (size_t pos = 0; pos <= o.paths.size();) {
		const size_t comma = std::min(o.paths.find(',', pos), o.paths.size());
		const std::string id = o.paths.substr(pos, comma - pos);
		if (!find_path(id))
			throw Error(ExitCode::kUsage, fmt::format("unknown path '{}' in --paths", id));
		paths.push_back(id);
		pos = comma + 1;
	}
	if (o.batch == 0 || o.reps == 0)
		throw Error(ExitCode::kUsage, "--batch and --reps must be positive");

	const Rows rows(0);
	const TempDir tmp("kmlb-bench");
	std::vector<ModelPaths> models;
	if (o.models.empty()) {
		models = trained_models(rows, o.save_models);
	} else {
		for (const std::string &path : o.models) {
			ModelPaths m;
			m.file = load_model(path);
			m.name = fs::path(path).stem().string();
			models.push_back(std::move(m));
		}
	}

	// Quantize, export, compile.
	std::string cc_note;
	for (size_t i = 0; i < models.size(); ++i) {
		ModelPaths &m = models[i];
		m.fixed = quantize(m.file, rows.cal(m.file.feature_set), {}).model;
		m.float_path = tmp / fmt::format("m{}.model.json", i);
		m.fixed_path = tmp / fmt::format("m{}.q.json", i);
		save_model(m.float_path, m.file);
		save_fixed_model(m.fixed_path, m.fixed);
		try {
			m.module = ExportedModule::build(m.fixed, tmp / fmt::format("m{}", i));
			m.so_path = m.module->so_path();
		} catch (const Error &e) {
			cc_note = fmt::format("exported C not measured: {}", e.what());
		}
		prepare_fixed(m, rows);
	}

	// Timed loops: every repetition runs one batch of each path in turn, so
	// all paths see the same machine state; 10 warm-up repetitions.
	struct Slot {
		Measured result;
		Loop loop;
		size_t model;  // index into models, or SIZE_MAX for the teacher
	};
	std::vector<Slot> slots;
	if (std::find(paths.begin(), paths.end(), "teacher") != paths.end())
		slots.push_back({{"teacher", find_path("teacher")->label, {}, {}, {}}, make_loop("teacher", rows, nullptr),
				 SIZE_MAX});
	for (size_t i = 0; i < models.size(); ++i)
		for (const std::string &id : paths) {
			if (id == "teacher")
				continue;
			if ((id == "kernel" || id == "kernel-state") && !models[i].module)
				continue;
			slots.push_back({{id, find_path(id)->label, {}, {}, {}}, make_loop(id, rows, &models[i]), i});
		}
	size_t sink = 0;
	for (size_t rep = 0; rep < o.reps + 10; ++rep)
		for (Slot &s : slots) {
			const auto t0 = Clock::now();
			sink += s.loop(rep * o.batch, o.batch);
			const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
			if (rep >= 10)
				s.result.ns.push_back(ns / static_cast<double>(o.batch));
		}

	// Instructions per decision.
	std::string callgrind_note;
	const bool have_valgrind = !o.no_callgrind && run_command("valgrind --version").exit_code == 0;
	if (o.no_callgrind)
		callgrind_note = "not measured (--no-callgrind)";
	else if (!have_valgrind)
		callgrind_note = "not measured: valgrind is not installed";
	if (have_valgrind) {
		const std::string exe = self_executable();
		auto count = [&](const Slot &s, size_t n) -> std::optional<uint64_t> {
			const std::string out = tmp / "callgrind.out";
			std::string cmd = fmt::format("valgrind --tool=callgrind --callgrind-out-file={} {} bench worker --path {} "
						      "--decisions {}",
						      shell_quote(out), shell_quote(exe), s.result.path, n);
			if (s.model != SIZE_MAX) {
				const ModelPaths &m = models[s.model];
				cmd += fmt::format(" --model {} --fixed {}", shell_quote(m.float_path), shell_quote(m.fixed_path));
				if (!m.so_path.empty())
					cmd += " --so " + shell_quote(m.so_path);
			}
			const CommandOutput r = run_command(cmd);
			if (r.exit_code != 0)
				return std::nullopt;
			const std::string text = read_file(out);
			for (const char *key : {"\nsummary: ", "\ntotals: "}) {
				const size_t pos = text.find(key);
				if (pos != std::string::npos)
					return std::stoull(text.substr(pos + std::strlen(key)));
			}
			return std::nullopt;
		};
		for (Slot &s : slots) {
			fmt::print(stderr, "kmlb bench: callgrind, {}{}...\n", s.result.path,
				   s.model == SIZE_MAX ? "" : " of " + models[s.model].fixed.shape_name());
			const auto a = count(s, o.callgrind_decisions);
			const auto b = count(s, 2 * o.callgrind_decisions);
			if (a && b && *b >= *a)
				s.result.instructions = static_cast<double>(*b - *a) / static_cast<double>(o.callgrind_decisions);
			else
				s.result.note = "callgrind run failed";
		}
		callgrind_note = fmt::format("valgrind --tool=callgrind; (Ir(2N) - Ir(N)) / N with N = {} decisions over {} "
					     "seed rows; includes the calling loop",
					     o.callgrind_decisions, kWorkerRows);
	}

	// Results.
	const Slot *teacher = nullptr;
	for (const Slot &s : slots)
		if (s.model == SIZE_MAX)
			teacher = &s;
	const double teacher_ns = teacher ? percentile(teacher->result.ns, 0.5) : 0.0;
	const std::optional<double> teacher_ir = teacher ? teacher->result.instructions : std::nullopt;
	auto path_json = [&](const Slot &s, size_t params) {
		const double med = percentile(s.result.ns, 0.5), p99 = percentile(s.result.ns, 0.99);
		nlohmann::json j = {{"path", s.result.path},
				    {"label", s.result.label},
				    {"median_ns", med},
				    {"p99_ns", p99},
				    {"decisions_per_s", 1e9 / med}};
		if (teacher_ns > 0)
			j["vs_teacher_ns"] = med / teacher_ns;
		if (s.result.instructions) {
			j["instructions"] = *s.result.instructions;
			if (params)
				j["instructions_per_param"] = *s.result.instructions / static_cast<double>(params);
			if (teacher_ir && *teacher_ir > 0)
				j["vs_teacher_instructions"] = *s.result.instructions / *teacher_ir;
		}
		if (!s.result.note.empty())
			j["note"] = s.result.note;
		return j;
	};
	nlohmann::json out = {
		{"schema_version", kBenchSchemaVersion},
		{"data", {{"preset", "seed"}, {"rows", rows.size()}}},
		{"batch", o.batch},
		{"reps", o.reps},
		{"cpu", cpu_model()},
		{"exported_c_flags", harness_cflags()},
		{"callgrind", callgrind_note},
		{"checksum", sink},
	};
	if (!cc_note.empty())
		out["exported_c"] = cc_note;
	if (teacher)
		out["teacher"] = path_json(*teacher, 0);
	out["models"] = nlohmann::json::array();
	for (size_t i = 0; i < models.size(); ++i) {
		const ModelPaths &m = models[i];
		nlohmann::json mj = {{"name", m.name},
				     {"shape", m.fixed.shape_name()},
				     {"params", m.fixed.param_count()},
				     {"feature_set", feature_set_name(m.fixed.feature_set)},
				     {"frac_bits", m.fixed.frac_bits},
				     {"fixed_model_hash", fnv1a64_hex(fixed_model_to_json(m.fixed))},
				     {"paths", nlohmann::json::array()}};
		for (const Slot &s : slots)
			if (s.model == i)
				mj["paths"].push_back(path_json(s, m.fixed.param_count()));
		out["models"].push_back(mj);
	}

	if (o.json) {
		fmt::print("{}\n", out.dump(2));
		return 0;
	}
	fmt::print("seed data set, {} rows; batches of {} decisions, {} repetitions; {}\n", rows.size(), o.batch, o.reps,
		   out["cpu"].get<std::string>());
	auto row = [](const nlohmann::json &p) {
		auto num = [&](const char *key, const char *f) {
			return p.contains(key) ? fmt::format(fmt::runtime(f), p[key].get<double>()) : std::string("-");
		};
		fmt::print("  {:<42} {:>9} {:>9} {:>12} {:>8} {:>10} {:>8} {:>9}\n", p["label"].get<std::string>(),
			   num("median_ns", "{:.1f}"), num("p99_ns", "{:.1f}"), num("decisions_per_s", "{:.3g}"),
			   num("vs_teacher_ns", "{:.2f}x"), num("instructions", "{:.0f}"), num("instructions_per_param", "{:.2f}"),
			   num("vs_teacher_instructions", "{:.2f}x"));
	};
	fmt::print("  {:<42} {:>9} {:>9} {:>12} {:>8} {:>10} {:>8} {:>9}\n", "path", "median ns", "p99 ns", "decisions/s",
		   "vs tchr", "instr", "instr/p", "vs tchr");
	if (out.contains("teacher"))
		row(out["teacher"]);
	for (const auto &mj : out["models"]) {
		fmt::print("model {} ({} parameters, feature set {}, inputs Q{}.{}):\n", mj["shape"].get<std::string>(),
			   mj["params"].get<size_t>(), mj["feature_set"].get<std::string>(), 31 - mj["frac_bits"].get<int>(),
			   mj["frac_bits"].get<int>());
		for (const auto &p : mj["paths"])
			row(p);
	}
	fmt::print("instructions: {}\n", callgrind_note);
	if (!cc_note.empty())
		fmt::print("{}\n", cc_note);
	return 0;
}

void add_bench(CLI::App &app, Job &job)
{
	CLI::App *bench = app.add_subcommand("bench", "Measure the cost of one decision: teacher, float, fixed point, kernel code");
	bench->require_subcommand(1);
	bench->footer("Examples:\n  kmlb bench infer\n  kmlb bench infer --model run/model.json --paths teacher,kernel --no-callgrind\n"
		      "  kmlb bench infer --help     the flags of the measurement");

	auto o = std::make_shared<InferOptions>();
	CLI::App *infer = bench->add_subcommand("infer", "Time per decision and instructions per decision (callgrind) of every path");
	infer->add_option("--model", o->models, "float model(s) to measure (default: train 15-15-12-10 and 15-10 on the "
						"seed data set, about 20 s)");
	infer->add_option("--paths", o->paths, "comma-separated: teacher, float, fixed-ref, kernel, kernel-state, batched")
		->capture_default_str();
	infer->add_option("--batch", o->batch, "decisions per timed batch")
		->check(int_range(1, 10'000'000))
		->capture_default_str();
	infer->add_option("--reps", o->reps, "timed batches per path")->check(int_range(1, 1'000'000))->capture_default_str();
	infer->add_option("--callgrind-decisions", o->callgrind_decisions, "N of the two callgrind runs (N and 2N)")
		->check(int_range(1, 100'000'000))
		->capture_default_str();
	infer->add_flag("--no-callgrind", o->no_callgrind, "skip the instruction counts");
	infer->add_option("--save-models", o->save_models, "directory to keep the models trained here");
	infer->add_flag("--json", o->json, "print the results as JSON instead of the table");
	infer->footer("Examples:\n  kmlb bench infer\n  kmlb bench infer --model run/model.json --json\n"
		      "  kmlb bench infer --model run/model.json --paths teacher,kernel --no-callgrind");
	infer->final_callback([o, &job] { job = [o] { return run_infer(*o); }; });

	auto w = std::make_shared<WorkerOptions>();
	CLI::App *worker = bench->add_subcommand("worker", "N decisions of one path (what callgrind runs)");
	worker->group("");  // hidden
	worker->add_option("--path", w->path)->required();
	worker->add_option("--decisions", w->decisions)->required();
	worker->add_option("--model", w->model);
	worker->add_option("--fixed", w->fixed);
	worker->add_option("--so", w->so);
	worker->final_callback([w, &job] { job = [w] { return run_worker(*w); }; });
}

const CommandRegistration kRegistration(80, add_bench);

}  // namespace

}  // namespace kmlb::cli
