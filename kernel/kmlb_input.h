/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmlb_input.h - one call of can_migrate_task() as the module reads it, and
 * the kernel's decision recomputed from it: Linux 6.1's (the same function
 * as the C++ teacher in src/teacher_v5_15.cc and src/teacher_common.cc) and
 * 6.6-6.12's (src/teacher_v6_6.cc), which differ only in the buddy test:
 * EEVDF removed cfs_rq->last, so on those kernels the module reads
 * last_buddy = 0 and the same function is their decision.
 *
 * Built with KMLB_V7 1 (kmlb_version.h decides it for 6.14+ kernels; the
 * host test defines it for 7.x rows), kmlb_decide() is 6.18's decision,
 * which 7.1 and 7.3 keep (src/teacher_v6_18.cc): delayed-dequeue tasks
 * refused unless the balancer migrates load, the throttle test on the
 * destination only (the `throttled` column's 7.x meaning), EEVDF-ineligible
 * tasks refused while no balance failed, tasks blocked on a mutex refused,
 * the donor of the running task counted as running, and a signed NUMA
 * score whose ties fall through to task_hot(). Those inputs, reasons and
 * the 6.18 function exist only then: with KMLB_V7 0 (6.1, 6.12) this
 * header is what it was before 7.x support.
 *
 * The fields are the raw-schema columns of docs/raw-schema.md, with the
 * meaning they have on the kernel the module is built for. The module fills them in its kretprobe; the
 * host test (tools/input_test.c) fills them from `kmlb generate --format
 * raw` rows and compares kmlb_decide() with the C++ teacher's label.
 *
 * The module recomputes the decision for two reasons: to know which part
 * of the function decided (a hard check, active balancing, or the
 * heuristic the model may replace) and to check its own reading of the
 * kernel's structures: when the recomputed decision differs from what the
 * kernel returned, the inputs are not what the module thinks they are and
 * it falls back to the kernel's decision.
 *
 * Plain C without kernel or libc headers beyond the integer types, so the
 * host test can include it.
 */
#ifndef KMLB_INPUT_H
#define KMLB_INPUT_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
typedef int64_t s64;
typedef uint64_t u64;
#endif

#ifndef KMLB_V7
#define KMLB_V7 0
#endif

/* enum migration_type's migrate_load (kernel/sched/fair.c, 5.5 to 7.3) */
#define KMLB_MIGRATE_LOAD 0

struct kmlb_input {
	s64 src_cpu, dst_cpu;
	s64 src_len, src_preferred_len, dst_len;
	s64 delta;			/* rq_clock_task(src_rq) - p->se.exec_start, ns */
	s64 cpu_idle, cpu_not_idle, cpu_newly_idle;
	s64 same_node, prefer_src, prefer_dst;
	s64 delta_faults, total_faults;
	s64 src_load, dst_load;
	s64 nr_fails, cache_nice_tries;
	s64 buddy_hot, next_buddy, last_buddy;
	s64 throttled, per_cpu_kthread, dst_allowed, p_running, active_lb;
	s64 sd_numa, sd_share_cpucapacity, numa_balancing;
	s64 src_nid, dst_nid, preferred_nid;
	s64 has_numa_faults, src_faults, dst_faults;
	s64 numa_group, group_src_faults, group_dst_faults, group_total_faults;
	s64 migration_cost_ns;		/* -1 when the sysctl is (unsigned) -1 */
	s64 fair_class, idle_policy, cookie_match;
#if KMLB_V7
	s64 sched_delayed, migration_type, ineligible_on_dst;
	s64 blocked_on_mutex, current_donor;
#endif
};

/*
 * Which branch decided; names as src/reason.cc (the subset of the kernel
 * built for, in the order of src/reason.h: the hard checks first).
 */
#if KMLB_V7
#define KMLB_REASONS_V7_DELAYED(X) X(DELAYED_DEQUEUE, "delayed_dequeue", 1)
#define KMLB_REASONS_V7_INELIGIBLE(X) X(INELIGIBLE, "ineligible", 1)
#define KMLB_REASONS_V7_BLOCKED(X) X(BLOCKED_ON_MUTEX, "blocked_on_mutex", 1)
#else
#define KMLB_REASONS_V7_DELAYED(X)
#define KMLB_REASONS_V7_INELIGIBLE(X)
#define KMLB_REASONS_V7_BLOCKED(X)
#endif
#define KMLB_REASONS(X)                         \
	KMLB_REASONS_V7_DELAYED(X)              \
	X(THROTTLED, "throttled", 1)            \
	KMLB_REASONS_V7_INELIGIBLE(X)           \
	X(PER_CPU_KTHREAD, "per_cpu_kthread", 1) \
	KMLB_REASONS_V7_BLOCKED(X)              \
	X(AFFINITY, "affinity", 1)              \
	X(RUNNING, "running", 1)                \
	X(ACTIVE_BALANCE, "active_balance", 0)  \
	X(NUMA_LEAVES_PREFERRED, "numa_leaves_preferred", 0) \
	X(NUMA_TO_PREFERRED, "numa_to_preferred", 0) \
	X(NUMA_WEIGHT_DEGRADES, "numa_weight_degrades", 0) \
	X(NUMA_WEIGHT_IMPROVES, "numa_weight_improves", 0) \
	X(NOT_FAIR_CLASS, "not_fair_class", 0)  \
	X(IDLE_POLICY, "idle_policy", 0)        \
	X(SMT_SIBLINGS, "smt_siblings", 0)      \
	X(BUDDY_HOT, "buddy_hot", 0)            \
	X(ALWAYS_HOT, "always_hot", 0)          \
	X(COOKIE_MISMATCH, "cookie_mismatch", 0) \
	X(NEVER_HOT, "never_hot", 0)            \
	X(CACHE_HOT, "cache_hot", 0)            \
	X(CACHE_COLD, "cache_cold", 0)          \
	X(TOO_MANY_FAILURES, "too_many_failures", 0)

enum kmlb_reason {
#define KMLB_REASON_ENUM(id, name, hard) KMLB_R_##id,
	KMLB_REASONS(KMLB_REASON_ENUM)
#undef KMLB_REASON_ENUM
	KMLB_R_COUNT
};

/* 1000 * faults / total with the kernel's unsigned long division. */
static inline u64 kmlb_numa_weight(s64 faults, s64 total)
{
	if (total <= 0 || faults < 0)
		return 0;
	return 1000 * (u64)faults / (u64)total;
}

static inline u64 kmlb_src_weight(const struct kmlb_input *in)
{
	return in->numa_group ?
		kmlb_numa_weight(in->group_src_faults, in->group_total_faults) :
		kmlb_numa_weight(in->src_faults, in->total_faults);
}

static inline u64 kmlb_dst_weight(const struct kmlb_input *in)
{
	return in->numa_group ?
		kmlb_numa_weight(in->group_dst_faults, in->group_total_faults) :
		kmlb_numa_weight(in->dst_faults, in->total_faults);
}

/* migrate_degrades_locality() of 6.1 to 6.12: 1, 0, or -1 (not affected). */
static inline int kmlb_degrades_locality(const struct kmlb_input *in, int *reason)
{
	if (!in->numa_balancing || !in->has_numa_faults || !in->sd_numa)
		return -1;
	if (in->src_nid == in->dst_nid)
		return -1;
	if (in->src_nid == in->preferred_nid) {
		if (in->src_len > in->src_preferred_len) {
			*reason = KMLB_R_NUMA_LEAVES_PREFERRED;
			return 1;
		}
		return -1;
	}
	if (in->dst_nid == in->preferred_nid) {
		*reason = KMLB_R_NUMA_TO_PREFERRED;
		return 0;
	}
	if (in->cpu_idle)
		return -1;
	if (kmlb_dst_weight(in) < kmlb_src_weight(in)) {
		*reason = KMLB_R_NUMA_WEIGHT_DEGRADES;
		return 1;
	}
	*reason = KMLB_R_NUMA_WEIGHT_IMPROVES;
	return 0;
}

/* task_hot() of 6.1 (6.6-6.12: last_buddy is always 0): 1 hot, 0 cold. */
static inline int kmlb_task_hot(const struct kmlb_input *in, int *reason)
{
	if (!in->fair_class) {
		*reason = KMLB_R_NOT_FAIR_CLASS;
		return 0;
	}
	if (in->idle_policy) {
		*reason = KMLB_R_IDLE_POLICY;
		return 0;
	}
	if (in->sd_share_cpucapacity) {
		*reason = KMLB_R_SMT_SIBLINGS;
		return 0;
	}
	if (in->dst_len && (in->next_buddy || in->last_buddy)) {
		*reason = KMLB_R_BUDDY_HOT;
		return 1;
	}
	if (in->migration_cost_ns == -1) {
		*reason = KMLB_R_ALWAYS_HOT;
		return 1;
	}
	if (!in->cookie_match) {
		*reason = KMLB_R_COOKIE_MISMATCH;
		return 1;
	}
	if (in->migration_cost_ns == 0) {
		*reason = KMLB_R_NEVER_HOT;
		return 0;
	}
	if (in->delta < in->migration_cost_ns) {
		*reason = KMLB_R_CACHE_HOT;
		return 1;
	}
	*reason = KMLB_R_CACHE_COLD;
	return 0;
}

#if KMLB_V7
/*
 * migrate_degrades_locality() of 6.14 to 7.3: a signed score, positive
 * when the move degrades locality (hot), negative when it improves it
 * (cold), 0 when the NUMA test does not apply or the weights tie (then
 * task_hot() decides). The tests are 6.1's; "not affected" is 0 here.
 */
static inline int kmlb_locality_score(const struct kmlb_input *in, int *reason)
{
	u64 src_w, dst_w;

	if (!in->numa_balancing || !in->has_numa_faults || !in->sd_numa)
		return 0;
	if (in->src_nid == in->dst_nid)
		return 0;
	if (in->src_nid == in->preferred_nid) {
		if (in->src_len > in->src_preferred_len) {
			*reason = KMLB_R_NUMA_LEAVES_PREFERRED;
			return 1;
		}
		return 0;
	}
	if (in->dst_nid == in->preferred_nid) {
		*reason = KMLB_R_NUMA_TO_PREFERRED;
		return -1;
	}
	if (in->cpu_idle)
		return 0;
	/* return src_weight - dst_weight; both at most 1000 */
	src_w = kmlb_src_weight(in);
	dst_w = kmlb_dst_weight(in);
	if (src_w > dst_w) {
		*reason = KMLB_R_NUMA_WEIGHT_DEGRADES;
		return 1;
	}
	if (src_w < dst_w) {
		*reason = KMLB_R_NUMA_WEIGHT_IMPROVES;
		return -1;
	}
	return 0;
}

/*
 * can_migrate_task() of 6.18, 7.1 and 7.3 (kernel/sched/fair.c; the C
 * twin of src/teacher_v6_18.cc): 0 or 1, and why. The hard checks in the
 * kernel's order: delayed dequeue unless migrating load, throttled
 * destination hierarchy, ineligible while no balance failed, per-CPU
 * kthread, blocked on a mutex, affinity, running or the donor.
 */
static inline int kmlb_decide(const struct kmlb_input *in, int *reason)
{
	int hot, degrades;

	if (in->sched_delayed && in->migration_type != KMLB_MIGRATE_LOAD) {
		*reason = KMLB_R_DELAYED_DEQUEUE;
		return 0;
	}
	if (in->throttled) {
		*reason = KMLB_R_THROTTLED;
		return 0;
	}
	if (!in->nr_fails && in->ineligible_on_dst) {
		*reason = KMLB_R_INELIGIBLE;
		return 0;
	}
	if (in->per_cpu_kthread) {
		*reason = KMLB_R_PER_CPU_KTHREAD;
		return 0;
	}
	if (in->blocked_on_mutex) {
		*reason = KMLB_R_BLOCKED_ON_MUTEX;
		return 0;
	}
	if (!in->dst_allowed) {
		*reason = KMLB_R_AFFINITY;
		return 0;
	}
	if (in->p_running || in->current_donor) {
		*reason = KMLB_R_RUNNING;
		return 0;
	}
	if (in->active_lb) {
		*reason = KMLB_R_ACTIVE_BALANCE;
		return 1;
	}
	degrades = kmlb_locality_score(in, reason);
	if (!degrades)
		hot = kmlb_task_hot(in, reason);	/* next buddy only */
	else
		hot = degrades > 0;
	if (!hot)
		return 1;
	if (in->nr_fails > in->cache_nice_tries) {
		*reason = KMLB_R_TOO_MANY_FAILURES;
		return 1;
	}
	return 0;
}

/* The module's hard checks (every refusal before LBF_ACTIVE_LB), at entry. */
static inline int kmlb_hard_refused(const struct kmlb_input *in)
{
	return (in->sched_delayed && in->migration_type != KMLB_MIGRATE_LOAD) ||
	       in->throttled || (!in->nr_fails && in->ineligible_on_dst) ||
	       in->per_cpu_kthread || in->blocked_on_mutex || !in->dst_allowed ||
	       in->p_running || in->current_donor;
}
#else
/*
 * can_migrate_task() of 6.1 and, with last_buddy 0, of 6.6-6.12
 * (kernel/sched/fair.c): 0 or 1, and why.
 */
static inline int kmlb_decide(const struct kmlb_input *in, int *reason)
{
	int hot;

	if (in->throttled) {
		*reason = KMLB_R_THROTTLED;
		return 0;
	}
	if (in->per_cpu_kthread) {
		*reason = KMLB_R_PER_CPU_KTHREAD;
		return 0;
	}
	if (!in->dst_allowed) {
		*reason = KMLB_R_AFFINITY;
		return 0;
	}
	if (in->p_running) {
		*reason = KMLB_R_RUNNING;
		return 0;
	}
	if (in->active_lb) {
		*reason = KMLB_R_ACTIVE_BALANCE;
		return 1;
	}
	hot = kmlb_degrades_locality(in, reason);
	if (hot == -1)
		hot = kmlb_task_hot(in, reason);
	if (hot <= 0)
		return 1;
	if (in->nr_fails > in->cache_nice_tries) {
		*reason = KMLB_R_TOO_MANY_FAILURES;
		return 1;
	}
	return 0;
}

/* The module's hard checks (every refusal before LBF_ACTIVE_LB), at entry. */
static inline int kmlb_hard_refused(const struct kmlb_input *in)
{
	return in->throttled || in->per_cpu_kthread || !in->dst_allowed || in->p_running;
}
#endif /* KMLB_V7 */

/* True for the reasons the model may never override. */
static inline int kmlb_reason_is_hard(int reason)
{
	return reason <= KMLB_R_RUNNING;
}

#endif /* KMLB_INPUT_H */
