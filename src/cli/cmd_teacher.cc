// kmlb teacher: the kernel's own decision over recorded states, with reasons.
#include <fmt/format.h>
#include <memory>

#include "agreement.h"
#include "atomic_file.h"
#include "command.h"
#include "exit_codes.h"
#include "flag_checks.h"

namespace kmlb::cli {

namespace {

struct TeacherOptions {
	std::string kernel = kDefaultKernel, in, out;
	bool json = false, list_reasons = false, list_versions = false;
	double require = -1;
};

int list_reasons()
{
	fmt::print("{:<22} {:<5} {}\n", "reason", "hard", "branch that decided");
	for (int r = 0; r < kReasonCount; ++r) {
		const ReasonInfo &info = reason_info(static_cast<Reason>(r));
		fmt::print("{:<22} {:<5} {}\n", info.name, info.hard_check ? "yes" : "", info.description);
	}
	return 0;
}

int list_versions()
{
	for (const auto &v : kernel_version_names())
		fmt::print("{:<6} teacher {:<5} {}\n", v.name, canonical_name(v.version), v.note);
	return 0;
}

int run_teacher(const TeacherOptions &o)
{
	if (o.list_reasons)
		return list_reasons();
	if (o.list_versions)
		return list_versions();
	if (o.in.empty())
		throw Error(ExitCode::kUsage, "teacher needs --in raw.csv (or --list-reasons, --list-versions)");
	const KernelVersion version = parse_kernel_version(o.kernel);
	const RawTrace trace = read_raw_csv(o.in);
	if (trace.rows.empty())
		throw Error(ExitCode::kBadData, fmt::format("{}: no data rows (only the header): nothing to label", o.in));
	if (same_file(o.in, o.out))
		throw Error(ExitCode::kUsage, fmt::format("--out {} would overwrite the input {}", o.out, o.in));
	std::vector<Decision> decisions;
	const Agreement a = compare_with_teacher(trace, version, &decisions);

	if (!o.out.empty()) {
		std::string csv = "line,teacher,reason,recorded,agree\n";
		for (size_t i = 0; i < decisions.size(); ++i) {
			const int64_t rec = trace.rows[i].can_migrate;
			fmt::format_to(std::back_inserter(csv), "{},{},{},{},{}\n", trace.first_data_line + i,
				       int(decisions[i].migrate), reason_name(decisions[i].reason), rec,
				       rec < 0 ? -1 : int((rec == 1) == decisions[i].migrate));
		}
		write_file_atomic(o.out, csv);
	}

	if (o.json) {
		nlohmann::json j = a.to_json();
		j["kernel"] = o.kernel;
		j["teacher"] = canonical_name(version);
		j["file"] = o.in;
		fmt::print("{}\n", j.dump(2));
	} else {
		fmt::print("{}: {} rows, kernel {} says migrate on {} ({:.2f} %)\n", o.in, a.rows, kernel_label(o.kernel),
			   a.migrate, a.rows ? 100.0 * a.migrate / a.rows : 0.0);
		if (a.recorded)
			fmt::print("agreement with recorded can_migrate: {:.6f} ({} of {}), {} disagree; "
				   "past the hard checks {} of {}\n",
				   a.agreement(), a.agree, a.recorded, a.disagree, a.kept_agree, a.kept);
		fmt::print("{:<22} {:>9} {:>9}\n", "reason", "rows", "disagree");
		for (int r = 0; r < kReasonCount; ++r)
			if (a.by_reason[r])
				fmt::print("{:<22} {:>9} {:>9}\n", reason_name(static_cast<Reason>(r)), a.by_reason[r],
					   a.disagree_by_reason[r]);
	}
	if (o.require >= 0 && a.recorded == 0) {
		fmt::print(stderr, "kmlb: {}: no row has a recorded can_migrate (all -1): --require-agreement has "
				   "nothing to compare\n", o.in);
		return static_cast<int>(ExitCode::kBadData);
	}
	if (o.require >= 0 && a.agreement() < o.require) {
		fmt::print(stderr, "kmlb: agreement {:.6f} is below --require-agreement {}\n", a.agreement(), o.require);
		return static_cast<int>(ExitCode::kFailure);
	}
	return 0;
}

}  // namespace

namespace {

void add_teacher(CLI::App &app, Job &job)
{
	auto o = std::make_shared<TeacherOptions>();
	CLI::App *sub = app.add_subcommand("teacher", "Label raw states with a kernel version's can_migrate_task() and its reason");
	sub->add_option("--kernel", o->kernel, "kernel version: 4.15, 5.15 (= 6.1), 6.6 (= 6.12), 6.18 (= 7.1, 7.3, 7.x)")
		->capture_default_str();
	add_input_option(sub, o->in, "raw CSV in kmlb's full schema (required)");
	sub->add_option("--out", o->out, "per-row CSV: line, teacher, reason, recorded, agree");
	sub->add_flag("--json", o->json, "summary as JSON (rows, agree, disagree, by_reason, ...)");
	sub->add_option("--require-agreement", o->require, "exit 1 if agreement with the recording is below this fraction")
		->check(real_range(0, 1));
	sub->add_flag("--list-reasons", o->list_reasons, "print the reason codes and exit");
	sub->add_flag("--list-versions", o->list_versions, "print the accepted kernel versions and exit");
	sub->footer("Examples:\n  kmlb teacher --kernel 6.1 --in raw.csv --json\n"
		    "  kmlb teacher --kernel 6.12 --in runs/6.12/raw.csv --require-agreement 1\n"
		    "  kmlb teacher --kernel 7.x --in runs/7/raw.csv --out per-row.csv\n  kmlb teacher --list-reasons");
	sub->final_callback([o, &job] { job = [o] { return run_teacher(*o); }; });
}

const CommandRegistration kRegistration(30, add_teacher);

}  // namespace

}  // namespace kmlb::cli
