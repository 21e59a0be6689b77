// Sampling of kernel states. Every choice below is part of kmlb's data
// format: the same GeneratorConfig gives byte-identical output.
//
// Topology (all presets): `nodes` sockets, one NUMA node each, every remote
// node at the same distance (NUMA_DIRECT); CPU c is thread c / (nodes*cores)
// of core c % (nodes*cores), on node (c % (nodes*cores)) / cores: the
// numbering Linux gives a 2-socket x86 server. Balancing between SMT
// siblings happens in the SMT domain (SD_SHARE_CPUCAPACITY, cache_nice_tries
// 0), inside a node in MC (1), across nodes in a NUMA domain (SD_NUMA, 2),
// as sd_init() sets them.
//
// Physical consistency kept in every preset: exactly one idle type; same
// node <=> equal node ids, so prefer_src == prefer_dst there, and different
// nodes are never both preferred; src nr_running >= 2 (a balance pulls from
// a queue of at least two); p itself is on src, so nr_preferred_running <
// nr_running unless p prefers src (then >= 1) and nr_numa_running counts p
// when it has a preferred node; per-node faults sum to the totals; a task
// in a NUMA group has group faults >= its own; dst and src CPUs differ.
#include "generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>

#include "domain.h"
#include "exit_codes.h"
#include "raw_schema.h"
#include "rng.h"

namespace kmlb {

namespace {

constexpr std::array<std::string_view, 6> kPresetNames = {"seed",       "idle",        "balanced",
							  "overloaded", "seed-domain", "modern-domain"};

struct Topology {
	int nodes, cores_per_node, threads;
	int cpus() const { return nodes * cores_per_node * threads; }
	int cores() const { return nodes * cores_per_node; }
	int node_of(int cpu) const { return (cpu % cores()) / cores_per_node; }
	int core_of(int cpu) const { return cpu % cores(); }
	int cpu_on(int node, int core_in_node, int thread) const
	{
		return thread * cores() + node * cores_per_node + core_in_node;
	}
};

enum class Domain { kSmt, kMc, kNuma };

void set_domain(KernelState &s, Domain d)
{
	s.sd_share_cpucapacity = d == Domain::kSmt;
	s.sd_numa = d == Domain::kNuma;
	s.cache_nice_tries = d == Domain::kSmt ? 0 : d == Domain::kMc ? 1 : 2;
}

// Places src and dst CPUs so that they meet in domain `d`.
void place_cpus(KernelState &s, Rng &rng, const Topology &t, Domain d)
{
	const int src_node = static_cast<int>(rng.below(t.nodes));
	const int src_core = static_cast<int>(rng.below(t.cores_per_node));
	const int src_thread = static_cast<int>(rng.below(t.threads));
	int dst_node = src_node, dst_core = src_core, dst_thread = src_thread;
	switch (d) {
	case Domain::kSmt:
		dst_thread = (src_thread + 1 + static_cast<int>(rng.below(t.threads - 1))) % t.threads;
		break;
	case Domain::kMc:
		dst_core = (src_core + 1 + static_cast<int>(rng.below(t.cores_per_node - 1))) %
			   t.cores_per_node;
		dst_thread = static_cast<int>(rng.below(t.threads));
		break;
	case Domain::kNuma:
		dst_node = (src_node + 1 + static_cast<int>(rng.below(t.nodes - 1))) % t.nodes;
		dst_core = static_cast<int>(rng.below(t.cores_per_node));
		dst_thread = static_cast<int>(rng.below(t.threads));
		break;
	}
	s.src_cpu = t.cpu_on(src_node, src_core, src_thread);
	s.dst_cpu = t.cpu_on(dst_node, dst_core, dst_thread);
	s.src_nid = src_node;
	s.dst_nid = dst_node;
}

void set_idle(KernelState &s, IdleType idle)
{
	s.cpu_idle = idle == IdleType::kIdle;
	s.cpu_not_idle = idle == IdleType::kNotIdle;
	s.cpu_newly_idle = idle == IdleType::kNewlyIdle;
}

int64_t clip(int64_t v, int64_t lo, int64_t hi) { return std::min(hi, std::max(lo, v)); }

int64_t abs_normal_len(Rng &rng, double stddev)
{
	return clip(std::llround(std::fabs(rng.normal(0.0, stddev))), 0, 55);
}

// Geometric count with the given mean (0, 1, 2, ...).
int64_t geometric(Rng &rng, double mean)
{
	const double p = 1.0 / (1.0 + mean);
	int64_t k = 0;
	while (k < 1000 && !rng.bernoulli(p))
		++k;
	return k;
}

// Run-queue counters that keep p on src consistent with its preference.
void set_src_queue(KernelState &s, Rng &rng, int64_t src_len, bool non_preferred_waiting)
{
	s.src_len = src_len;
	const bool p_counts_preferred = s.preferred_nid != kNumaNoNode && s.preferred_nid == s.src_nid;
	if (!p_counts_preferred)
		non_preferred_waiting = true;  // p itself is off its preferred node
	const int64_t lo = p_counts_preferred ? 1 : 0;
	s.src_preferred_len = non_preferred_waiting ? rng.between(lo, src_len - 1) : src_len;
	const int64_t numa_lo = std::max(s.src_preferred_len,
					 static_cast<int64_t>(s.preferred_nid != kNumaNoNode));
	s.src_numa_len = rng.between(numa_lo, src_len);
}

void set_bookkeeping(KernelState &s, Rng &rng, int64_t &clock_ns)
{
	clock_ns += rng.between(1000, 2000000);
	s.ts = clock_ns;
	s.curr_pid = rng.between(1000, 60000);
	s.pid = s.p_running ? s.curr_pid : rng.between(1000, 60000);
	if (!s.p_running && s.pid == s.curr_pid)
		s.pid = s.curr_pid + 1;
	s.imbalance = rng.between(1, std::max<int64_t>(1, s.src_load));
}

// ---------------------------------------------------------------------------
// The seed preset: the report's table (section 3.1), made consistent.
//
// Every "random" binary of the table is a fair coin except extra_fails. With
// 5.15 semantics and no active balance or SMT domain, a row is class 0 iff
// the task is hot and extra_fails is 0, so P(class 0) = P(hot) (1 - p_ef).
// With fair coins elsewhere P(hot) is about 0.60 (0.717 for task_hot: delta
// hot, or buddy with dst_len > 0, which |N(0,3)| makes 86.8 % likely; 0.481
// across nodes), so p_ef = 0.70 gives the report's 18 % / 82 %.
// src_len and dst_len: |N(0, 3)| rounded and clipped to 0..55 (src_len is
// stored + 2, as A2 subtracts 2). delta_faults: N(0, 4) rounded, clipped to
// -10..10, 0 on the same node; per-node faults 0..210 so that totals stay
// <= 1000, where 1000 * faults / total keeps the order of the raw faults:
// the sign of delta_faults then decides the weight test exactly.
// Loads: exponential, mean 1024 per runnable task. delta: uniform below the
// migration cost when hot, else the cost plus an exponential of mean 2 ms.
KernelState seed_state(Rng &rng, const Topology &t, const SeedPresetProbabilities &p,
		       int64_t &clock_ns)
{
	KernelState s;
	if (rng.bernoulli(p.cpu_idle))
		set_idle(s, IdleType::kIdle);
	else
		set_idle(s, rng.bernoulli(0.5) ? IdleType::kNewlyIdle : IdleType::kNotIdle);

	const bool same = rng.bernoulli(p.same_node);
	place_cpus(s, rng, t, same ? Domain::kMc : Domain::kNuma);
	set_domain(s, same ? Domain::kMc : Domain::kNuma);

	bool prefer_src, prefer_dst;
	if (same) {
		prefer_src = prefer_dst = rng.bernoulli(p.prefer);
	} else {
		do {
			prefer_src = rng.bernoulli(p.prefer);
			prefer_dst = rng.bernoulli(p.prefer);
		} while (prefer_src && prefer_dst);
	}
	const int64_t other_node = (s.src_nid + 1) % t.nodes;
	s.preferred_nid = prefer_src ? s.src_nid : prefer_dst ? s.dst_nid : same ? other_node : kNumaNoNode;

	set_src_queue(s, rng, abs_normal_len(rng, p.len_stddev) + 2, rng.bernoulli(p.src_non_pref_nr));
	s.dst_len = abs_normal_len(rng, p.len_stddev);

	s.delta = rng.bernoulli(p.delta_hot)
			  ? rng.between(0, s.migration_cost_ns - 1)
			  : s.migration_cost_ns + std::llround(rng.exponential(2e6));

	if (rng.bernoulli(p.buddy_hot)) {
		s.next_buddy = rng.bernoulli(0.5);
		s.last_buddy = !s.next_buddy;
	}

	s.nr_fails = rng.bernoulli(p.extra_fails) ? s.cache_nice_tries + 1 + geometric(rng, 1.0)
						  : rng.between(0, s.cache_nice_tries);

	s.has_numa_faults = 1;
	if (same) {
		s.src_faults = s.dst_faults = rng.between(1, 200);
		s.total_faults = s.src_faults + rng.between(0, 200);
	} else {
		const int64_t d = clip(std::llround(rng.normal(0.0, p.delta_faults_stddev)), -10, 10);
		s.src_faults = rng.between(d == 0 ? 1 : 0, 200) + std::max<int64_t>(0, -d);
		s.dst_faults = s.src_faults + d;
		s.total_faults = s.src_faults + s.dst_faults;
	}

	s.src_load = std::llround(rng.exponential(p.load_mean * static_cast<double>(s.src_len)));
	s.dst_load = std::llround(rng.exponential(p.load_mean * static_cast<double>(std::max<int64_t>(1, s.dst_len))));
	set_bookkeeping(s, rng, clock_ns);
	derive_a1_columns(s);
	return s;
}

// ---------------------------------------------------------------------------
// The load presets: full states of a running machine.
struct LoadShape {
	double idle_p, newly_idle_p;  // env->idle (rest: CPU_NOT_IDLE)
	double src_extra_mean;        // src nr_running = 2 + geometric(mean)
	double dst_extra_mean;        // busy dst: nr_running = 1 + geometric(mean)
	double delta_mean_ns;         // time since p last ran
	double fails_mean;            // sd->nr_balance_failed
	double active_lb_p;
	double cross_node_p, smt_p;   // domain of the pair (rest: MC)
};

LoadShape load_shape(Preset preset)
{
	switch (preset) {
	case Preset::kIdle:
		return {0.45, 0.40, 0.3, 0.3, 0.4e6, 0.3, 0.01, 0.35, 0.30};
	case Preset::kBalanced:
		return {0.25, 0.20, 1.0, 0.8, 1.0e6, 0.8, 0.03, 0.35, 0.25};
	default:
		return {0.05, 0.05, 3.0, 2.0, 3.0e6, 1.5, 0.06, 0.35, 0.25};
	}
}

KernelState load_state(Rng &rng, const Topology &t, const GeneratorConfig &cfg, const LoadShape &shape,
		       int64_t &clock_ns)
{
	KernelState s;
	s.migration_cost_ns = cfg.migration_cost_ns;
	s.numa_balancing = cfg.numa_balancing;
	const bool since_5_15 = cfg.kernel != KernelVersion::k4_15;
	const bool eevdf = cfg.kernel == KernelVersion::k6_6 || cfg.kernel == KernelVersion::k6_18;
	const bool since_6_14 = cfg.kernel == KernelVersion::k6_18;

	const double u = rng.uniform();
	const IdleType idle = u < shape.idle_p ? IdleType::kIdle
			      : u < shape.idle_p + shape.newly_idle_p ? IdleType::kNewlyIdle
								    : IdleType::kNotIdle;
	set_idle(s, idle);

	const double v = rng.uniform();
	const Domain domain = t.threads > 1 && v < shape.smt_p ? Domain::kSmt
			      : v < shape.smt_p + shape.cross_node_p ? Domain::kNuma
								     : Domain::kMc;
	place_cpus(s, rng, t, domain);
	set_domain(s, domain);

	// A newly idle destination has nothing runnable. Periodic balancing from
	// an idle CPU often finds a task woken there meanwhile (26 % of CPU_IDLE
	// rows of real 6.1 traces).
	if (idle == IdleType::kNotIdle)
		s.dst_len = 1 + geometric(rng, shape.dst_extra_mean);
	else if (idle == IdleType::kIdle && rng.bernoulli(0.26))
		s.dst_len = 1 + geometric(rng, 0.3);
	const int64_t src_len = 2 + geometric(rng, shape.src_extra_mean);

	// NUMA statistics, shaped after real 6.1 traces: 93 % of tasks have
	// fault statistics, of which 8 % hold only zeros (allocated, nothing
	// counted yet or decayed away: no preferred node, equal weights); most
	// multi-threaded tasks share memory in a NUMA group (85 %); a preferred
	// node is usually the one with the most faults.
	s.has_numa_faults = rng.bernoulli(0.93);
	std::array<int64_t, 4> faults{}, group{};
	const bool counted = s.has_numa_faults && !rng.bernoulli(0.08);
	if (counted) {
		const double scale = rng.bernoulli(0.5) ? 40.0 : 4000.0;
		for (int n = 0; n < t.nodes; ++n) {
			faults[n] = std::llround(rng.exponential(scale));
			s.total_faults += faults[n];
		}
		s.numa_group = rng.bernoulli(0.85);
		if (s.numa_group)
			for (int n = 0; n < t.nodes; ++n) {
				group[n] = faults[n] + std::llround(rng.exponential(3.0 * scale));
				s.group_total_faults += group[n];
			}
		const auto &basis = s.numa_group ? group : faults;
		const int busiest = static_cast<int>(std::max_element(basis.begin(), basis.begin() + t.nodes) - basis.begin());
		const double w = rng.uniform();
		s.preferred_nid = w < 0.7 ? busiest : w < 0.9 ? static_cast<int64_t>(rng.below(t.nodes)) : kNumaNoNode;
		s.src_faults = faults[s.src_nid];
		s.dst_faults = faults[s.dst_nid];
		s.group_src_faults = group[s.src_nid];
		s.group_dst_faults = group[s.dst_nid];
	}
	set_src_queue(s, rng, src_len, rng.bernoulli(0.6));

	// The running task is on the list detach_tasks() walks: 1 in src_len.
	s.p_running = rng.below(src_len) == 0;
	s.throttled = rng.bernoulli(0.01);
	s.per_cpu_kthread = since_5_15 && rng.bernoulli(0.02);
	s.dst_allowed = !rng.bernoulli(s.per_cpu_kthread ? 0.95 : 0.05);
	s.active_lb = since_5_15 && rng.bernoulli(shape.active_lb_p);
	if (s.active_lb) {
		// active_load_balance_cpu_stop() balances with .idle = CPU_IDLE,
		// mostly after failed attempts (misfit and asymmetric packing need none).
		set_idle(s, IdleType::kIdle);
		s.nr_fails = geometric(rng, shape.fails_mean) + (rng.bernoulli(0.8) ? s.cache_nice_tries + 1 : 0);
	} else {
		s.nr_fails = geometric(rng, shape.fails_mean);
	}

	s.delta = std::llround(rng.exponential(shape.delta_mean_ns));
	s.next_buddy = rng.bernoulli(0.15);
	s.last_buddy = !eevdf && rng.bernoulli(0.10);
	// Rare task kinds: SCHED_IDLE tasks, and core scheduling with a cookie
	// that does not match the destination. Never a non-CFS task: the list
	// detach_tasks() walks (cfs_tasks) holds only CFS tasks, so task_hot()'s
	// class test is defensive; unit tests cover it.
	s.idle_policy = rng.bernoulli(0.01);
	s.cookie_match = !(since_5_15 && rng.bernoulli(0.01));

	if (since_6_14) {
		s.sched_delayed = rng.bernoulli(0.05);
		const double m = rng.uniform();
		s.migration_type = m < 0.6 ? kMigrateLoad : m < 0.75 ? kMigrateUtil : m < 0.95 ? kMigrateTask : kMigrateMisfit;
		s.ineligible_on_dst = rng.bernoulli(0.2);
		s.blocked_on_mutex = rng.bernoulli(0.01);
		s.current_donor = !s.p_running && rng.bernoulli(0.005);
	}

	// PELT load: the runnable tasks' weights (5 % to all of 1024 each: a task
	// that mostly sleeps carries little load) plus the blocked load that decays slowly
	// after tasks sleep or leave. An empty CPU therefore still carries load,
	// as in real traces; were the load 0 exactly when the queue is empty, a
	// model would learn load as a stand-in for dst_len (the buddy test).
	auto pelt_load = [&rng](int64_t runnable) {
		const double weights = 1024.0 * (0.05 + 0.95 * rng.uniform()) * static_cast<double>(runnable);
		return std::llround(weights + rng.exponential(1000.0));
	};
	s.src_load = pelt_load(s.src_len);
	s.dst_load = pelt_load(s.dst_len);
	set_bookkeeping(s, rng, clock_ns);
	derive_a1_columns(s);
	return s;
}

}  // namespace

std::string_view preset_name(Preset p) { return kPresetNames[static_cast<size_t>(p)]; }
std::span<const std::string_view> preset_names() { return kPresetNames; }

Preset parse_preset(std::string_view name)
{
	for (size_t i = 0; i < kPresetNames.size(); ++i)
		if (kPresetNames[i] == name)
			return static_cast<Preset>(i);
	throw Error(ExitCode::kUsage,
		    fmt::format("unknown preset '{}' (supported: seed, idle, balanced, overloaded, seed-domain, "
				"modern-domain)",
				name));
}

GeneratorConfig preset_config(Preset p)
{
	GeneratorConfig c;
	c.preset = p;
	c.rows = p == Preset::kSeed ? 86400 : p == Preset::kSeedDomain || p == Preset::kModernDomain ? 200000 : 50000;
	return c;
}

GeneratedStates generate_states(const GeneratorConfig &cfg)
{
	if (cfg.nodes < 2 || cfg.nodes > 4)
		throw Error(ExitCode::kUsage, fmt::format("--nodes must be 2..4, got {}", cfg.nodes));
	if (cfg.cores_per_node < 2 || cfg.threads_per_core < 1 || cfg.threads_per_core > 2)
		throw Error(ExitCode::kUsage, "topology needs >= 2 cores per node and 1 or 2 threads per core");
	if (cfg.preset == Preset::kSeed && cfg.nodes != 2)
		throw Error(ExitCode::kUsage, "the seed preset is a 2-node machine (its faults assume it)");
	const Topology topo{cfg.nodes, cfg.cores_per_node, cfg.threads_per_core};
	Rng rng(cfg.seed);
	const SeedPresetProbabilities seed_p;
	const LoadShape shape = load_shape(cfg.preset);
	int64_t clock_ns = 1000000000;

	GeneratedStates out;
	out.states.reserve(cfg.rows);
	out.decisions.reserve(cfg.rows);
	if (cfg.preset == Preset::kSeedDomain || cfg.preset == Preset::kModernDomain) {
		const VerifyDomain domain(cfg.preset == Preset::kSeedDomain ? FeatureSet::kSeed : FeatureSet::kModern,
					  cfg.kernel);
		for (size_t i = 0; i < cfg.rows; ++i) {
			KernelState s = domain.sample(rng);
			clock_ns += 1000;
			s.ts = clock_ns;
			const Decision d = can_migrate_task(s, cfg.kernel);
			s.can_migrate = d.migrate;
			out.states.push_back(s);
			out.decisions.push_back(d);
		}
		return out;
	}
	for (size_t i = 0; i < cfg.rows; ++i) {
		KernelState s = cfg.preset == Preset::kSeed ? seed_state(rng, topo, seed_p, clock_ns)
							    : load_state(rng, topo, cfg, shape, clock_ns);
		const Decision d = can_migrate_task(s, cfg.kernel);
		s.can_migrate = d.migrate;
		out.states.push_back(s);
		out.decisions.push_back(d);
	}
	return out;
}

}  // namespace kmlb
