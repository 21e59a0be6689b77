// kmlb vm collect|deploy: the QEMU guest jobs. The guest harness is shell and
// C under vm/ (collector) and kernel/ (module); these subcommands check the
// flags and hand over to the scripts of the source tree kmlb was built from,
// with KMLB pointing at this binary so the scripts can run the teacher.
#include <fmt/format.h>
#include <memory>

#include "command.h"
#include "exit_codes.h"
#include "flag_checks.h"
#include "source_script.h"

namespace kmlb::cli {

namespace {

struct VmOptions {
	std::string out, layout = "2socket", load = "50,100,200", mode = "shadow";
	std::string model, train_raw, kernel = "6.1", timing = "tcg";
	int seconds = 60, reps = 5, soak = 0;
	uint64_t seed = 1;
};

void add_vm(CLI::App &app, Job &job)
{
	auto o = std::make_shared<VmOptions>();
	CLI::App *vm = app.add_subcommand("vm", "Real kernels in a QEMU guest (Debian 6.1/6.12/7.x, NUMA + SMT, TCG)");
	vm->require_subcommand(1);
	vm->footer("Examples:\n  kmlb vm collect --seconds 60 --out runs/2s\n"
		   "  kmlb vm deploy --mode replace --seconds 30 --out runs/replace\n"
		   "  kmlb vm deploy --help       the flags of one guest job");

	CLI::App *collect = vm->add_subcommand("collect", "Record real can_migrate_task() decisions with the eBPF collector");
	collect->add_option("--kernel", o->kernel,
			    "kernel line: 6.1 (bookworm), 6.12 (bookworm-backports) or 7 (trixie-backports, 7.x)")
		->capture_default_str();
	collect->add_option("--seconds", o->seconds, "workload seconds per load phase")
		->check(int_range(1, 86400))
		->capture_default_str();
	collect->add_option("--out", o->out, "output directory: raw.csv, summary.json, ...")->required();
	collect->add_option("--layout", o->layout, "2socket (2 nodes) or 4node")->capture_default_str();
	collect->add_option("--load", o->load, "load phases in % of the 8 vCPUs")->capture_default_str();
	collect->add_option("--seed", o->seed, "workload seed")->check(seed_range())->capture_default_str();
	collect->footer("Examples:\n  kmlb vm collect --seconds 60 --out runs/2s\n"
			"  kmlb vm collect --kernel 6.12 --layout 4node --seconds 60 --out runs/4n-6.12");
	collect->final_callback([o, &job] {
		job = [o]() -> int {
			std::string line = o->kernel;
			if (line.starts_with("7."))
				line = "7";
			if (line != "6.1" && line != "6.12" && line != "7")
				throw Error(ExitCode::kUsage,
					    fmt::format("--kernel is 6.1, 6.12 or 7 (7.x), not '{}'", o->kernel));
			exec_source_script("bash", "vm/collect.sh", {"--kernel", line, "--seconds", std::to_string(o->seconds), "--out",
						      o->out, "--layout", o->layout, "--load", o->load, "--seed",
						      std::to_string(o->seed)});
		};
	});

	CLI::App *deploy = vm->add_subcommand("deploy", "Run the model inside the guest kernel (module) and measure side effects");
	deploy->add_option("--mode", o->mode,
			   "shadow (count agreement), replace (the kernel decides, then the model's answer "
			   "is returned) or substitute (the model decides in the function's place)")
		->check(CLI::IsMember({"shadow", "replace", "substitute"}))
		->capture_default_str();
	deploy->add_option("--timing", o->timing,
			   "tcg (single-threaded TCG) or icount (-icount shift=0: costs are instruction counts)")
		->check(CLI::IsMember({"tcg", "icount"}))
		->capture_default_str();
	deploy->add_option("--kernel", o->kernel,
			   "kernel line: 6.1 (bookworm), 6.12 (bookworm-backports) or 7 (trixie-backports, 7.3: "
			   "the module is built in a debootstrap'ed trixie root in the cache)")
		->capture_default_str();
	deploy->add_option("--soak", o->soak, "also N insmod/rmmod cycles with mode switches under 200 % load")
		->check(int_range(0, 100000))
		->capture_default_str();
	deploy->add_option("--seconds", o->seconds, "workload seconds per load phase")
		->check(int_range(1, 86400))
		->capture_default_str();
	deploy->add_option("--out", o->out, "output directory: summary.json, ...")->required();
	deploy->add_option("--load", o->load, "load phases in % of the 8 vCPUs")->capture_default_str();
	deploy->add_option("--reps", o->reps, "repetitions of each parallel benchmark")
		->check(int_range(1, 1000))
		->capture_default_str();
	deploy->add_option("--model", o->model, "model.json to run (default: trained on distilled 6.1 data, cached)");
	deploy->add_option("--train-raw", o->train_raw, "also train on these real traces (comma-separated raw CSVs)");
	deploy->footer("Examples:\n  kmlb vm deploy --mode shadow --seconds 30 --out runs/shadow\n"
		       "  kmlb vm deploy --mode substitute --timing icount --seconds 10 --out runs/icount\n"
		       "  kmlb vm deploy --kernel 6.12 --mode shadow --seconds 30 --out runs/shadow-6.12\n"
		       "  kmlb vm deploy --kernel 7 --mode substitute --seconds 12 --out runs/sub-7\n"
		       "  kmlb vm deploy --mode substitute --soak 300 --seconds 10 --out runs/soak\n"
		       "  kmlb report --in runs/icount");
	deploy->final_callback([o, &job] {
		job = [o]() -> int {
			std::string line = o->kernel;
			if (line.starts_with("7."))
				line = "7";
			if (line != "6.1" && line != "6.12" && line != "7")
				throw Error(ExitCode::kUsage,
					    fmt::format("--kernel is 6.1, 6.12 or 7 (7.x) for the module, not '{}'",
							o->kernel));
			std::vector<std::string> args = {"--kernel", line, "--mode", o->mode,
							  "--seconds", std::to_string(o->seconds),
							  "--out", o->out, "--loads", o->load, "--reps", std::to_string(o->reps),
							  "--timing", o->timing, "--soak", std::to_string(o->soak)};
			if (!o->model.empty())
				args.insert(args.end(), {"--model", o->model});
			if (!o->train_raw.empty())
				args.insert(args.end(), {"--train-raw", o->train_raw});
			exec_source_script("bash", "kernel/deploy.sh", args);
		};
	});
}

// kmlb collect: the collector on this machine's own kernel (no guest).
void add_collect(CLI::App &app, Job &job)
{
	auto o = std::make_shared<VmOptions>();
	auto verbose = std::make_shared<bool>(false);
	CLI::App *sub = app.add_subcommand(
		"collect", "Record can_migrate_task() decisions on this machine's kernel (root, BTF, fentry/fexit)");
	sub->add_option("--out", o->out, "raw CSV to write (written to OUT.tmp, renamed at the end)")->required();
	sub->add_option("--seconds", o->seconds, "stop after this many seconds (0: at SIGINT/SIGTERM)")
		->capture_default_str();
	sub->add_flag("--verbose", *verbose, "show libbpf's CO-RE relocation log");
	sub->footer("Exit 77 when this kernel refuses fentry/fexit (then: kmlb vm collect).\n"
		    "Example:\n  sudo kmlb collect --out raw.csv --seconds 60");
	sub->final_callback([o, verbose, &job] {
		job = [o, verbose]() -> int {
			std::vector<std::string> args = {"--out", o->out, "--seconds", std::to_string(o->seconds)};
			if (*verbose)
				args.push_back("--verbose");
			exec_source_script("bash", "vm/host_collect.sh", args);
		};
	});
}

const CommandRegistration kRegistration(100, add_vm);
const CommandRegistration kCollectRegistration(99, add_collect);

}  // namespace

}  // namespace kmlb::cli
