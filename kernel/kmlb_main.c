// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb - the load balancer's can_migrate_task() decision, learnt by a small
 * MLP, evaluated (shadow), applied after the fact (replace) or run in the
 * function's place (substitute) inside a stock Debian 6.1, 6.12 or 7.3
 * kernel (kmlb_version.h: what differs between them, decided at build time).
 *
 * One kprobe on the entry of can_migrate_task() (an ftrace-based kprobe:
 * the function's fentry site calls the handler), registered for the
 * module's whole life; modes change only through the `mode` parameter.
 * Nothing rewrites a return address: no kretprobe, no rethook. Where the
 * handler decides, it sets the return value, points the saved instruction
 * pointer at a `ret` of its own and returns 1, so the function body is
 * skipped and the caller sees the value (how bpf_override_return() works).
 * Where it needs the kernel's own answer it calls the function body past
 * its fentry site itself (how BPF trampolines call the original), then
 * returns that answer the same way: the body runs exactly once per call.
 *
 * At entry the handler reads every input of the decision (struct
 * kmlb_input, a snapshot: nothing is read again later), performs the
 * kernel's hard checks itself (throttled pair, per-CPU kthread, affinity,
 * running, in the kernel's order; on 7.x also delayed dequeue, EEVDF
 * eligibility on the destination and the donor) and recomputes the kernel's decision and the
 * branch that made it (kmlb_input.h).
 *
 *   mode=off         the handler returns at once: the kernel runs untouched
 *   mode=shadow      the handler calls the kernel's body, compares its answer
 *                    and side effects (env->flags, env->new_dst_cpu,
 *                    schedstats) with the module's prediction, and counts
 *                    the model's agreement; the kernel's answer is returned
 *   mode=replace     as shadow, then returns the model's decision where the
 *                    module's own hard checks passed, the call was not an
 *                    active balance and the kernel's observed answer and
 *                    side effects equal the module's recomputation
 *   mode=substitute  where any of the module's hard checks fails, on active
 *                    balance, or on any unexpected input, the kernel's
 *                    function runs untouched (the module decides even on
 *                    topologies other than NUMA_DIRECT: the model's errors
 *                    there are its own, not a safety matter); otherwise the module clears
 *                    LBF_ALL_PINNED (and counts the schedstat the kernel
 *                    counts for a refusal, when schedstats are on) and
 *                    returns the model's decision: the heuristic never runs
 *
 * audit=1 adds an independent record of the kernel's hard-check outcome to
 * every call that reaches the hard-check verdict: the kernel's own body runs
 * on a copy of struct lb_env with LBF_ACTIVE_LB set, so it returns 1 exactly
 * when its hard checks pass (the schedstats that call may count are put
 * back). hard_mismatches counts calls where it and the module disagree; in
 * substitute mode a call the kernel would refuse by a hard check is counted
 * (flipped_hard) and left to the kernel. fault_skip_hard=1 (tests only,
 * effective only with audit=1) makes the module ignore its own hard checks,
 * so the audit's record is seen to catch them. invert=1 (tests only)
 * inverts the model's output: a deliberately disagreeing model.
 *
 * Private scheduler structures (struct lb_env, struct rq, ...) are read
 * through offsets found in the running kernel's BTF (kmlb_offsets.h),
 * validated at load against live values of known meaning, and on every call
 * against each other (an inconsistent call is left to the kernel).
 *
 * Costs are read with the TSC (rdtsc_ordered). Under QEMU
 * `-icount shift=0,sleep=off` the TSC counts executed instructions, so the
 * figures are instruction counts. The handlers never sleep or allocate,
 * use integer arithmetic only and run bounded loops.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/ftrace.h>
#include <linux/jump_label.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/linkage.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/topology.h>
#include <linux/seq_file.h>
#include <linux/sort.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/cpufeature.h>
#include <asm/ibt.h>
#include <asm/msr.h>
#include <asm/tsc.h>

#include "kmlb_version.h"	/* first: it sets KMLB_V7 for kmlb_input.h */
#include "kmlb_input.h"
#include "kmlb_model.h"
#include "kmlb_offsets.h"
#include "kmlb_rq.h"

/* kernel/sched/fair.c, v5.10 to v6.12 and 7.3 (the same values throughout) */
#define LBF_ALL_PINNED_6_1 0x01
#define LBF_DST_PINNED_6_1 0x04
#define LBF_SOME_PINNED_6_1 0x08
#define LBF_ACTIVE_LB_6_1 0x10
#define LBF_KNOWN_6_1 0x1f
/*
 * 7.3.4 sets env->flags bit 0x40 on a few calls (1 to 3 per 12 s phase at
 * 200 % load; its name is not known here: 7.3's fair.c was not available).
 * Accepted and verified in one CI run, those calls gave teacher and audit
 * mismatches (the kernel decides them by a rule the module does not know),
 * so on 7.x such a call is left to the kernel, counted as its own fallback
 * kind (unnamed_flag_0x40), and any other unknown bit as bad_flags.
 */
#define LBF_UNNAMED_7_3 0x40
#define LBF_KNOWN LBF_KNOWN_6_1
#define KMLB_UNSET (-0x7fffffffL)
#define KMLB_LB_ENV_MAX 256	/* bytes of the audit's copy of struct lb_env */
#define KMLB_SCHED_FEAT_MAX 64	/* kernel/sched/features.h has fewer (about 30 in 7.3) */

/* ---- parameters: offsets, enum values, symbols (kmlb_offsets.h) ---- */

#define KMLB_PARAM_OFF(name, s, m, ...)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "offsetof(struct " s ", " m ") from BTF");
KMLB_PRIVATE_FIELDS(KMLB_PARAM_OFF)
KMLB_OPTIONAL_FIELDS(KMLB_PARAM_OFF)
KMLB_HEADER_FIELDS(KMLB_PARAM_OFF)
#define KMLB_PARAM_SIZE(name, s)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "sizeof(struct " s ") from BTF");
KMLB_PRIVATE_SIZES(KMLB_PARAM_SIZE)
#define KMLB_PARAM_KIND(name, s, m)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "1 if struct " s "." m " points to a struct (per-CPU), 0 to pointers");
KMLB_PRIVATE_KINDS(KMLB_PARAM_KIND)
#define KMLB_PARAM_ENUM(name, e)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "value of " e " from BTF");
KMLB_ENUMS(KMLB_PARAM_ENUM)
KMLB_OPTIONAL_ENUMS(KMLB_PARAM_ENUM)
#define KMLB_PARAM_SYM(name, sym)				\
	static unsigned long name;				\
	module_param(name, ulong, 0444);			\
	MODULE_PARM_DESC(name, "address of " sym " from /proc/kallsyms");
KMLB_SYMBOLS(KMLB_PARAM_SYM)
KMLB_OPTIONAL_SYMBOLS(KMLB_PARAM_SYM)

static bool audit;
module_param(audit, bool, 0644);
MODULE_PARM_DESC(audit, "record the kernel's own hard-check outcome on every call (costs a second body run)");
static bool invert;
module_param(invert, bool, 0644);
MODULE_PARM_DESC(invert, "tests only: invert the model's output (a disagreeing model)");
static bool fault_skip_hard;
module_param(fault_skip_hard, bool, 0644);
MODULE_PARM_DESC(fault_skip_hard, "tests only, needs audit=1: ignore the module's own hard checks");

/* ---- mode ---- */

enum kmlb_mode { KMLB_OFF, KMLB_SHADOW, KMLB_REPLACE, KMLB_SUBSTITUTE, KMLB_MODES };
static const char *const kmlb_mode_names[KMLB_MODES] = {
	"off", "shadow", "replace", "substitute"
};
static int kmlb_mode = KMLB_OFF;

/* ---- counters ---- */

enum kmlb_fallback {
	KMLB_FB_NULL, KMLB_FB_CPU, KMLB_FB_IDLE, KMLB_FB_NID, KMLB_FB_RET,
	KMLB_FB_TEACHER, KMLB_FB_TOPOLOGY, KMLB_FB_FLAGS, KMLB_FB_SPAN,
	KMLB_FB_CFS_RQ, KMLB_FB_LEN, KMLB_FB_BUDDY, KMLB_FB_THROTTLE,
	KMLB_FB_NUMA_GROUP, KMLB_FB_SIDE, KMLB_FB_CORE,
#if KMLB_V7
	KMLB_FB_FLAG40,
#endif
	KMLB_FB_COUNT
};

struct kmlb_counters {
	atomic64_t calls;		/* handler runs */
	atomic64_t hard;		/* refused by the module's hard checks */
	atomic64_t active;		/* LBF_ACTIVE_LB: migrate at once */
	atomic64_t heuristic;		/* decided by NUMA test / task_hot */
	atomic64_t decisions;		/* active + heuristic: the model's rows */
	atomic64_t agreements;		/* model == kernel on those */
	atomic64_t heuristic_agreements;
	atomic64_t overrides;		/* the model's answer differs and is returned */
	atomic64_t overrides_to_migrate;
	atomic64_t substituted;		/* substitute: the body skipped */
	atomic64_t kernel_ran;		/* substitute: left to the kernel's function */
	atomic64_t fallbacks;		/* unexpected input: kernel decides */
	atomic64_t teacher_mismatch;	/* recomputed != kernel's answer */
	atomic64_t side_checked;	/* shadow/replace: side effects compared */
	atomic64_t side_mismatches;	/* predicted != observed side effects */
	atomic64_t audited;		/* audit: kernel's hard outcome recorded */
	atomic64_t hard_mismatches;	/* module's hard outcome != kernel's */
	atomic64_t flipped_hard;	/* substitute would have overridden a hard refusal */
	atomic64_t mode_switches;
	atomic64_t by_reason[KMLB_R_COUNT];
	atomic64_t disagree[KMLB_R_COUNT][2];	/* [reason][kernel's answer] */
	atomic64_t fallback_why[KMLB_FB_COUNT];
};

static const char *const kmlb_fallback_names[KMLB_FB_COUNT] = {
	"null_pointer", "bad_cpu", "bad_idle", "bad_nid", "bad_return",
	"teacher_mismatch", "numa_topology", "bad_flags", "bad_domain_span",
	"bad_cfs_rq", "bad_nr_running", "bad_buddy", "bad_throttle_count",
	"bad_numa_group", "side_effect_mismatch", "core_scheduling_on",
#if KMLB_V7
	"unnamed_flag_0x40",
#endif
};

static const char *const kmlb_reason_names[KMLB_R_COUNT] = {
#define KMLB_REASON_NAME(id, name, hard) name,
	KMLB_REASONS(KMLB_REASON_NAME)
};

static struct kmlb_counters kmlb_c;
#if KMLB_V7
/*
 * 7.x: the unknown env->flags bits seen (bad_flags fallbacks), the last
 * migration_type out of range, the calls with the unnamed bit 0x40
 */
static atomic64_t kmlb_bad_flag_bits, kmlb_bad_migration_type, kmlb_flag40_calls;
#endif

/* Cost samples in TSC ticks (instructions under icount): the first KMLB_RING after a reset. */
#define KMLB_RING (1 << 17)
enum kmlb_series {
	KMLB_S_NATIVE,		/* the kernel's body, called by the handler */
	KMLB_S_SUBSTITUTE,	/* substitute: handler entry to the decision */
	KMLB_S_MODEL,		/* features + MLP alone */
	KMLB_S_SHADOW,		/* shadow/replace: handler entry to exit */
	KMLB_S_SNAPSHOT,	/* reading and validating the inputs */
	KMLB_SERIES
};
static const char *const kmlb_series_names[KMLB_SERIES] = {
	"cmt_native_tsc", "cmt_substitute_tsc", "model_tsc", "cmt_shadow_tsc",
	"snapshot_tsc"
};
struct kmlb_ring {
	atomic_t n;
	u32 *v;
};
static struct kmlb_ring kmlb_rings[KMLB_SERIES];

static void kmlb_sample(enum kmlb_series s, u64 ticks)
{
	struct kmlb_ring *r = &kmlb_rings[s];
	unsigned int i = (unsigned int)atomic_inc_return(&r->n) - 1U;

	if (i < KMLB_RING)
		r->v[i] = ticks > U32_MAX ? U32_MAX : (u32)ticks;
}

/*
 * The kernel's body cost by the branch that decided (count, sum, min, max):
 * a path's instruction count is fixed under icount, so two runs whose
 * medians differ can be told apart into a different mix of paths and a
 * path that costs differently.
 */
struct kmlb_path_cost {
	atomic64_t n, sum, min, max;
};
static struct kmlb_path_cost kmlb_native_by_reason[KMLB_R_COUNT];

static void kmlb_path_sample(int reason, u64 ticks)
{
	struct kmlb_path_cost *c;
	s64 v = (s64)ticks, old;

	if (reason < 0 || reason >= KMLB_R_COUNT)
		return;
	c = &kmlb_native_by_reason[reason];
	atomic64_inc(&c->n);
	atomic64_add(v, &c->sum);
	old = atomic64_read(&c->min);
	while ((old == 0 || v < old) && !atomic64_try_cmpxchg(&c->min, &old, v))
		;
	old = atomic64_read(&c->max);
	while (v > old && !atomic64_try_cmpxchg(&c->max, &old, v))
		;
}

/*
 * Run-queue sampler (kmlb_rq.h), every KMLB_SAMPLE_MS: max - min and sum of
 * nr_running over online CPUs, and the CPUs left idle while tasks wait.
 */
#define KMLB_SAMPLE_MS 10
#define KMLB_SAMPLE_CPUS 256	/* CPUs beyond these are not sampled */
#define KMLB_HIST_DIFF 64
#define KMLB_HIST_TOTAL 256
#define KMLB_HIST_STRANDED 64
static atomic64_t kmlb_hist_diff[KMLB_HIST_DIFF];
static atomic64_t kmlb_hist_total[KMLB_HIST_TOTAL];
static atomic64_t kmlb_hist_stranded[KMLB_HIST_STRANDED];
static atomic64_t kmlb_hist_samples;
static unsigned int kmlb_sample_nr[KMLB_SAMPLE_CPUS];	/* the sampler's only */
static struct delayed_work kmlb_sampler;
static bool kmlb_sampling;

/* The inputs of the last KMLB_MISS disagreements, for diagnosis. */
#define KMLB_MISS 64
struct kmlb_miss {
	struct kmlb_input in;
	int reason, kernel, model;
};
static struct kmlb_miss kmlb_misses[KMLB_MISS];
static atomic_t kmlb_miss_n;

/* ---- reading the kernel's structures ---- */

#define KMLB_AT(ptr, off, type) (*(type *)((char *)(ptr) + (off)))

static struct static_key *kmlb_key(unsigned long addr)
{
	return (struct static_key *)addr;
}

static void *kmlb_cpu_rq(int cpu)
{
	return per_cpu_ptr((char __percpu *)sym_runqueues, cpu);
}

/*
 * A task group's cfs_rq on one CPU: tg->cfs_rq[cpu] on 6.x, tg_cfs_rq(tg,
 * cpu) on 7.x, where the member is a per-CPU pointer (struct cfs_rq
 * __percpu *) when the BTF says so (task_group_cfs_rq_percpu = 1, from
 * kmlb_offsets) and still an array of pointers otherwise. NULL when the
 * group has none.
 */
static void *kmlb_tg_cfs_rq(void *tg, int cpu)
{
	void *base = KMLB_AT(tg, task_group_cfs_rq, void *);

	if (!base)
		return NULL;
#if KMLB_V7
	if (task_group_cfs_rq_percpu)
		return per_cpu_ptr((char __percpu *)(unsigned long)base, cpu);
#endif
	return ((void **)base)[cpu];
}

static bool kmlb_schedstats(void)
{
	return static_key_count(kmlb_key(sym_sched_schedstats)) > 0;
}

static s64 kmlb_task_faults(const struct task_struct *p, int nid)
{
	const unsigned long *f = p->numa_faults;

	if (!f)
		return 0;
	/* task_faults_idx(NUMA_MEM, nid, 0 and 1) = 2 * nid + priv */
	return (s64)(f[2 * nid] + f[2 * nid + 1]);
}

/*
 * throttled_lb_pair() of 6.1 and 6.12 (source or destination), or
 * lb_throttled_hierarchy() of 7.x (the destination only); -1 when a
 * throttle count is not plausible.
 */
static int kmlb_throttled(struct task_struct *p, int src, int dst, void *src_cfs)
{
	void *tg = p->sched_task_group;
	void *a, *b;

	if (!static_key_count(kmlb_key(sym_cfs_bandwidth_used)))
		/* without bandwidth control nothing is ever throttled */
		return KMLB_AT(src_cfs, cfs_rq_throttle_count, int) ? -1 : 0;
	if (!tg)
		return 0;
	/* 7.x's lb_throttled_hierarchy() tests the destination only */
	a = KMLB_V7 ? NULL : kmlb_tg_cfs_rq(tg, src);
	b = kmlb_tg_cfs_rq(tg, dst);
	return (a && KMLB_AT(a, cfs_rq_throttle_count, int)) ||
	       (b && KMLB_AT(b, cfs_rq_throttle_count, int));
}

static bool kmlb_per_cpu_kthread(struct task_struct *p)
{
	void *kt = p->worker_private;

	if (!kt || !(p->flags & PF_KTHREAD))
		return false;
	return test_bit(enum_kthread_is_per_cpu,
			&KMLB_AT(kt, kthread_flags, unsigned long));
}

/*
 * A buddy pointer is NULL or an entity queued on this cfs_rq; with 7.3's
 * single EEVDF runqueue the rq's cfs_rq holds the tasks of every group, so
 * there it is an entity of a cfs_rq of the same rq.
 */
static bool kmlb_buddy_ok(void *cfs, struct sched_entity *b)
{
#if KMLB_V7
	return !b || (b->cfs_rq && KMLB_AT(b->cfs_rq, cfs_rq_rq, void *) ==
				   KMLB_AT(cfs, cfs_rq_rq, void *));
#else
	return !b || b->cfs_rq == cfs;
#endif
}

#if KMLB_V7
/* avg_vruntime_weight() of 7.x: the weight in the sums' scale. */
static s64 kmlb_avg_weight(unsigned long w, unsigned int shift)
{
	if (shift) {
		w >>= shift;
		if (w < 2)
			w = 2;
	}
	return (s64)w;
}

/*
 * task_is_ineligible_on_dst_cpu() of 7.3 (single EEVDF runqueue):
 *   sched_feat(PLACE_LAG) && cpu_rq(dst)->cfs.h_nr_queued &&
 *   !entity_eligible(&task_rq(p)->cfs, &p->se)
 * with vruntime_eligible(): avg = sum_w_vruntime, load = sum_weight, plus
 * the running entity's key * weight and weight when it is queued; eligible
 * when avg >= (vruntime - zero_vruntime) * load (in 128 bits here, where
 * the kernel's 64-bit product cannot overflow by construction). 1, 0, or
 * -1 when sum_shift is not plausible.
 */
static int kmlb_ineligible_on_dst(struct task_struct *p, void *src_rq, void *dst_rq)
{
	void *cfs = (char *)src_rq + rq_cfs, *dcfs = (char *)dst_rq + rq_cfs;
	struct sched_entity *curr;
	unsigned int shift = 0;
	s64 avg, load, key, w;
	u64 zero;

	if (!static_key_count(&((struct static_key *)sym_sched_feat_keys)[enum_sched_feat_place_lag]))
		return 0;
	if (!READ_ONCE(KMLB_AT(dcfs, cfs_rq_h_nr_queued, unsigned int)))
		return 0;
	if (cfs_rq_sum_shift >= 0)
		shift = KMLB_AT(cfs, cfs_rq_sum_shift, unsigned int);
	if (shift >= BITS_PER_LONG)
		return -1;
	zero = KMLB_AT(cfs, cfs_rq_zero_vruntime, u64);
	avg = KMLB_AT(cfs, cfs_rq_sum_w_vruntime, s64);
	load = (s64)KMLB_AT(cfs, cfs_rq_sum_weight, u64);
	curr = KMLB_AT(cfs, cfs_rq_curr, struct sched_entity *);
	if (curr && curr->on_rq) {
		w = kmlb_avg_weight(curr->h_load.weight, shift);
		avg += (s64)(curr->vruntime - zero) * w;
		load += w;
	}
	key = (s64)(p->se.vruntime - zero);
	return !((__int128)avg >= (__int128)key * load);
}
#endif

/*
 * Snapshot every input of the call into *in, at entry; 0, or a KMLB_FB_*
 * code when something is not as expected (the kernel's function then runs
 * untouched). The checks validate the private offsets against each other
 * and against header-known fields on every call.
 */
static int kmlb_read_input(struct task_struct *p, void *env, struct kmlb_input *in)
{
	void *src_rq, *dst_rq, *cfs, *tg;
	struct sched_domain *sd;
	struct sched_entity *se = &p->se;
	void *ng;
	int src, dst, idle, src_nid, dst_nid, thr;
	unsigned int cost, flags;

	sd = KMLB_AT(env, lb_env_sd, struct sched_domain *);
	src_rq = KMLB_AT(env, lb_env_src_rq, void *);
	dst_rq = KMLB_AT(env, lb_env_dst_rq, void *);
	if (!sd || !src_rq || !dst_rq)
		return KMLB_FB_NULL;
	src = KMLB_AT(env, lb_env_src_cpu, int);
	dst = KMLB_AT(env, lb_env_dst_cpu, int);
	if (src < 0 || dst < 0 || src >= nr_cpu_ids || dst >= nr_cpu_ids ||
	    src == dst || src_rq != kmlb_cpu_rq(src) || dst_rq != kmlb_cpu_rq(dst) ||
	    KMLB_AT(src_rq, rq_cpu, int) != src ||
	    KMLB_AT(dst_rq, rq_cpu, int) != dst || task_cpu(p) != src)
		return KMLB_FB_CPU;
	/* env->sd is a domain of dst_cpu that spans both CPUs */
	if (!cpumask_test_cpu(src, sched_domain_span(sd)) ||
	    !cpumask_test_cpu(dst, sched_domain_span(sd)))
		return KMLB_FB_SPAN;
	flags = KMLB_AT(env, lb_env_flags, unsigned int);
#if KMLB_V7
	if (flags & LBF_UNNAMED_7_3) {
		atomic64_inc(&kmlb_flag40_calls);
		if (!(flags & ~(LBF_KNOWN | LBF_UNNAMED_7_3)))
			return KMLB_FB_FLAG40;
	}
#endif
	if (flags & ~LBF_KNOWN) {
#if KMLB_V7
		atomic64_or(flags & ~LBF_KNOWN, &kmlb_bad_flag_bits);
#endif
		return KMLB_FB_FLAGS;
	}
	idle = KMLB_AT(env, lb_env_idle, int);
	if (idle != enum_cpu_idle && idle != enum_cpu_not_idle &&
	    idle != enum_cpu_newly_idle)
		return KMLB_FB_IDLE;
	src_nid = cpu_to_node(src);
	dst_nid = cpu_to_node(dst);
	if (src_nid < 0 || dst_nid < 0 || src_nid >= nr_node_ids ||
	    dst_nid >= nr_node_ids)
		return KMLB_FB_NID;
	/* p is queued on src: its cfs_rq belongs to src_rq and to its group */
	cfs = se->cfs_rq;
	if (!cfs || KMLB_AT(cfs, cfs_rq_rq, void *) != src_rq)
		return KMLB_FB_CFS_RQ;
	tg = p->sched_task_group;
	if (tg && KMLB_AT(tg, task_group_cfs_rq, void *) && kmlb_tg_cfs_rq(tg, src) != cfs)
		return KMLB_FB_CFS_RQ;

	memset(in, 0, sizeof(*in));
	in->src_cpu = src;
	in->dst_cpu = dst;
	in->src_len = READ_ONCE(KMLB_AT(src_rq, rq_nr_running, unsigned int));
	in->src_preferred_len =
		READ_ONCE(KMLB_AT(src_rq, rq_nr_preferred_running, unsigned int));
	in->dst_len = READ_ONCE(KMLB_AT(dst_rq, rq_nr_running, unsigned int));
	if (in->src_len < 1 || in->src_preferred_len > in->src_len)
		return KMLB_FB_LEN;
	in->delta = (s64)(KMLB_AT(src_rq, rq_clock_task, u64) - se->exec_start);
	in->cpu_idle = idle == enum_cpu_idle;
	in->cpu_not_idle = idle == enum_cpu_not_idle;
	in->cpu_newly_idle = idle == enum_cpu_newly_idle;
	in->src_nid = src_nid;
	in->dst_nid = dst_nid;
	in->preferred_nid = p->numa_preferred_nid;
	in->same_node = src_nid == dst_nid;
	in->prefer_src = src_nid == p->numa_preferred_nid;
	in->prefer_dst = dst_nid == p->numa_preferred_nid;
	in->has_numa_faults = p->numa_faults != NULL;
	in->src_faults = kmlb_task_faults(p, src_nid);
	in->dst_faults = kmlb_task_faults(p, dst_nid);
	in->delta_faults = in->dst_faults - in->src_faults;
	in->total_faults = (s64)p->total_numa_faults;
	ng = rcu_dereference_raw(p->numa_group);
	if (ng) {
		const unsigned long *gf =
			(const unsigned long *)((char *)ng + numa_group_faults);
		unsigned long sum = 0, total;
		int nid;

		in->numa_group = 1;
		in->group_src_faults = (s64)(gf[2 * src_nid] + gf[2 * src_nid + 1]);
		in->group_dst_faults = (s64)(gf[2 * dst_nid] + gf[2 * dst_nid + 1]);
		total = READ_ONCE(KMLB_AT(ng, numa_group_total_faults, unsigned long));
		in->group_total_faults = (s64)total;
		/* total_faults is the sum of the memory faults (both kinds) */
		for (nid = 0; nid < nr_node_ids && nid < MAX_NUMNODES; nid++)
			sum += gf[2 * nid] + gf[2 * nid + 1];
		if (sum != total)
			return KMLB_FB_NUMA_GROUP;
	}
	in->src_load = (s64)READ_ONCE(KMLB_AT(src_rq, rq_cfs + cfs_rq_avg +
					      sched_avg_load_avg, unsigned long));
	in->dst_load = (s64)READ_ONCE(KMLB_AT(dst_rq, rq_cfs + cfs_rq_avg +
					      sched_avg_load_avg, unsigned long));
	in->nr_fails = sd->nr_balance_failed;
	in->cache_nice_tries = sd->cache_nice_tries;
	{
		struct sched_entity *nx = KMLB_AT(cfs, cfs_rq_next, struct sched_entity *);
#if KMLB_HAS_LAST_BUDDY
		struct sched_entity *ls = KMLB_AT(cfs, cfs_rq_last, struct sched_entity *);
#else
		struct sched_entity *ls = NULL;	/* EEVDF: no cfs_rq->last */
#endif

		if (!kmlb_buddy_ok(cfs, nx) || !kmlb_buddy_ok(cfs, ls))
			return KMLB_FB_BUDDY;
		in->next_buddy = nx == se;
		in->last_buddy = ls == se;
	}
	in->buddy_hot = in->next_buddy || in->last_buddy;
	thr = kmlb_throttled(p, src, dst, cfs);
	if (thr < 0)
		return KMLB_FB_THROTTLE;
	in->throttled = thr;
#if KMLB_V7
	in->sched_delayed = se->sched_delayed != 0;
	in->migration_type = KMLB_AT(env, lb_env_migration_type, int);
	if (in->migration_type < 0 || in->migration_type > 15) {
		atomic64_set(&kmlb_bad_migration_type, in->migration_type);
		return KMLB_FB_FLAGS;
	}
	thr = kmlb_ineligible_on_dst(p, src_rq, dst_rq);
	if (thr < 0)
		return KMLB_FB_CFS_RQ;
	in->ineligible_on_dst = thr;
	/* task_is_blocked(): false without CONFIG_SCHED_PROXY_EXEC (kmlb_version.h) */
	in->blocked_on_mutex = 0;
	/* task_current_donor(src_rq, p); rq->donor is rq->curr here */
	in->current_donor = KMLB_AT(src_rq, rq_donor, struct task_struct *) == p;
#endif
	in->per_cpu_kthread = kmlb_per_cpu_kthread(p);
	in->dst_allowed = cpumask_test_cpu(dst, p->cpus_ptr);
	in->p_running = READ_ONCE(p->on_cpu) != 0;
	in->active_lb = (flags & LBF_ACTIVE_LB_6_1) != 0;
	in->sd_numa = (sd->flags & SD_NUMA) != 0;
	in->sd_share_cpucapacity = (sd->flags & SD_SHARE_CPUCAPACITY) != 0;
	in->numa_balancing =
		static_key_count(kmlb_key(sym_sched_numa_balancing)) > 0;
	cost = READ_ONCE(*(unsigned int *)sym_sysctl_sched_migration_cost);
	in->migration_cost_ns = cost == UINT_MAX ? -1 : (s64)cost;
	in->fair_class = (unsigned long)p->sched_class == sym_fair_sched_class;
	in->idle_policy = p->policy == SCHED_IDLE;
	/*
	 * sched_core_cookie_match() is true while core scheduling is not
	 * enabled (CONFIG_SCHED_CORE is off in Debian's 6.1 and 6.12); with
	 * it enabled the cookies decide: left to the kernel
	 */
	if (KMLB_HAS_SCHED_CORE &&
	    static_key_count(kmlb_key(sym_sched_core_enabled)) > 0)
		return KMLB_FB_CORE;
	in->cookie_match = 1;
	return 0;
}

static void kmlb_fill_state(struct kmlb_state *s, const struct kmlb_input *in)
{
	memset(s, 0, sizeof(*s));
	s->src_len = in->src_len;
	s->src_preferred_len = in->src_preferred_len;
	s->delta = in->delta;
	s->migration_cost_ns = in->migration_cost_ns;
	s->cpu_idle = in->cpu_idle;
	s->cpu_not_idle = in->cpu_not_idle;
	s->cpu_newly_idle = in->cpu_newly_idle;
	s->same_node = in->same_node;
	s->prefer_src = in->prefer_src;
	s->prefer_dst = in->prefer_dst;
	s->dst_len = in->dst_len;
	s->src_load = in->src_load;
	s->dst_load = in->dst_load;
	s->delta_faults = in->delta_faults;
	s->total_faults = in->total_faults;
	s->nr_fails = in->nr_fails;
	s->cache_nice_tries = in->cache_nice_tries;
	s->buddy_hot = in->buddy_hot;
	s->sd_share_cpucapacity = in->sd_share_cpucapacity;
	s->active_lb = in->active_lb;
	s->numa_balancing = in->numa_balancing;
	s->has_numa_faults = in->has_numa_faults;
	s->sd_numa = in->sd_numa;
	s->numa_group = in->numa_group;
	s->src_faults = in->src_faults;
	s->dst_faults = in->dst_faults;
	s->group_src_faults = in->group_src_faults;
	s->group_dst_faults = in->group_dst_faults;
	s->group_total_faults = in->group_total_faults;
	s->idle_policy = in->idle_policy;
	s->cookie_match = in->cookie_match;
}

/* ---- the side effects of can_migrate_task() ---- */

/*
 * What a call changes: env->flags, env->new_dst_cpu, schedstats and, where
 * the kernel has it, p->sched_task_hot (kmlb_version.h).
 */
struct kmlb_effects {
	unsigned int flags;
	int new_dst_cpu;
	u64 affine, running, hot, forced, hot_gained;
	int task_hot;
};

static int kmlb_get_task_hot(const struct task_struct *p)
{
#if KMLB_HAS_SCHED_TASK_HOT
	return p->sched_task_hot;
#else
	return 0;
#endif
}

static void kmlb_set_task_hot(struct task_struct *p, int v)
{
#if KMLB_HAS_SCHED_TASK_HOT
	p->sched_task_hot = v;
#endif
}

static void kmlb_read_effects(struct task_struct *p, void *env, int idle_idx,
			      struct kmlb_effects *e)
{
	struct sched_domain *sd = KMLB_AT(env, lb_env_sd, struct sched_domain *);

	e->flags = KMLB_AT(env, lb_env_flags, unsigned int);
	e->new_dst_cpu = KMLB_AT(env, lb_env_new_dst_cpu, int);
	e->affine = p->stats.nr_failed_migrations_affine;
	e->running = p->stats.nr_failed_migrations_running;
	e->hot = p->stats.nr_failed_migrations_hot;
	e->forced = p->stats.nr_forced_migrations;
	e->hot_gained = sd->lb_hot_gained[idle_idx];
	e->task_hot = kmlb_get_task_hot(p);
}

/*
 * The effects the kernel's can_migrate_task() has on the path `reason` (the
 * decision `ret`), from the effects *e before the call.
 */
static void kmlb_predict_effects(struct task_struct *p, void *env,
				 const struct kmlb_input *in, int reason, int ret,
				 struct kmlb_effects *e)
{
	bool stats = kmlb_schedstats();

	if (KMLB_HAS_SCHED_TASK_HOT)
		e->task_hot = 0;	/* cleared at entry, on every path */
	switch (reason) {
#if KMLB_V7
	case KMLB_R_DELAYED_DEQUEUE:
	case KMLB_R_INELIGIBLE:
	case KMLB_R_BLOCKED_ON_MUTEX:
#endif
	case KMLB_R_THROTTLED:
	case KMLB_R_PER_CPU_KTHREAD:
		return;
	case KMLB_R_AFFINITY: {
		const struct cpumask *grp = KMLB_AT(env, lb_env_dst_grpmask, struct cpumask *);
		const struct cpumask *cpus = KMLB_AT(env, lb_env_cpus, struct cpumask *);
		int cpu;

		e->affine += stats;
		e->flags |= LBF_SOME_PINNED_6_1;
		if (in->cpu_newly_idle ||
		    (e->flags & (LBF_DST_PINNED_6_1 | LBF_ACTIVE_LB_6_1)) || !grp || !cpus)
			return;
		for_each_cpu_and(cpu, grp, cpus) {
			if (cpumask_test_cpu(cpu, p->cpus_ptr)) {
				e->flags |= LBF_DST_PINNED_6_1;
				e->new_dst_cpu = cpu;
				break;
			}
		}
		return;
	}
	default:
		break;
	}
	e->flags &= ~LBF_ALL_PINNED_6_1;
	if (reason == KMLB_R_RUNNING) {
		e->running += stats;
		return;
	}
	if (reason == KMLB_R_ACTIVE_BALANCE)
		return;
	if (reason == KMLB_R_TOO_MANY_FAILURES) {	/* hot, forced */
		if (KMLB_HAS_SCHED_TASK_HOT) {
			e->task_hot = 1;	/* detach_task() counts it */
		} else {
			e->hot_gained += stats;
			e->forced += stats;
		}
	} else if (!ret) {				/* hot, refused */
		e->hot += stats;
	}
}

static bool kmlb_effects_equal(const struct kmlb_effects *a, const struct kmlb_effects *b)
{
	return a->flags == b->flags && a->new_dst_cpu == b->new_dst_cpu &&
	       a->affine == b->affine && a->running == b->running &&
	       a->hot == b->hot && a->forced == b->forced &&
	       a->hot_gained == b->hot_gained && a->task_hot == b->task_hot;
}

/* The last KMLB_MISS calls whose side effects differed from the prediction. */
struct kmlb_side_miss {
	int reason, ret;
	struct kmlb_effects before, want, got;
};
static struct kmlb_side_miss kmlb_side_misses[KMLB_MISS];
static atomic_t kmlb_side_miss_n;

static void kmlb_record_side_miss(int reason, int ret, const struct kmlb_effects *before,
				  const struct kmlb_effects *want,
				  const struct kmlb_effects *got)
{
	unsigned int i = ((unsigned int)atomic_inc_return(&kmlb_side_miss_n) - 1U) % KMLB_MISS;

	/* racy by design, as kmlb_misses: diagnosis only */
	kmlb_side_misses[i].reason = reason;
	kmlb_side_misses[i].ret = ret;
	kmlb_side_misses[i].before = *before;
	kmlb_side_misses[i].want = *want;
	kmlb_side_misses[i].got = *got;
}

/* ---- can_migrate_task() ---- */

typedef int (*kmlb_cmt_fn)(struct task_struct *p, void *env);
static kmlb_cmt_fn kmlb_cmt_body;	/* the function past its fentry site */

/* Where the handler sends a call it decided: straight back to the caller. */
asmlinkage void kmlb_return_stub(void);
asm(".pushsection .text, \"ax\", @progbits\n"
    ".type kmlb_return_stub, @function\n"
    "kmlb_return_stub:\n\t"
    ASM_ENDBR
    ASM_RET
    ".size kmlb_return_stub, .-kmlb_return_stub\n"
    ".popsection\n");

static void kmlb_decided(struct pt_regs *regs, int ret)
{
	regs->ax = ret;
	instruction_pointer_set(regs, (unsigned long)kmlb_return_stub);
}

static void kmlb_fallback(int why)
{
	atomic64_inc(&kmlb_c.fallbacks);
	if (why >= 0 && why < KMLB_FB_COUNT)
		atomic64_inc(&kmlb_c.fallback_why[why]);
}

/*
 * The kernel's own hard-check outcome: its body on a copy of env with
 * LBF_ACTIVE_LB set returns 1 exactly when throttling, per-CPU kthread,
 * affinity and running all let the task go. Only the copy's flags change;
 * the schedstats that run may count on p, and p->sched_task_hot it clears,
 * are put back.
 */
static int kmlb_kernel_hard_pass(struct task_struct *p, void *env)
{
	u64 env_copy[KMLB_LB_ENV_MAX / 8];
	u64 affine = p->stats.nr_failed_migrations_affine;
	u64 running = p->stats.nr_failed_migrations_running;
	int task_hot = kmlb_get_task_hot(p), ret;

	memcpy(env_copy, env, lb_env_size);
	KMLB_AT(env_copy, lb_env_flags, unsigned int) |= LBF_ACTIVE_LB_6_1;
	ret = kmlb_cmt_body(p, env_copy);
	p->stats.nr_failed_migrations_affine = affine;
	p->stats.nr_failed_migrations_running = running;
	kmlb_set_task_hot(p, task_hot);
	return ret == 1;
}

static int kmlb_model(const struct kmlb_input *in)
{
	struct kmlb_state st;
	u64 t0 = rdtsc_ordered();
	int model;

	kmlb_fill_state(&st, in);
	model = kmlb_predict_state(&st) ? 1 : 0;
	kmlb_sample(KMLB_S_MODEL, rdtsc_ordered() - t0);
	return READ_ONCE(invert) ? !model : model;
}

static void kmlb_count_decision(const struct kmlb_input *in, int reason, int kernel,
				int model)
{
	atomic64_inc(&kmlb_c.decisions);
	if (reason == KMLB_R_ACTIVE_BALANCE)
		atomic64_inc(&kmlb_c.active);
	else
		atomic64_inc(&kmlb_c.heuristic);
	if (model == kernel) {
		atomic64_inc(&kmlb_c.agreements);
		if (reason != KMLB_R_ACTIVE_BALANCE)
			atomic64_inc(&kmlb_c.heuristic_agreements);
	} else {
		unsigned int i = ((unsigned int)atomic_inc_return(&kmlb_miss_n) - 1U) % KMLB_MISS;

		atomic64_inc(&kmlb_c.disagree[reason][kernel & 1]);
		/* racy by design: a slot may mix two records; diagnosis only */
		kmlb_misses[i].in = *in;
		kmlb_misses[i].reason = reason;
		kmlb_misses[i].kernel = kernel;
		kmlb_misses[i].model = model;
	}
}

/* NUMA weights ignore score_nearby_nodes(): exact on NUMA_DIRECT only */
static bool kmlb_topology_ok(int reason)
{
	return reason < KMLB_R_NUMA_WEIGHT_DEGRADES || reason > KMLB_R_NUMA_WEIGHT_IMPROVES ||
	       READ_ONCE(*(int *)sym_sched_numa_topology_type) == enum_numa_direct;
}

/*
 * substitute: decide in the function's place, or leave it to the kernel (0).
 * Only the hard checks and the model run before the decision; the
 * recomputed kernel decision (for the agreement counters) comes after it,
 * outside the timed path.
 */
static int kmlb_substitute(struct pt_regs *regs, struct task_struct *p, void *env,
			   const struct kmlb_input *in, u64 t0)
{
	/* the kernel's hard checks, from the entry snapshot (kmlb_input.h) */
	bool hard = kmlb_hard_refused(in);
	int model, reason = KMLB_R_CACHE_COLD, teacher;

	if (READ_ONCE(fault_skip_hard) && READ_ONCE(audit))
		hard = false;	/* planted fault: only the audit stands guard */
	if (hard || in->active_lb) {
		atomic64_inc(hard ? &kmlb_c.hard : &kmlb_c.active);
		atomic64_inc(&kmlb_c.kernel_ran);
		return 0;
	}
	model = kmlb_model(in);
	if (READ_ONCE(audit)) {
		atomic64_inc(&kmlb_c.audited);
		if (!kmlb_kernel_hard_pass(p, env)) {
			/* the kernel refuses by a hard check: never overridden */
			atomic64_inc(&kmlb_c.hard_mismatches);
			atomic64_inc(&kmlb_c.flipped_hard);
			atomic64_inc(&kmlb_c.kernel_ran);
			return 0;
		}
	}
	/*
	 * the side effects of the path the heuristic would have taken; the
	 * heuristic did not run, so no forced hot migration is marked
	 * (p->sched_task_hot stays cleared, as the kernel clears it at entry)
	 */
	kmlb_set_task_hot(p, 0);
	KMLB_AT(env, lb_env_flags, unsigned int) &= ~LBF_ALL_PINNED_6_1;
	if (!model && kmlb_schedstats())
		p->stats.nr_failed_migrations_hot++;
	kmlb_decided(regs, model);
	kmlb_sample(KMLB_S_SUBSTITUTE, rdtsc_ordered() - t0);

	atomic64_inc(&kmlb_c.substituted);
	teacher = kmlb_decide(in, &reason);
	atomic64_inc(&kmlb_c.by_reason[reason]);
	kmlb_count_decision(in, reason, teacher, model);
	if (model != teacher) {
		atomic64_inc(&kmlb_c.overrides);
		if (model)
			atomic64_inc(&kmlb_c.overrides_to_migrate);
	}
	return 1;
}

/* shadow and replace: the kernel's body runs here, once; 1 (decided). */
static int kmlb_observe(struct pt_regs *regs, struct task_struct *p, void *env,
			const struct kmlb_input *in, int reason, int teacher,
			int mode, u64 t0)
{
	struct sched_domain *sd = KMLB_AT(env, lb_env_sd, struct sched_domain *);
	int idle_idx = KMLB_AT(env, lb_env_idle, int);
	bool hard = kmlb_reason_is_hard(reason), side_ok, hard_ok = true;
	struct kmlb_effects before, want, got;
	int kernel, model = -1, ret;
	u64 tb;

	if (idle_idx < 0 || idle_idx >= CPU_MAX_IDLE_TYPES || !sd)
		return 0;
	if (READ_ONCE(audit)) {
		atomic64_inc(&kmlb_c.audited);
		hard_ok = kmlb_kernel_hard_pass(p, env) == !hard;
		if (!hard_ok)
			atomic64_inc(&kmlb_c.hard_mismatches);
	}
	kmlb_read_effects(p, env, idle_idx, &before);
	want = before;
	kmlb_predict_effects(p, env, in, reason, teacher, &want);

	tb = rdtsc_ordered();
	kernel = kmlb_cmt_body(p, env);
	tb = rdtsc_ordered() - tb;
	kmlb_sample(KMLB_S_NATIVE, tb);
	kmlb_path_sample(reason, tb);

	kmlb_read_effects(p, env, idle_idx, &got);
	side_ok = kmlb_effects_equal(&want, &got);
	atomic64_inc(&kmlb_c.side_checked);
	if (!side_ok) {
		atomic64_inc(&kmlb_c.side_mismatches);
		kmlb_record_side_miss(reason, kernel, &before, &want, &got);
	}
	atomic64_inc(&kmlb_c.by_reason[reason]);
	ret = kernel;
	if (kernel != 0 && kernel != 1) {
		kmlb_fallback(KMLB_FB_RET);
		goto out;
	}
	if (teacher != kernel) {
		/* our reading of the inputs is off: keep the kernel's answer */
		atomic64_inc(&kmlb_c.teacher_mismatch);
		kmlb_fallback(KMLB_FB_TEACHER);
		goto out;
	}
	if (hard) {
		atomic64_inc(&kmlb_c.hard);
		goto out;	/* never evaluated, never overridden */
	}
	model = kmlb_model(in);
	kmlb_count_decision(in, reason, kernel, model);
	/*
	 * replace: a heuristic decision only; the module's hard checks passed
	 * at entry, its recomputation and side effects equal what the kernel
	 * did (and the audit, when on, agrees): only then may 0 become 1.
	 */
	if (mode != KMLB_REPLACE || model == kernel || in->active_lb)
		goto out;
	if (!side_ok || !hard_ok) {
		kmlb_fallback(KMLB_FB_SIDE);
		goto out;
	}
	if (!kmlb_topology_ok(reason)) {
		kmlb_fallback(KMLB_FB_TOPOLOGY);
		goto out;
	}
	ret = model;
	atomic64_inc(&kmlb_c.overrides);
	if (model)
		atomic64_inc(&kmlb_c.overrides_to_migrate);
out:
	kmlb_decided(regs, ret);
	kmlb_sample(KMLB_S_SHADOW, rdtsc_ordered() - t0);
	return 1;
}

static int kmlb_cmt_pre(struct kprobe *kp, struct pt_regs *regs)
{
	u64 t0 = rdtsc_ordered();
	struct task_struct *p = (struct task_struct *)regs->di;
	void *env = (void *)regs->si;
	int mode = READ_ONCE(kmlb_mode);
	struct kmlb_input in;
	int why, reason = KMLB_R_CACHE_COLD, teacher;

	atomic64_inc(&kmlb_c.calls);
	if (mode == KMLB_OFF)
		return 0;	/* the kernel's function runs untouched */
	if (!p || !env) {
		kmlb_fallback(KMLB_FB_NULL);
		return 0;
	}
	why = kmlb_read_input(p, env, &in);
	kmlb_sample(KMLB_S_SNAPSHOT, rdtsc_ordered() - t0);
	if (why) {
		kmlb_fallback(why);
		if (mode == KMLB_SUBSTITUTE)
			atomic64_inc(&kmlb_c.kernel_ran);
		return 0;
	}
	if (mode == KMLB_SUBSTITUTE)
		return kmlb_substitute(regs, p, env, &in, t0);
	teacher = kmlb_decide(&in, &reason);
	return kmlb_observe(regs, p, env, &in, reason, teacher, mode, t0);
}
NOKPROBE_SYMBOL(kmlb_cmt_pre);

static struct kprobe kmlb_cmt_kp = {
	.symbol_name = "can_migrate_task",
	.pre_handler = kmlb_cmt_pre,
};

/* ---- run-queue sampler ---- */

static void kmlb_sample_rqs(struct work_struct *work)
{
	struct kmlb_rq_point pt;
	int cpu, n = 0, self = -1, me = raw_smp_processor_id();

	for_each_online_cpu(cpu) {
		if (n == KMLB_SAMPLE_CPUS)
			break;
		if (cpu == me)
			self = n;
		kmlb_sample_nr[n++] =
			READ_ONCE(KMLB_AT(kmlb_cpu_rq(cpu), rq_nr_running, unsigned int));
	}
	if (n > 0) {
		pt = kmlb_rq_point(kmlb_sample_nr, n, self);
		atomic64_inc(&kmlb_hist_diff[min(pt.maxdiff, KMLB_HIST_DIFF - 1U)]);
		atomic64_inc(&kmlb_hist_total[min(pt.total, KMLB_HIST_TOTAL - 1U)]);
		atomic64_inc(&kmlb_hist_stranded[min(pt.stranded, KMLB_HIST_STRANDED - 1U)]);
		atomic64_inc(&kmlb_hist_samples);
	}
	if (READ_ONCE(kmlb_sampling))
		schedule_delayed_work(&kmlb_sampler, msecs_to_jiffies(KMLB_SAMPLE_MS));
}

/* ---- mode parameter ---- */

static int kmlb_mode_set(const char *val, const struct kernel_param *kp)
{
	int m;

	for (m = 0; m < KMLB_MODES; m++)
		if (sysfs_streq(val, kmlb_mode_names[m]))
			break;
	if (m == KMLB_MODES)
		return -EINVAL;
	if (READ_ONCE(kmlb_mode) != m)
		atomic64_inc(&kmlb_c.mode_switches);
	WRITE_ONCE(kmlb_mode, m);
	return 0;
}

static int kmlb_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", kmlb_mode_names[READ_ONCE(kmlb_mode)]);
}

static const struct kernel_param_ops kmlb_mode_ops = {
	.set = kmlb_mode_set,
	.get = kmlb_mode_get,
};
module_param_cb(mode, &kmlb_mode_ops, NULL, 0644);
MODULE_PARM_DESC(mode, "off, shadow, replace or substitute (writable at run time)");

/* ---- debugfs ---- */

static struct dentry *kmlb_dir;

static int kmlb_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* Lower bound of v's bucket: exact below 16, then 16 per power of two. */
static u32 kmlb_bucket(u32 v)
{
	int e;

	if (v < 16)
		return v;
	e = fls(v) - 1;
	return (v >> (e - 4)) << (e - 4);
}

static void kmlb_show_series(struct seq_file *m, int s, u32 *buf)
{
	static const int pct[] = { 10, 25, 50, 75, 90, 99 };
	int total = atomic_read(&kmlb_rings[s].n);
	int n = min(total, KMLB_RING), i;
	u64 sum = 0;

	seq_printf(m, "%s.count %d\n", kmlb_series_names[s], total);
	if (n <= 0 || !buf)
		return;
	memcpy(buf, kmlb_rings[s].v, n * sizeof(u32));
	sort(buf, n, sizeof(u32), kmlb_cmp_u32, NULL);
	for (i = 0; i < n; i++)
		sum += buf[i];
	seq_printf(m, "%s.mean %llu\n", kmlb_series_names[s], div_u64(sum, n));
	for (i = 0; i < ARRAY_SIZE(pct); i++)
		seq_printf(m, "%s.p%d %u\n", kmlb_series_names[s], pct[i],
			   buf[(u64)(n - 1) * pct[i] / 100]);
	/* log-linear histogram (16 buckets per power of two) for pooling */
	for (i = 0; i < n;) {
		u32 lo = kmlb_bucket(buf[i]);
		int j = i;

		while (j < n && kmlb_bucket(buf[j]) == lo)
			j++;
		seq_printf(m, "hist.%s %u %d\n", kmlb_series_names[s], lo, j - i);
		i = j;
	}
}

static int kmlb_stats_show(struct seq_file *m, void *v)
{
	u32 *buf = vmalloc(KMLB_RING * sizeof(u32));
	int r, s;

	seq_printf(m, "mode %s\n", kmlb_mode_names[READ_ONCE(kmlb_mode)]);
	seq_puts(m, "model_header export-c\n");
	seq_printf(m, "num_features %d\nfrac_bits %d\n", KMLB_NUM_FEATURES,
		   KMLB_FRAC_BITS);
	seq_printf(m, "tsc_khz %u\naudit %d\ninvert %d\nschedstats %d\n", tsc_khz,
		   READ_ONCE(audit), READ_ONCE(invert), kmlb_schedstats());
#define KMLB_SHOW(f) seq_printf(m, #f " %lld\n", atomic64_read(&kmlb_c.f))
	KMLB_SHOW(calls);
	KMLB_SHOW(hard);
	KMLB_SHOW(active);
	KMLB_SHOW(heuristic);
	KMLB_SHOW(decisions);
	KMLB_SHOW(agreements);
	KMLB_SHOW(heuristic_agreements);
	KMLB_SHOW(overrides);
	KMLB_SHOW(overrides_to_migrate);
	KMLB_SHOW(substituted);
	KMLB_SHOW(kernel_ran);
	KMLB_SHOW(fallbacks);
	KMLB_SHOW(teacher_mismatch);
	KMLB_SHOW(side_checked);
	KMLB_SHOW(side_mismatches);
	KMLB_SHOW(audited);
	KMLB_SHOW(hard_mismatches);
	KMLB_SHOW(flipped_hard);
	KMLB_SHOW(mode_switches);
#undef KMLB_SHOW
	seq_printf(m, "cmt_nmissed %lu\n", kmlb_cmt_kp.nmissed);
	for (r = 0; r < KMLB_R_COUNT; r++) {
		seq_printf(m, "reason.%s %lld\n", kmlb_reason_names[r],
			   atomic64_read(&kmlb_c.by_reason[r]));
		seq_printf(m, "disagree.%s.kernel0 %lld\n", kmlb_reason_names[r],
			   atomic64_read(&kmlb_c.disagree[r][0]));
		seq_printf(m, "disagree.%s.kernel1 %lld\n", kmlb_reason_names[r],
			   atomic64_read(&kmlb_c.disagree[r][1]));
	}
	for (r = 0; r < KMLB_FB_COUNT; r++)
		seq_printf(m, "fallback.%s %lld\n", kmlb_fallback_names[r],
			   atomic64_read(&kmlb_c.fallback_why[r]));
	for (r = 0; r < KMLB_R_COUNT; r++) {
		const struct kmlb_path_cost *c = &kmlb_native_by_reason[r];

		if (!atomic64_read(&c->n))
			continue;
		seq_printf(m, "native_path.%s %lld %lld %lld %lld\n", kmlb_reason_names[r],
			   atomic64_read(&c->n), atomic64_read(&c->sum),
			   atomic64_read(&c->min), atomic64_read(&c->max));
	}
#if KMLB_V7
	seq_printf(m, "bad_flag_bits %lld\n", atomic64_read(&kmlb_bad_flag_bits));
	seq_printf(m, "bad_migration_type %lld\n", atomic64_read(&kmlb_bad_migration_type));
	seq_printf(m, "flag40_calls %lld\n", atomic64_read(&kmlb_flag40_calls));
#endif
	for (s = 0; s < KMLB_SERIES; s++)
		kmlb_show_series(m, s, buf);
	vfree(buf);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmlb_stats);

static int kmlb_rq_show(struct seq_file *m, void *v)
{
	int i;

	seq_printf(m, "samples %lld\n", atomic64_read(&kmlb_hist_samples));
	for (i = 0; i < KMLB_HIST_DIFF; i++)
		if (atomic64_read(&kmlb_hist_diff[i]))
			seq_printf(m, "maxdiff %d %lld\n", i,
				   atomic64_read(&kmlb_hist_diff[i]));
	for (i = 0; i < KMLB_HIST_TOTAL; i++)
		if (atomic64_read(&kmlb_hist_total[i]))
			seq_printf(m, "total %d %lld\n", i,
				   atomic64_read(&kmlb_hist_total[i]));
	for (i = 0; i < KMLB_HIST_STRANDED; i++)
		if (atomic64_read(&kmlb_hist_stranded[i]))
			seq_printf(m, "stranded %d %lld\n", i,
				   atomic64_read(&kmlb_hist_stranded[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmlb_rq);

#define KMLB_MISS_FIELDS(X)						\
	X(src_cpu) X(dst_cpu) X(src_len) X(src_preferred_len) X(dst_len)	\
	X(delta) X(cpu_idle) X(cpu_not_idle) X(cpu_newly_idle) X(same_node)	\
	X(prefer_src) X(prefer_dst) X(delta_faults) X(total_faults)		\
	X(src_load) X(dst_load) X(nr_fails) X(cache_nice_tries) X(buddy_hot)	\
	X(next_buddy) X(last_buddy) X(throttled) X(per_cpu_kthread)		\
	X(dst_allowed) X(p_running) X(active_lb) X(sd_numa)			\
	X(sd_share_cpucapacity) X(numa_balancing) X(src_nid) X(dst_nid)	\
	X(preferred_nid) X(has_numa_faults) X(src_faults) X(dst_faults)	\
	X(numa_group) X(group_src_faults) X(group_dst_faults)			\
	X(group_total_faults) X(migration_cost_ns) X(fair_class)		\
	X(idle_policy) X(cookie_match)

static int kmlb_miss_show(struct seq_file *m, void *v)
{
	unsigned int n = min((unsigned int)atomic_read(&kmlb_miss_n), (unsigned int)KMLB_MISS), i;

#define KMLB_MISS_HDR(f) seq_puts(m, #f ",");
	KMLB_MISS_FIELDS(KMLB_MISS_HDR)
	seq_puts(m, "reason,can_migrate,model\n");
	for (i = 0; i < n; i++) {
		const struct kmlb_miss *x = &kmlb_misses[i];
#define KMLB_MISS_VAL(f) seq_printf(m, "%lld,", x->in.f);
		KMLB_MISS_FIELDS(KMLB_MISS_VAL)
		seq_printf(m, "%s,%d,%d\n", x->reason >= 0 && x->reason < KMLB_R_COUNT ?
			   kmlb_reason_names[x->reason] : "?", x->kernel, x->model);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmlb_miss);

/* One line per recorded side-effect mismatch: the state before, predicted, observed. */
static int kmlb_side_miss_show(struct seq_file *m, void *v)
{
	unsigned int n = min((unsigned int)atomic_read(&kmlb_side_miss_n), (unsigned int)KMLB_MISS), i;
	static const char *const when[3] = { "before", "want", "got" };
	static const char *const field[8] = {
		"flags", "new_dst_cpu", "affine", "running", "hot", "forced",
		"hot_gained", "task_hot"
	};
	int k, j;

	seq_puts(m, "reason,can_migrate");
	for (k = 0; k < 3; k++)
		for (j = 0; j < 8; j++)
			seq_printf(m, ",%s.%s", when[k], field[j]);
	seq_putc(m, '\n');
	for (i = 0; i < n; i++) {
		const struct kmlb_side_miss *x = &kmlb_side_misses[i];
		const struct kmlb_effects *e[3] = { &x->before, &x->want, &x->got };

		seq_printf(m, "%s,%d", x->reason >= 0 && x->reason < KMLB_R_COUNT ?
			   kmlb_reason_names[x->reason] : "?", x->ret);
		for (k = 0; k < 3; k++)
			seq_printf(m, ",%#x,%d,%llu,%llu,%llu,%llu,%llu,%d", e[k]->flags,
				   e[k]->new_dst_cpu, e[k]->affine, e[k]->running, e[k]->hot,
				   e[k]->forced, e[k]->hot_gained, e[k]->task_hot);
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kmlb_side_miss);

static void kmlb_reset(void)
{
	atomic64_t *a = (atomic64_t *)&kmlb_c;
	size_t i;

#if KMLB_V7
	atomic64_set(&kmlb_bad_flag_bits, 0);
	atomic64_set(&kmlb_bad_migration_type, 0);
	atomic64_set(&kmlb_flag40_calls, 0);
#endif
	for (i = 0; i < sizeof(kmlb_c) / sizeof(atomic64_t); i++)
		if (&a[i] != &kmlb_c.mode_switches)
			atomic64_set(&a[i], 0);
	for (i = 0; i < KMLB_SERIES; i++)
		atomic_set(&kmlb_rings[i].n, 0);
	for (i = 0; i < KMLB_HIST_DIFF; i++)
		atomic64_set(&kmlb_hist_diff[i], 0);
	for (i = 0; i < KMLB_HIST_TOTAL; i++)
		atomic64_set(&kmlb_hist_total[i], 0);
	for (i = 0; i < KMLB_HIST_STRANDED; i++)
		atomic64_set(&kmlb_hist_stranded[i], 0);
	atomic64_set(&kmlb_hist_samples, 0);
	atomic_set(&kmlb_miss_n, 0);
	atomic_set(&kmlb_side_miss_n, 0);
	for (i = 0; i < KMLB_R_COUNT; i++) {
		atomic64_set(&kmlb_native_by_reason[i].n, 0);
		atomic64_set(&kmlb_native_by_reason[i].sum, 0);
		atomic64_set(&kmlb_native_by_reason[i].min, 0);
		atomic64_set(&kmlb_native_by_reason[i].max, 0);
	}
}

static ssize_t kmlb_reset_write(struct file *f, const char __user *buf,
				size_t len, loff_t *off)
{
	kmlb_reset();
	return len;
}

static const struct file_operations kmlb_reset_fops = {
	.owner = THIS_MODULE,
	.write = kmlb_reset_write,
};

/* ---- load / unload ---- */

static int kmlb_check_symbol(unsigned long addr, const char *name)
{
	char buf[KSYM_SYMBOL_LEN];

	if (!addr) {
		pr_err("symbol %s: no address given (run kmlb_offsets)\n", name);
		return -EINVAL;
	}
	sprint_symbol_no_offset(buf, addr);
	if (strcmp(buf, name)) {
		pr_err("symbol %s: address %lx is %s\n", name, addr, buf);
		return -EINVAL;
	}
	return 0;
}

/*
 * Private offsets against live values of known meaning: the root task
 * group's per-CPU cfs_rq is &rq->cfs and belongs to that rq
 * (task_group_cfs_rq, rq_cfs, cfs_rq_rq); 0 < rq->clock_task <= rq->clock
 * (rq_clock_task, rq_clock: a plausibility check only); ksoftirqd/N are
 * per-CPU kthreads, kthreadd and unbound kworkers are not (kthread_flags,
 * KTHREAD_IS_PER_CPU). lb_env's offsets are validated on every call
 * (kmlb_read_input).
 */
static int kmlb_check_live(void)
{
	void **root_cfs = NULL;
	struct task_struct *g, *t;
	int cpu, per_cpu_seen = 0, unbound_seen = 0, bad = 0;

	if (lb_env_size <= 0 || lb_env_size > KMLB_LB_ENV_MAX) {
		pr_err("sizeof(struct lb_env) = %ld: not in 1..%d\n", lb_env_size,
		       KMLB_LB_ENV_MAX);
		return -EINVAL;
	}
	if (lb_env_flags + 4 > lb_env_size || lb_env_new_dst_cpu + 4 > lb_env_size ||
	    lb_env_cpus + 8 > lb_env_size || lb_env_dst_grpmask + 8 > lb_env_size ||
	    lb_env_sd + 8 > lb_env_size || lb_env_idle + 4 > lb_env_size ||
	    lb_env_src_cpu + 4 > lb_env_size || lb_env_dst_cpu + 4 > lb_env_size ||
	    lb_env_src_rq + 8 > lb_env_size || lb_env_dst_rq + 8 > lb_env_size) {
		pr_err("an lb_env offset lies outside sizeof(struct lb_env)\n");
		return -EINVAL;
	}
	/* reads through offsets not yet validated never fault */
	if (copy_from_kernel_nofault(&root_cfs, (char *)sym_root_task_group + task_group_cfs_rq,
				     sizeof(root_cfs)) || !root_cfs) {
		pr_err("root_task_group.cfs_rq unreadable: task_group_cfs_rq is wrong\n");
		return -EINVAL;
	}
	for_each_possible_cpu(cpu) {
		void *rq = kmlb_cpu_rq(cpu), *cfs = NULL, *cfs_rq_of = NULL;
		u64 ct, c;

		if (KMLB_AT(rq, rq_cpu, int) != cpu) {
			pr_err("runqueues/rq.cpu do not match on CPU %d\n", cpu);
			return -EINVAL;
		}
#if KMLB_V7
		if (task_group_cfs_rq_percpu)
			cfs = per_cpu_ptr((char __percpu *)(unsigned long)root_cfs, cpu);
		else if (copy_from_kernel_nofault(&cfs, &root_cfs[cpu], sizeof(cfs)))
			cfs = NULL;
		if (cfs != (char *)rq + rq_cfs ||
#else
		if (copy_from_kernel_nofault(&cfs, &root_cfs[cpu], sizeof(cfs)) ||
		    cfs != (char *)rq + rq_cfs ||
#endif
		    copy_from_kernel_nofault(&cfs_rq_of, (char *)cfs + cfs_rq_rq,
					     sizeof(cfs_rq_of)) || cfs_rq_of != rq) {
			pr_err("root_task_group.cfs_rq[%d] is not &rq->cfs of that rq: "
			       "task_group_cfs_rq, rq_cfs or cfs_rq_rq is wrong\n", cpu);
			return -EINVAL;
		}
		if (!cpu_online(cpu))
			continue;
		ct = READ_ONCE(KMLB_AT(rq, rq_clock_task, u64));
		c = READ_ONCE(KMLB_AT(rq, rq_clock, u64));
		if (!ct || ct > c) {
			pr_err("CPU %d: rq clock_task %llu, clock %llu: rq_clock_task or rq_clock is wrong\n",
			       cpu, ct, c);
			return -EINVAL;
		}
	}
#if KMLB_V7
	/*
	 * rq->donor (rq->curr without proxy execution) and, with 7.3's single
	 * EEVDF runqueue, rq->cfs.curr are the task running here: insmod's
	 * thread, a fair task, on the CPU it cannot leave while preemption is
	 * off. h_nr_queued counts the fair tasks queued, this one among them.
	 */
	{
		int here = get_cpu();
		void *rq = kmlb_cpu_rq(here), *cfs = (char *)rq + rq_cfs;
		void *donor = NULL, *ccurr = NULL;
		unsigned int queued = 0;
		int bad_eevdf = 0;

		if (copy_from_kernel_nofault(&donor, (char *)rq + rq_donor, sizeof(donor)) ||
		    donor != current)
			bad_eevdf = 1;
		else if (current->sched_class == (void *)sym_fair_sched_class &&
			 (copy_from_kernel_nofault(&ccurr, (char *)cfs + cfs_rq_curr, sizeof(ccurr)) ||
			  ccurr != &current->se ||
			  copy_from_kernel_nofault(&queued, (char *)cfs + cfs_rq_h_nr_queued,
						   sizeof(queued)) || queued < 1))
			bad_eevdf = 2;
		put_cpu();
		if (bad_eevdf) {
			pr_err("CPU %d: rq.donor %px, cfs_rq.curr %px, h_nr_queued %u, current %px: %s is wrong\n",
			       here, donor, ccurr, queued, current,
			       bad_eevdf == 1 ? "rq_donor" : "cfs_rq_curr or cfs_rq_h_nr_queued");
			return -EINVAL;
		}
	}
#endif
	rcu_read_lock();
	for_each_process_thread(g, t) {
		void *kt = t->worker_private;
		unsigned long kflags;
		bool per_cpu;

		if (!(t->flags & PF_KTHREAD) || !kt)
			continue;
		if (copy_from_kernel_nofault(&kflags, (char *)kt + kthread_flags, sizeof(kflags))) {
			bad++;
			continue;
		}
		per_cpu = (kflags >> enum_kthread_is_per_cpu) & 1;
		if (!strncmp(t->comm, "ksoftirqd/", 10)) {
			per_cpu_seen++;
			bad += !per_cpu;
		} else if (!strcmp(t->comm, "kthreadd") || !strncmp(t->comm, "kworker/u", 9)) {
			unbound_seen++;
			bad += per_cpu;
		}
	}
	rcu_read_unlock();
	if (!per_cpu_seen || !unbound_seen || bad) {
		pr_err("kthread flags: %d ksoftirqd, %d unbound, %d wrong: kthread_flags or KTHREAD_IS_PER_CPU is wrong\n",
		       per_cpu_seen, unbound_seen, bad);
		return -EINVAL;
	}
	return 0;
}

static int kmlb_check_params(void)
{
	int err = 0;

#define KMLB_CHECK_SET(name, ...)					\
	if (name == KMLB_UNSET || name < 0) {				\
		pr_err("parameter " #name " missing (run kmlb_offsets)\n"); \
		err = -EINVAL;						\
	}
	KMLB_PRIVATE_FIELDS(KMLB_CHECK_SET)
	KMLB_PRIVATE_SIZES(KMLB_CHECK_SET)
	KMLB_HEADER_FIELDS(KMLB_CHECK_SET)
	KMLB_ENUMS(KMLB_CHECK_SET)
	/* BTF and the headers the module was built against name the same kernel */
	if ((cfs_rq_last >= 0) != KMLB_HAS_LAST_BUDDY) {
		pr_err("cfs_rq.last: BTF offset %ld, but the module is built for a kernel %s it\n",
		       cfs_rq_last, KMLB_HAS_LAST_BUDDY ? "with" : "without");
		err = -EINVAL;
	}
#if KMLB_V7
	/* 7.x's inputs; sum_shift is optional (absent before the paranoid average) */
	if (lb_env_migration_type < 0 || rq_donor < 0 || cfs_rq_h_nr_queued < 0 ||
	    cfs_rq_sum_w_vruntime < 0 || cfs_rq_sum_weight < 0 ||
	    cfs_rq_zero_vruntime < 0 || cfs_rq_curr < 0 || enum_migrate_load < 0 ||
	    enum_sched_feat_place_lag < 0 || !sym_sched_feat_keys) {
		pr_err("7.x inputs missing in BTF/kallsyms (migration_type, donor, EEVDF sums, PLACE_LAG): not the kernel the module is built for\n");
		err = -EINVAL;
	}
	if (task_group_cfs_rq_percpu != 0 && task_group_cfs_rq_percpu != 1) {
		pr_err("task_group_cfs_rq_percpu missing (run kmlb_offsets)\n");
		err = -EINVAL;
	}
	if (enum_migrate_load != KMLB_MIGRATE_LOAD) {
		pr_err("migrate_load is %ld in BTF, the module tests %d\n", enum_migrate_load,
		       KMLB_MIGRATE_LOAD);
		err = -EINVAL;
	}
	if (enum_sched_feat_place_lag >= KMLB_SCHED_FEAT_MAX) {
		pr_err("__SCHED_FEAT_PLACE_LAG = %ld: not a feature index\n", enum_sched_feat_place_lag);
		err = -EINVAL;
	}
#endif
	if (!sym_sched_core_enabled == KMLB_HAS_SCHED_CORE) {
		pr_err("__sched_core_enabled: %s in kallsyms, but the module is built %s CONFIG_SCHED_CORE\n",
		       sym_sched_core_enabled ? "present" : "absent",
		       KMLB_HAS_SCHED_CORE ? "with" : "without");
		err = -EINVAL;
	}
	if (err)
		return err;
#define KMLB_CHECK_HDR(name, type, member, want)			\
	if (name != offsetof(struct type, member)) {			\
		pr_err(#type "." #member ": BTF says %ld, headers %zu\n", \
		       name, offsetof(struct type, member));		\
		err = -EINVAL;						\
	}
	KMLB_CHECK_HDR(task_struct_se, task_struct, se, 0)
	KMLB_CHECK_HDR(task_struct_on_cpu, task_struct, on_cpu, 0)
	KMLB_CHECK_HDR(task_struct_numa_preferred_nid, task_struct,
		       numa_preferred_nid, 0)
	KMLB_CHECK_HDR(task_struct_numa_faults, task_struct, numa_faults, 0)
	KMLB_CHECK_HDR(task_struct_worker_private, task_struct, worker_private, 0)
	KMLB_CHECK_HDR(sched_entity_exec_start, sched_entity, exec_start, 0)
	KMLB_CHECK_HDR(sched_entity_cfs_rq, sched_entity, cfs_rq, 0)
	KMLB_CHECK_HDR(sched_domain_flags, sched_domain, flags, 0)
	KMLB_CHECK_HDR(sched_domain_nr_balance_failed, sched_domain,
		       nr_balance_failed, 0)
	KMLB_CHECK_HDR(sched_avg_load_avg, sched_avg, load_avg, 0)
	if (enum_sd_numa != SD_NUMA ||
	    enum_sd_share_cpucapacity != SD_SHARE_CPUCAPACITY ||
	    enum_cpu_idle != CPU_IDLE || enum_cpu_not_idle != KMLB_CPU_NOT_IDLE ||
	    enum_cpu_newly_idle != CPU_NEWLY_IDLE) {
		pr_err("enum values differ between BTF and headers\n");
		err = -EINVAL;
	}
	if (enum_kthread_is_per_cpu < 0 || enum_kthread_is_per_cpu >= BITS_PER_LONG)
		err = -EINVAL;
	err = err ?: kmlb_check_symbol(sym_sysctl_sched_migration_cost,
				       "sysctl_sched_migration_cost");
	err = err ?: kmlb_check_symbol(sym_sched_numa_balancing,
				       "sched_numa_balancing");
	err = err ?: kmlb_check_symbol(sym_cfs_bandwidth_used,
				       "__cfs_bandwidth_used");
	err = err ?: kmlb_check_symbol(sym_fair_sched_class, "fair_sched_class");
	err = err ?: kmlb_check_symbol(sym_sched_numa_topology_type,
				       "sched_numa_topology_type");
	err = err ?: kmlb_check_symbol(sym_root_task_group, "root_task_group");
	err = err ?: kmlb_check_symbol(sym_sched_schedstats, "sched_schedstats");
	if (KMLB_HAS_SCHED_CORE)
		err = err ?: kmlb_check_symbol(sym_sched_core_enabled, "__sched_core_enabled");
	if (KMLB_V7)
		err = err ?: kmlb_check_symbol(sym_sched_feat_keys, "sched_feat_keys");
	if (err)
		return err;
	if (!sym_runqueues) {
		pr_err("symbol runqueues: no address given\n");
		return -EINVAL;
	}
	return kmlb_check_live();
}

static void kmlb_free_rings(void)
{
	int s;

	for (s = 0; s < KMLB_SERIES; s++) {
		vfree(kmlb_rings[s].v);
		kmlb_rings[s].v = NULL;
	}
}

static int __init kmlb_init(void)
{
	int err, s;

	if (cpu_feature_enabled(X86_FEATURE_IBT)) {
		/* the handler calls the body past its ENDBR: refused by IBT */
		pr_err("indirect branch tracking is on: the body call is not possible\n");
		return -EOPNOTSUPP;
	}
	err = kmlb_check_params();
	if (err)
		return err;
	for (s = 0; s < KMLB_SERIES; s++) {
		kmlb_rings[s].v = vzalloc(KMLB_RING * sizeof(u32));
		if (!kmlb_rings[s].v) {
			kmlb_free_rings();
			return -ENOMEM;
		}
	}
	kmlb_dir = debugfs_create_dir("kmlb", NULL);
	debugfs_create_file("stats", 0444, kmlb_dir, NULL, &kmlb_stats_fops);
	debugfs_create_file("rq", 0444, kmlb_dir, NULL, &kmlb_rq_fops);
	debugfs_create_file("disagreements", 0444, kmlb_dir, NULL, &kmlb_miss_fops);
	debugfs_create_file("side_mismatches", 0444, kmlb_dir, NULL, &kmlb_side_miss_fops);
	debugfs_create_file("reset", 0200, kmlb_dir, NULL, &kmlb_reset_fops);

	err = register_kprobe(&kmlb_cmt_kp);
	if (!err && !(kmlb_cmt_kp.flags & KPROBE_FLAG_FTRACE)) {
		/* the body call below needs the fentry site */
		pr_err("can_migrate_task: not an ftrace-based kprobe\n");
		unregister_kprobe(&kmlb_cmt_kp);
		err = -EOPNOTSUPP;
	}
	if (err) {
		pr_err("register_kprobe(can_migrate_task): %d\n", err);
		debugfs_remove_recursive(kmlb_dir);
		kmlb_free_rings();
		return err;
	}
	kmlb_cmt_body = (kmlb_cmt_fn)((unsigned long)kmlb_cmt_kp.addr + MCOUNT_INSN_SIZE);
	INIT_DELAYED_WORK(&kmlb_sampler, kmlb_sample_rqs);
	WRITE_ONCE(kmlb_sampling, true);
	schedule_delayed_work(&kmlb_sampler, msecs_to_jiffies(KMLB_SAMPLE_MS));
	pr_info("loaded: mode %s, %d features, Q%d, probe at %pS\n",
		kmlb_mode_names[READ_ONCE(kmlb_mode)], KMLB_NUM_FEATURES, KMLB_FRAC_BITS,
		kmlb_cmt_kp.addr);
	return 0;
}

static void __exit kmlb_exit(void)
{
	WRITE_ONCE(kmlb_mode, KMLB_OFF);
	WRITE_ONCE(kmlb_sampling, false);
	cancel_delayed_work_sync(&kmlb_sampler);
	/* waits (synchronize_rcu) until no handler runs */
	unregister_kprobe(&kmlb_cmt_kp);
	debugfs_remove_recursive(kmlb_dir);
	kmlb_free_rings();
	pr_info("unloaded: %lld calls, %lld overrides, %lld substituted, nmissed %lu\n",
		atomic64_read(&kmlb_c.calls), atomic64_read(&kmlb_c.overrides),
		atomic64_read(&kmlb_c.substituted), kmlb_cmt_kp.nmissed);
}

module_init(kmlb_init);
module_exit(kmlb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmlb: a learnt can_migrate_task() decision: shadow, replace or substitute");
