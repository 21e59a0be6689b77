// kmlb report: what `kmlb vm deploy` (kernel/deploy.sh) measured with the
// model inside the guest kernel, as a table beside Chen et al. (APSys 2020:
// can_migrate_task +36 %, load_balance +13 %, benchmark runtimes within
// about 5 % of native), written to report.md with SVG plots (gnuplot).
//
// Input: DIR/summary.json (schema "kmlb-deploy-summary", version 2; see
// kernel/tools/summarize.py). Costs are TSC ticks: executed instructions
// when the run used --timing icount (deterministic), host-time ticks under
// plain TCG (only ratios within one run mean something there).
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "command.h"
#include "exit_codes.h"
#include "gnuplot.h"
#include "source_script.h"

namespace kmlb::cli {

namespace {

using nlohmann::json;

struct ReportOptions {
	std::string in;
	std::string out;  // default: in
	bool json = false;
	std::vector<std::string> side_effects;  // NAME=DIR of substitute runs
};

constexpr std::string_view kSchema = "kmlb-deploy-summary";
constexpr int kSchemaVersion = 2;

// A number at a path of object keys, or nothing (missing, null, not a number).
std::optional<double> num(const json &j, std::initializer_list<const char *> path)
{
	const json *p = &j;
	for (const char *k : path) {
		if (!p->is_object() || !p->contains(k))
			return std::nullopt;
		p = &(*p)[k];
	}
	if (!p->is_number())
		return std::nullopt;
	return p->get<double>();
}

std::string fmt_ratio(std::optional<double> r)
{
	if (!r)
		return "n/a";
	return fmt::format("x{:.2f} ({:+.0f} %)", *r, (*r - 1.0) * 100.0);
}

// A cost in the run's unit: "1234 instr" (icount) or "1234 ticks" (TCG).
std::string fmt_cost(std::optional<double> v, const std::string &unit)
{
	if (!v)
		return "n/a";
	return fmt::format("{:.0f} {}", *v, unit == "instructions" ? "instr" : unit == "ns" ? "ns" : "ticks");
}

struct Row {
	std::string what, ours, chen;
};

std::vector<Row> build_rows(const json &s)
{
	std::vector<Row> rows;
	const auto agreement = num(s, {"agreement"});
	const auto decisions = num(s, {"decisions"});
	rows.push_back({"live agreement (model vs kernel)",
			agreement ? fmt::format("{:.5f} of {:.0f} decisions", *agreement, decisions.value_or(0))
				  : "n/a (no decisions)",
			"0.9924 (10-fold CV, offline)"});
	const auto ha = num(s, {"heuristic_agreement"});
	if (ha)
		rows.push_back({"  of which heuristic part",
				fmt::format("{:.5f} of {:.0f}", *ha, num(s, {"heuristic_decisions"}).value_or(0)),
				""});
	const std::string unit = s.contains("cost") && s["cost"].is_object() ? s["cost"].value("unit", "") : "";
	{
		const auto nat = num(s, {"cost", "can_migrate_task", "native", "p50"});
		const auto mod = num(s, {"cost", "can_migrate_task", "model", "p50"});
		rows.push_back({"can_migrate_task median, kernel's body -> model's path",
				fmt::format("{} -> {}  {}", fmt_cost(nat, unit), fmt_cost(mod, unit),
					    fmt_ratio(num(s, {"cost", "can_migrate_task", "ratio"}))),
				"x1.36 (+36 %)"});
		const auto lnat = num(s, {"cost", "load_balance", "no_module"});
		const auto lmod = num(s, {"cost", "load_balance", "model"});
		rows.push_back({"load_balance median, no module -> model (BPF fentry/fexit, ns)",
				fmt::format("{} -> {}  {}", fmt_cost(lnat, unit == "instructions" ? unit : "ns"),
					    fmt_cost(lmod, unit == "instructions" ? unit : "ns"),
					    fmt_ratio(num(s, {"cost", "load_balance", "ratio_model_to_no_module"}))),
				"x1.13 (+13 %)"});
	}
	rows.push_back({"model alone (features + MLP), median",
			fmt_cost(num(s, {"cost", "model_alone", "p50"}), unit), "+0.4 us per call"});
	if (s.contains("benchmarks") && s["benchmarks"].is_object()) {
		for (const auto &[name, b] : s["benchmarks"].items()) {
			const auto nat = num(b, {"native", "median_s"});
			const auto mod = num(b, {"model", "median_s"});
			const auto n = b.contains("native") && b["native"].contains("runs_s")
					       ? b["native"]["runs_s"].size()
					       : 0;
			rows.push_back({fmt::format("{} runtime, median of {}", name, n),
					nat && mod ? fmt::format("{:.3f} s -> {:.3f} s  {}  (spread {:.0f} % / {:.0f} %)",
								 *nat, *mod, fmt_ratio(num(b, {"ratio"})),
								 num(b, {"native", "spread"}).value_or(0) * 100,
								 num(b, {"model", "spread"}).value_or(0) * 100)
						   : "n/a",
					"within about 5 % (PARSEC)"});
		}
	}
	for (const char *what : {"rq_maxdiff", "rq_total"}) {
		const auto nat = num(s, {what, "native", "mean"});
		const auto mod = num(s, {what, "model", "mean"});
		rows.push_back({std::string(what) == "rq_maxdiff" ? "rq length max-min across CPUs, mean"
								  : "total rq length, mean",
				nat && mod ? fmt::format("{:.2f} -> {:.2f} (p90 {:.0f} -> {:.0f})", *nat, *mod,
							 num(s, {what, "native", "p90"}).value_or(0),
							 num(s, {what, "model", "p90"}).value_or(0))
					   : "n/a",
				std::string(what) == "rq_maxdiff" ? "Figure 5 (similar distributions)" : ""});
	}
	rows.push_back({"overrides of the kernel's decision (substituted calls)",
			fmt::format("{:.0f} ({:.0f})", num(s, {"overrides"}).value_or(0),
				    num(s, {"substituted"}).value_or(0)),
			""});
	rows.push_back({"verification: hard-check / side-effect mismatches (calls)",
			fmt::format("{:.0f} / {:.0f} ({:.0f})", num(s, {"hard_mismatches"}).value_or(-1),
				    num(s, {"side_effect_mismatches"}).value_or(-1),
				    num(s, {"verified_calls"}).value_or(0)),
			""});
	rows.push_back({"kprobe nmissed; crashed boots",
			fmt::format("{:.0f}; {:.0f}", num(s, {"nmissed"}).value_or(-1),
				    num(s, {"crashed_boots"}).value_or(-1)),
			""});
	if (s.contains("soak") && s["soak"].is_object())
		rows.push_back({"soak: cycles, mode switches, crashes, oopses, WARNs",
				fmt::format("{:.0f}, {:.0f}, {:.0f}, {:.0f}, {:.0f}", num(s, {"soak", "cycles"}).value_or(-1),
					    num(s, {"soak", "mode_switches"}).value_or(-1),
					    num(s, {"soak", "crashes"}).value_or(-1),
					    num(s, {"soak", "oopses"}).value_or(-1),
					    num(s, {"soak", "warnings"}).value_or(-1)),
				""});
	rows.push_back({"fallbacks to the kernel's decision",
			fmt::format("{:.0f} (input mismatches {:.0f})", num(s, {"fallbacks"}).value_or(0),
				    num(s, {"teacher_mismatch"}).value_or(0)),
			""});
	if (s.contains("checks") && s["checks"].is_object()) {
		size_t ok = 0, all = 0;
		std::string failed;
		for (const auto &[name, v] : s["checks"].items()) {
			++all;
			if ((v.is_string() && v == "ok") || (v.is_number() && v == 0))
				++ok;
			else
				failed += (failed.empty() ? " failed: " : ", ") + name;
		}
		rows.push_back({"guest safety checks", fmt::format("{} of {} ok{}", ok, all, failed), ""});
	}
	return rows;
}

std::string text_table(const std::vector<Row> &rows)
{
	size_t w0 = 4, w1 = 13;
	for (const auto &r : rows) {
		w0 = std::max(w0, r.what.size());
		w1 = std::max(w1, r.ours.size());
	}
	std::string out = fmt::format("{:<{}}  {:<{}}  {}\n", "", w0, "kmlb (this run)", w1, "Chen et al. 2020");
	for (const auto &r : rows)
		out += fmt::format("{:<{}}  {:<{}}  {}\n", r.what, w0, r.ours, w1, r.chen);
	return out;
}

std::string md_escape(const std::string &s)
{
	std::string o;
	for (char c : s)
		o += c == '|' ? std::string("\\|") : std::string(1, c);
	return o;
}

// Writes the plots' data and runs gnuplot; returns the SVG names or a note.
std::vector<std::string> write_plots(const std::string &dir, const json &s, std::string &note)
{
	if (!gnuplot_available()) {
		note = kNoGnuplotNote;
		return {};
	}
	// Every plot names the run it shows (gnuplot quoting: ' doubled).
	std::string run_title = fmt::format("kmlb vm deploy {}", dir);
	if (s.contains("mode") && s["mode"].is_string())
		run_title += fmt::format(" (--mode {})", s["mode"].get<std::string>());
	for (size_t p = 0; (p = run_title.find('\'', p)) != std::string::npos; p += 2)
		run_title.insert(p, "'");
	// Run-queue distributions (Chen's Figure 5): relative frequency per value.
	std::string rq = "# value native_maxdiff model_maxdiff native_total model_total\n";
	auto freq = [&](const char *what, const char *cfg, int k) {
		const auto h = num(s, {what, cfg, "samples"});
		if (!h || *h == 0 || !s[what][cfg].contains("histogram"))
			return 0.0;
		const json &hist = s[what][cfg]["histogram"];
		const std::string key = std::to_string(k);
		return hist.contains(key) ? hist[key].get<double>() / *h : 0.0;
	};
	int kmax = 0;
	for (const char *what : {"rq_maxdiff", "rq_total"})
		for (const char *cfg : {"native", "model"})
			kmax = std::max(kmax, static_cast<int>(num(s, {what, cfg, "max"}).value_or(0)));
	for (int k = 0; k <= kmax; ++k)
		rq += fmt::format("{} {} {} {} {}\n", k, freq("rq_maxdiff", "native", k),
				  freq("rq_maxdiff", "model", k), freq("rq_total", "native", k),
				  freq("rq_total", "model", k));
	write_file_atomic(dir + "/rq.dat", rq);

	std::string bench = "# name native_rel model_rel native_lo native_hi model_lo model_hi\n";
	if (s.contains("benchmarks") && s["benchmarks"].is_object())
		for (const auto &[name, b] : s["benchmarks"].items()) {
			const auto nat = num(b, {"native", "median_s"});
			if (!nat || *nat <= 0 || !num(b, {"model", "median_s"}))
				continue;
			bench += fmt::format("{} 1 {} {} {} {} {}\n", name, *num(b, {"model", "median_s"}) / *nat,
					     num(b, {"native", "min_s"}).value_or(*nat) / *nat,
					     num(b, {"native", "max_s"}).value_or(*nat) / *nat,
					     num(b, {"model", "min_s"}).value_or(*nat) / *nat,
					     num(b, {"model", "max_s"}).value_or(*nat) / *nat);
		}
	write_file_atomic(dir + "/bench.dat", bench);

	std::string cost = "# name native model_ratio chen_ratio\n";
	{
		const auto c = num(s, {"cost", "can_migrate_task", "ratio"});
		const auto l = num(s, {"cost", "load_balance", "ratio_model_to_no_module"});
		if (c)
			cost += fmt::format("can_migrate_task 1 {} 1.36\n", *c);
		if (l)
			cost += fmt::format("load_balance 1 {} 1.13\n", *l);
	}
	write_file_atomic(dir + "/cost.dat", cost);

	const std::string script = fmt::format(
		"set terminal svg size 900,380 dynamic background '#ffffff'\n"
		"set style data histogram\nset style histogram clustered gap 1\n"
		"set style fill solid 0.7 border -1\nset key top right\nset grid ytics\n"
		"set output '{0}/rq.svg.tmp'\nset multiplot layout 1,2 title '{1}' noenhanced\n"
		"set title 'max - min run-queue length across CPUs (10 Hz)'\n"
		"set xlabel 'tasks'\nset ylabel 'fraction of samples'\n"
		"plot '{0}/rq.dat' using 2:xtic(1) title 'native', '' using 3 title 'model'\n"
		"set title 'total run-queue length'\n"
		"plot '{0}/rq.dat' using 4:xtic(1) title 'native', '' using 5 title 'model'\n"
		"unset multiplot\n"
		"set output '{0}/cost.svg.tmp'\nset title '{1}: median cost relative to native (TCG)' noenhanced\n"
		"set xlabel ''\nset ylabel 'model / native'\nset yrange [0:*]\n"
		"plot '{0}/cost.dat' using 2:xtic(1) title 'native', '' using 3 title 'kmlb model', "
		"'' using 4 title 'Chen 2020'\n"
		"set output '{0}/bench.svg.tmp'\n"
		"set title '{1}: benchmark runtime, median relative to native (bars: min..max)' noenhanced\n"
		"set style histogram errorbars gap 1 lw 1\n"
		"plot '{0}/bench.dat' using 2:4:5:xtic(1) title 'native', '' using 3:6:7 title 'model'\n",
		dir, run_title);
	PlotResult plots = run_gnuplot(dir, script, {"rq.svg", "cost.svg", "bench.svg"}, run_title);
	note = plots.note;
	return plots.made;
}

std::string markdown(const json &s, const std::vector<Row> &rows, const std::vector<std::string> &plots,
		     const std::string &note)
{
	const json run = s.value("run", json::object());
	const std::string unit = s.contains("cost") && s["cost"].is_object() ? s["cost"].value("unit", "") : "";
	std::string md = fmt::format(
		"# kmlb in the kernel: mode {}\n\n"
		"Kernel {} in a QEMU guest (2 sockets x 2 cores x 2 threads, 2 NUMA nodes), timing {}; "
		"model header: {}. can_migrate_task native = the kernel's own body (called and timed by the "
		"module); load_balance native = no module loaded. {}\n\n",
		s.value("mode", "?"), run.value("kernel", "?"), run.value("timing", "tcg"),
		run.value("model_header", "?"),
		run.value("timing", "tcg") == "icount"
			? "Costs are executed instructions (QEMU -icount shift=0)."
			: "Costs are TCG host-time ticks: compare within this run, as ratios.");
	md += "| | kmlb (this run) | Chen et al. 2020 |\n|---|---|---|\n";
	for (const auto &r : rows)
		md += fmt::format("| {} | {} | {} |\n", md_escape(r.what), md_escape(r.ours), md_escape(r.chen));
	if (s.contains("phases") && s["phases"].is_array() && !s["phases"].empty()) {
		md += "\n## Load phases\n\n| load | config | calls | decisions | agreement | overrides | "
		      "model's path p50 | model alone p50 | rq max-min mean |\n|---|---|---|---|---|---|---|---|---|\n";
		for (const auto &p : s["phases"]) {
			const auto ag = num(p, {"agreement"});
			md += fmt::format("| {:.0f} % | {} | {:.0f} | {:.0f} | {} | {:.0f} | {} | {} | {:.2f} |\n",
					  num(p, {"load_pct"}).value_or(0), p.value("mode", "?"),
					  num(p, {"counters", "calls"}).value_or(0),
					  num(p, {"counters", "decisions"}).value_or(0),
					  ag ? fmt::format("{:.5f}", *ag) : "-",
					  num(p, {"counters", "overrides"}).value_or(0),
					  fmt_cost(num(p, {"cost_tsc", p.value("mode", "") == "substitute"
									       ? "cmt_substitute_tsc" : "cmt_shadow_tsc", "p50"}), unit),
					  fmt_cost(num(p, {"cost_tsc", "model_tsc", "p50"}), unit),
					  num(p, {"rq_maxdiff", "mean"}).value_or(0));
		}
	}
	if (s.contains("disagreements_by_reason") && s["disagreements_by_reason"].is_object() &&
	    !s["disagreements_by_reason"].empty()) {
		md += "\n## Disagreements by the kernel's reason\n\n| reason.kernel answer | count |\n|---|---|\n";
		for (const auto &[k, v] : s["disagreements_by_reason"].items())
			md += fmt::format("| {} | {} |\n", k, v.dump());
	}
	if (!plots.empty()) {
		md += "\n## Plots\n\n";
		for (const auto &p : plots)
			md += fmt::format("![{}]({})\n", p, p);
	}
	if (!note.empty())
		md += fmt::format("\n{}\n", note);
	return md;
}

int run_report(const ReportOptions &o)
{
	const std::string path = o.in + "/summary.json";
	const std::string text = read_file(path);  // Error(kNoInput) if missing
	json s;
	try {
		s = json::parse(text);
	} catch (const json::exception &e) {
		throw Error(ExitCode::kBadData, fmt::format("{}: not JSON: {}", path, e.what()));
	}
	if (!s.is_object() || s.value("schema", "") != kSchema)
		throw Error(ExitCode::kBadData, fmt::format("{}: field 'schema': not \"{}\"", path, kSchema));
	if (!s.contains("schema_version") || !s["schema_version"].is_number_integer() ||
	    s["schema_version"].get<int>() != kSchemaVersion)
		throw Error(ExitCode::kBadData,
			    fmt::format("{}: field 'schema_version': this kmlb reads version {}", path, kSchemaVersion));
	const std::string out = o.out.empty() ? o.in : o.out;
	std::error_code ec;
	std::filesystem::create_directories(out, ec);
	if (ec)
		throw Error(ExitCode::kWriteError, fmt::format("{}: cannot create directory: {}", out, ec.message()));

	const std::vector<Row> rows = build_rows(s);
	std::string note;
	const std::vector<std::string> plots = write_plots(out, s, note);
	write_file_atomic(out + "/report.md", markdown(s, rows, plots, note));
	if (o.json) {
		json j = json::array();
		for (const auto &r : rows)
			j.push_back({{"what", r.what}, {"kmlb", r.ours}, {"chen2020", r.chen}});
		fmt::print("{}\n", j.dump(2));
	} else {
		const json run = s.value("run", json::object());
		fmt::print("kmlb report: mode {}, kernel {}, model header {}, TCG (compare within the run)\n\n",
			   s.value("mode", "?"), run.value("kernel", "?"), run.value("model_header", "?"));
		fmt::print("{}", text_table(rows));
		fmt::print("\n{}/report.md{}\n", out, plots.empty() ? "" : fmt::format(", {} plots", plots.size()));
	}
	if (!note.empty())
		fmt::print(stderr, "kmlb report: {}\n", note);
	return 0;
}

// The models' side effects, one substitute run each: the table and plots of
// kernel/tools/side_effects.py (one implementation, shared with the scripts).
[[noreturn]] void run_side_effects(const ReportOptions &o)
{
	std::vector<std::string> args;
	for (const std::string &run : o.side_effects) {
		const size_t eq = run.find('=');
		if (eq == std::string::npos || eq == 0 || eq + 1 == run.size())
			throw Error(ExitCode::kUsage, fmt::format("--side-effects '{}': expected NAME=DIR", run));
		args.insert(args.end(), {"--run", run});
	}
	if (!o.out.empty())
		args.insert(args.end(), {"--out", o.out});
	if (o.json)
		throw Error(ExitCode::kUsage, "--json goes with --in; --side-effects writes side_effects.json with --out");
	exec_source_script("python3", "kernel/tools/side_effects.py", args);
}

void add_report(CLI::App &app, Job &job)
{
	auto o = std::make_shared<ReportOptions>();
	CLI::App *sub = app.add_subcommand("report", "Table and plots of a `kmlb vm deploy` run beside Chen et al. 2020");
	CLI::Option *in = sub->add_option("--in", o->in, "directory written by kmlb vm deploy (reads summary.json)");
	sub->add_option("--side-effects", o->side_effects,
			"NAME=DIR of a substitute run, repeated: the models' side effects side by side "
			"(kernel/tools/side_effects.py)")
		->excludes(in);
	sub->add_option("--out", o->out, "where report.md and the SVG plots go (default: --in)");
	sub->add_flag("--json", o->json, "print the table as JSON instead of text");
	sub->footer("Examples:\n  kmlb vm deploy --mode replace --seconds 30 --out runs/replace\n"
		    "  kmlb report --in runs/replace\n  kmlb report --in runs/replace --out docs/deploy --json\n"
		    "  kmlb report --side-effects exact=runs/exact --side-effects inverted=runs/inv --out runs/se");
	sub->final_callback([o, &job] {
		if (o->in.empty() && o->side_effects.empty())
			throw CLI::RequiredError("--in or --side-effects");
		job = [o]() -> int {
			if (o->in.empty())
				run_side_effects(*o);
			return run_report(*o);
		};
	});
}

const CommandRegistration kRegistration(110, add_report);

}  // namespace

}  // namespace kmlb::cli
