#include "raw_schema.h"

#include <array>
#include <charconv>
#include <fmt/format.h>
#include <limits>

#include "atomic_file.h"
#include "csv.h"
#include "exit_codes.h"

namespace kmlb {

namespace {

constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxCpu = 8191;   // NR_CPUS of distribution kernels
constexpr int64_t kMaxNode = 1023;  // MAX_NUMNODES with NODES_SHIFT 10

using S = KernelState;

// clang-format off
constexpr std::array<RawColumn, kRawColumns> kColumns = {{
	{"ts", &S::ts, 0, kI64Max, "bpf_ktime_get_ns() at the call, ns"},
	{"curr_pid", &S::curr_pid, 0, kI64Max, "pid of src_rq->curr"},
	{"pid", &S::pid, 0, kI64Max, "pid of the task considered (p)"},
	{"src_cpu", &S::src_cpu, 0, kMaxCpu, "env->src_cpu (the busiest CPU)"},
	{"dst_cpu", &S::dst_cpu, 0, kMaxCpu, "env->dst_cpu (the CPU pulling)"},
	{"imbalance", &S::imbalance, kI64Min, kI64Max, "env->imbalance"},
	{"src_len", &S::src_len, 0, kI64Max, "src_rq->nr_running"},
	{"src_numa_len", &S::src_numa_len, 0, kI64Max, "src_rq->nr_numa_running"},
	{"src_preferred_len", &S::src_preferred_len, 0, kI64Max, "src_rq->nr_preferred_running"},
	{"delta", &S::delta, kI64Min, kI64Max, "rq_clock_task(src_rq) - p->se.exec_start, ns"},
	{"cpu_idle", &S::cpu_idle, 0, 1, "env->idle == CPU_IDLE"},
	{"cpu_not_idle", &S::cpu_not_idle, 0, 1, "env->idle == CPU_NOT_IDLE (__CPU_NOT_IDLE from 6.12)"},
	{"cpu_newly_idle", &S::cpu_newly_idle, 0, 1, "env->idle == CPU_NEWLY_IDLE"},
	{"same_node", &S::same_node, 0, 1, "src_nid == dst_nid"},
	{"prefer_src", &S::prefer_src, 0, 1, "src_nid == p->numa_preferred_nid"},
	{"prefer_dst", &S::prefer_dst, 0, 1, "dst_nid == p->numa_preferred_nid"},
	{"delta_faults", &S::delta_faults, kI64Min, kI64Max, "dst_faults - src_faults"},
	{"total_faults", &S::total_faults, 0, kI64Max, "p->total_numa_faults"},
	{"dst_len", &S::dst_len, 0, kI64Max, "dst_rq->nr_running"},
	{"src_load", &S::src_load, 0, kI64Max, "src_rq->cfs.avg.load_avg"},
	{"dst_load", &S::dst_load, 0, kI64Max, "dst_rq->cfs.avg.load_avg"},
	{"nr_fails", &S::nr_fails, 0, kI64Max, "env->sd->nr_balance_failed"},
	{"cache_nice_tries", &S::cache_nice_tries, 0, kI64Max, "env->sd->cache_nice_tries"},
	{"buddy_hot", &S::buddy_hot, 0, 1, "p is its cfs_rq's next or last buddy (raw flag, no dst_len test)"},
	{"throttled", &S::throttled, 0, 1, "throttled_lb_pair() (lb_throttled_hierarchy() from 6.18)"},
	{"p_running", &S::p_running, 0, 1, "task_running(src_rq, p) / task_on_cpu()"},
	{"test_aggressive", &S::test_aggressive, 0, 1, "!throttled && !per_cpu_kthread && dst_allowed && !p_running"},
	{"can_migrate", &S::can_migrate, -1, 1, "recorded return value of can_migrate_task; -1 unknown"},
	{"pc_0", &S::pc_0, kI64Min, kI64Max, "hardware counter 0 (0 when unavailable)"},
	{"pc_1", &S::pc_1, kI64Min, kI64Max, "hardware counter 1 (0 when unavailable)"},
	{"per_cpu_kthread", &S::per_cpu_kthread, 0, 1, "kthread_is_per_cpu(p)"},
	{"dst_allowed", &S::dst_allowed, 0, 1, "cpumask_test_cpu(env->dst_cpu, p->cpus_ptr)"},
	{"active_lb", &S::active_lb, 0, 1, "env->flags & LBF_ACTIVE_LB (active balance)"},
	{"sd_numa", &S::sd_numa, 0, 1, "env->sd->flags & SD_NUMA"},
	{"sd_share_cpucapacity", &S::sd_share_cpucapacity, 0, 1, "env->sd->flags & SD_SHARE_CPUCAPACITY (SMT domain)"},
	{"numa_balancing", &S::numa_balancing, 0, 1, "static key sched_numa_balancing (kernel.numa_balancing)"},
	{"src_nid", &S::src_nid, 0, kMaxNode, "cpu_to_node(env->src_cpu)"},
	{"dst_nid", &S::dst_nid, 0, kMaxNode, "cpu_to_node(env->dst_cpu)"},
	{"preferred_nid", &S::preferred_nid, -1, kMaxNode, "p->numa_preferred_nid (-1: NUMA_NO_NODE)"},
	{"has_numa_faults", &S::has_numa_faults, 0, 1, "p->numa_faults != NULL"},
	{"src_faults", &S::src_faults, 0, kI64Max, "task_faults(p, src_nid) (NUMA_MEM, private + shared)"},
	{"dst_faults", &S::dst_faults, 0, kI64Max, "task_faults(p, dst_nid)"},
	{"numa_group", &S::numa_group, 0, 1, "p->numa_group != NULL"},
	{"group_src_faults", &S::group_src_faults, 0, kI64Max, "group_faults(p, src_nid)"},
	{"group_dst_faults", &S::group_dst_faults, 0, kI64Max, "group_faults(p, dst_nid)"},
	{"group_total_faults", &S::group_total_faults, 0, kI64Max, "p->numa_group->total_faults"},
	{"next_buddy", &S::next_buddy, 0, 1, "&p->se == cfs_rq_of(&p->se)->next"},
	{"last_buddy", &S::last_buddy, 0, 1, "&p->se == cfs_rq_of(&p->se)->last (always 0 from 6.6)"},
	{"migration_cost_ns", &S::migration_cost_ns, -1, kI64Max, "sysctl_sched_migration_cost; -1 means 'always hot'"},
	{"fair_class", &S::fair_class, 0, 1, "p->sched_class == &fair_sched_class"},
	{"idle_policy", &S::idle_policy, 0, 1, "task_has_idle_policy(p) (SCHED_IDLE)"},
	{"cookie_match", &S::cookie_match, 0, 1, "sched_core_cookie_match(dst_rq, p) (1 without core scheduling)"},
	{"sched_delayed", &S::sched_delayed, 0, 1, "p->se.sched_delayed: delayed dequeue (6.12+)"},
	{"migration_type", &S::migration_type, 0, 3, "env->migration_type: 0 load, 1 util, 2 task, 3 misfit"},
	{"ineligible_on_dst", &S::ineligible_on_dst, 0, 1, "task_is_ineligible_on_dst_cpu(p, dst_cpu) (6.14+)"},
	{"blocked_on_mutex", &S::blocked_on_mutex, 0, 1, "task_is_blocked(p) (6.18+)"},
	{"current_donor", &S::current_donor, 0, 1, "task_current_donor(src_rq, p) (6.18+)"},
}};
// clang-format on

constexpr std::array<std::string_view, kRawColumns> make_names()
{
	std::array<std::string_view, kRawColumns> names{};
	for (size_t i = 0; i < kColumns.size(); ++i)
		names[i] = kColumns[i].name;
	return names;
}
constexpr std::array<std::string_view, kRawColumns> kNames = make_names();

int column_index(int64_t KernelState::*field)
{
	for (size_t i = 0; i < kColumns.size(); ++i)
		if (kColumns[i].field == field)
			return static_cast<int>(i);
	return 0;
}

}  // namespace

std::span<const RawColumn> raw_columns() { return kColumns; }
std::span<const std::string_view> raw_column_names() { return kNames; }

void derive_a1_columns(KernelState &s)
{
	s.same_node = s.src_nid == s.dst_nid;
	s.prefer_src = s.preferred_nid != kNumaNoNode && s.src_nid == s.preferred_nid;
	s.prefer_dst = s.preferred_nid != kNumaNoNode && s.dst_nid == s.preferred_nid;
	s.delta_faults = s.dst_faults - s.src_faults;
	s.buddy_hot = s.next_buddy || s.last_buddy;
	s.test_aggressive = !s.throttled && !s.per_cpu_kthread && s.dst_allowed && !s.p_running;
}

std::string raw_consistency_error(const KernelState &s, bool full_schema)
{
	if (s.cpu_idle + s.cpu_not_idle + s.cpu_newly_idle != 1)
		return "cpu_idle, cpu_not_idle and cpu_newly_idle must hold exactly one 1";
	if (s.src_preferred_len > s.src_len)
		return "src_preferred_len exceeds src_len";
	if (s.src_numa_len > s.src_len)
		return "src_numa_len exceeds src_len";
	if (!full_schema)
		return {};
	KernelState d = s;
	derive_a1_columns(d);
	const std::pair<int64_t KernelState::*, const char *> identities[] = {
		{&S::same_node, "src_nid == dst_nid"},
		{&S::prefer_src, "src_nid == preferred_nid"},
		{&S::prefer_dst, "dst_nid == preferred_nid"},
		{&S::delta_faults, "dst_faults - src_faults"},
		{&S::buddy_hot, "next_buddy || last_buddy"},
		{&S::test_aggressive, "!throttled && !per_cpu_kthread && dst_allowed && !p_running"},
	};
	for (const auto &[field, rule] : identities)
		if (s.*field != d.*field)
			return fmt::format("{} is {} but {} gives {}", kColumns[column_index(field)].name,
					   s.*field, rule, d.*field);
	return {};
}

RawTrace parse_raw_csv(std::string_view text, const std::string &file)
{
	CsvReader csv(text, file);
	RawTrace trace;
	trace.file = file;
	const size_t ncols = csv.header().size();
	if (ncols == static_cast<size_t>(kA1Columns) &&
	    csv.header().back() == kColumns[kA1Columns - 1].name) {
		csv.expect_header(std::span(kNames).first(kA1Columns));
		trace.full_schema = false;
	} else {
		csv.expect_header(kNames, !csv.header().empty() && csv.header()[0] == "src_non_pref_nr"
						  ? "this is a features CSV; this command reads a raw trace, "
						    "as kmlb generate --format raw and kmlb vm collect write"
						  : "");
	}
	trace.rows.reserve(text.size() / (ncols * 3));
	while (csv.next_row()) {
		KernelState s;
		for (size_t c = 0; c < ncols; ++c) {
			const int64_t v = csv.int_field(c);
			if (v < kColumns[c].min || v > kColumns[c].max)
				csv.fail(c, fmt::format("{} is out of range [{}, {}]", v,
							kColumns[c].min, kColumns[c].max));
			s.*kColumns[c].field = v;
		}
		if (const std::string why = raw_consistency_error(s, trace.full_schema); !why.empty())
			csv.fail_line(why);
		trace.rows.push_back(s);
	}
	return trace;
}

RawTrace read_raw_csv(const std::string &path)
{
	const std::string text = read_file(path);
	return parse_raw_csv(text, path);
}

void append_raw_header(std::string &out) { append_csv_line(out, kNames); }

void append_raw_row(std::string &out, const KernelState &s)
{
	char buf[24];
	for (size_t c = 0; c < kColumns.size(); ++c) {
		if (c)
			out.push_back(',');
		const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s.*kColumns[c].field);
		out.append(buf, end);
	}
	out.push_back('\n');
}

}  // namespace kmlb
