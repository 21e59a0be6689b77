// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb - the load balancer's can_migrate_task() decision, learnt by a small
 * MLP, evaluated (shadow) or used (replace) inside a stock Debian 6.1 kernel.
 *
 * A kretprobe on can_migrate_task() saves p and env at entry. At return it
 * reads every input of the decision (struct kmlb_input), recomputes the
 * kernel's decision and the branch that made it (kmlb_input.h), and runs
 * the fixed-point model (kmlb_model.h from `kmlb export-c`).
 *
 *   mode=off      time the function only
 *   mode=shadow   also count agreement of model and kernel, by branch
 *   mode=replace  return the model's decision, only where the kernel's hard
 *                 checks passed (not throttled, not a per-CPU kthread, dst
 *                 allowed, not running) and active balancing did not force
 *                 the migration (the part Chen et al. replaced), and only
 *                 when the recomputed decision equals the kernel's: any
 *                 input the module does not understand leaves the kernel's
 *                 decision in place.
 *
 * The mode is a module parameter, writable at run time
 * (/sys/module/kmlb/parameters/mode). Counters, latency percentiles and
 * the run-queue sampler's histograms are in /sys/kernel/debug/kmlb/.
 *
 * Private scheduler structures (struct lb_env, struct rq, ...) are read
 * through offsets found in the running kernel's BTF (kmlb_offsets.h); the
 * module refuses to load when one is missing or a header struct disagrees.
 *
 * The handlers never sleep or allocate, use integer arithmetic only and
 * run bounded loops. A second kretprobe times load_balance(); a delayed
 * work samples every CPU's nr_running ten times a second.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/jump_label.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/idle.h>
#include <linux/sched/topology.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "kmlb_input.h"
#include "kmlb_model.h"
#include "kmlb_offsets.h"

#define LBF_ACTIVE_LB_6_1 0x10	/* kernel/sched/fair.c, v5.10 to v6.1 */
#define KMLB_UNSET (-0x7fffffffL)

/* ---- parameters: offsets, enum values, symbols (kmlb_offsets.h) ---- */

#define KMLB_PARAM_OFF(name, s, m, ...)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "offsetof(struct " s ", " m ") from BTF");
KMLB_PRIVATE_FIELDS(KMLB_PARAM_OFF)
KMLB_HEADER_FIELDS(KMLB_PARAM_OFF)
#define KMLB_PARAM_ENUM(name, e)				\
	static long name = KMLB_UNSET;				\
	module_param(name, long, 0444);				\
	MODULE_PARM_DESC(name, "value of " e " from BTF");
KMLB_ENUMS(KMLB_PARAM_ENUM)
#define KMLB_PARAM_SYM(name, sym)				\
	static unsigned long name;				\
	module_param(name, ulong, 0444);			\
	MODULE_PARM_DESC(name, "address of " sym " from /proc/kallsyms");
KMLB_SYMBOLS(KMLB_PARAM_SYM)

/* ---- mode ---- */

enum kmlb_mode { KMLB_OFF, KMLB_SHADOW, KMLB_REPLACE, KMLB_MODES };
static const char *const kmlb_mode_names[KMLB_MODES] = {
	"off", "shadow", "replace"
};
static int kmlb_mode = KMLB_OFF;

/* ---- counters ---- */

struct kmlb_counters {
	atomic64_t calls;		/* return handler runs */
	atomic64_t hard;		/* refused by a hard check */
	atomic64_t active;		/* LBF_ACTIVE_LB: migrate at once */
	atomic64_t heuristic;		/* decided by NUMA test / task_hot */
	atomic64_t decisions;		/* active + heuristic: the model's rows */
	atomic64_t agreements;		/* model == kernel on those */
	atomic64_t heuristic_agreements;
	atomic64_t overrides;		/* return value replaced */
	atomic64_t overrides_to_migrate;
	atomic64_t overrides_hard;	/* replaced a hard refusal: must stay 0 */
	atomic64_t fallbacks;		/* unexpected input: kernel decides */
	atomic64_t teacher_mismatch;	/* recomputed != returned (fallback) */
	atomic64_t mode_switches;
	atomic64_t model_ns_sum;	/* features + MLP */
	atomic64_t model_ns_count;
	atomic64_t by_reason[KMLB_R_COUNT];
	atomic64_t disagree[KMLB_R_COUNT][2];	/* [reason][kernel's answer] */
	atomic64_t fallback_why[8];
};

enum kmlb_fallback {
	KMLB_FB_NULL, KMLB_FB_CPU, KMLB_FB_IDLE, KMLB_FB_NID, KMLB_FB_RET,
	KMLB_FB_TEACHER, KMLB_FB_TOPOLOGY, KMLB_FB_COUNT
};
static const char *const kmlb_fallback_names[KMLB_FB_COUNT] = {
	"null_pointer", "bad_cpu", "bad_idle", "bad_nid", "bad_return",
	"teacher_mismatch", "numa_topology"
};

static const char *const kmlb_reason_names[KMLB_R_COUNT] = {
#define KMLB_REASON_NAME(id, name, hard) name,
	KMLB_REASONS(KMLB_REASON_NAME)
};

static struct kmlb_counters kmlb_c;

/* Latency samples: the first KMLB_RING after a reset, for percentiles. */
#define KMLB_RING (1 << 17)
enum kmlb_series {
	KMLB_S_CMT_NATIVE,	/* can_migrate_task: entry to return */
	KMLB_S_CMT_HOOKED,	/* entry to the end of our return handler */
	KMLB_S_MODEL,		/* features + MLP */
	KMLB_S_LB,		/* load_balance: entry to return */
	KMLB_SERIES
};
static const char *const kmlb_series_names[KMLB_SERIES] = {
	"cmt_native_ns", "cmt_hooked_ns", "model_ns", "load_balance_ns"
};
struct kmlb_ring {
	atomic_t n;
	u32 *v;
};
static struct kmlb_ring kmlb_rings[KMLB_SERIES];

static void kmlb_sample(enum kmlb_series s, u64 ns)
{
	struct kmlb_ring *r = &kmlb_rings[s];
	int i = atomic_inc_return(&r->n) - 1;

	if (i >= 0 && i < KMLB_RING)
		r->v[i] = ns > U32_MAX ? U32_MAX : (u32)ns;
}

/* Run-queue sampler: max - min and sum of nr_running over online CPUs. */
#define KMLB_HIST_DIFF 64
#define KMLB_HIST_TOTAL 256
static atomic64_t kmlb_hist_diff[KMLB_HIST_DIFF];
static atomic64_t kmlb_hist_total[KMLB_HIST_TOTAL];
static atomic64_t kmlb_hist_samples;
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

static bool probe_lb = true;
module_param(probe_lb, bool, 0444);
MODULE_PARM_DESC(probe_lb, "time load_balance() with a second kretprobe (default on)");

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

static s64 kmlb_task_faults(const struct task_struct *p, int nid)
{
	const unsigned long *f = p->numa_faults;

	if (!f)
		return 0;
	/* task_faults_idx(NUMA_MEM, nid, 0 and 1) = 2 * nid + priv */
	return (s64)(f[2 * nid] + f[2 * nid + 1]);
}

static bool kmlb_throttled(struct task_struct *p, int src, int dst)
{
	void *tg = p->sched_task_group;
	void **cfs;
	void *a, *b;

	if (!static_key_count(kmlb_key(sym_cfs_bandwidth_used)))
		return false;
	if (!tg)
		return false;
	cfs = KMLB_AT(tg, task_group_cfs_rq, void **);
	if (!cfs)
		return false;
	a = cfs[src];
	b = cfs[dst];
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
 * Fill *in from the call's arguments; 0, or a KMLB_FB_* code when something
 * is not as expected (the kernel's decision then stands).
 */
static int kmlb_read_input(struct task_struct *p, void *env, unsigned int flags,
			   struct kmlb_input *in)
{
	void *src_rq, *dst_rq, *cfs;
	struct sched_domain *sd;
	struct sched_entity *se = &p->se;
	void *ng;
	int src, dst, idle, src_nid, dst_nid;
	unsigned int cost;

	sd = KMLB_AT(env, lb_env_sd, struct sched_domain *);
	src_rq = KMLB_AT(env, lb_env_src_rq, void *);
	dst_rq = KMLB_AT(env, lb_env_dst_rq, void *);
	if (!sd || !src_rq || !dst_rq)
		return KMLB_FB_NULL;
	src = KMLB_AT(env, lb_env_src_cpu, int);
	dst = KMLB_AT(env, lb_env_dst_cpu, int);
	if (src < 0 || dst < 0 || src >= nr_cpu_ids || dst >= nr_cpu_ids ||
	    KMLB_AT(src_rq, rq_cpu, int) != src ||
	    KMLB_AT(dst_rq, rq_cpu, int) != dst)
		return KMLB_FB_CPU;
	idle = KMLB_AT(env, lb_env_idle, int);
	if (idle != enum_cpu_idle && idle != enum_cpu_not_idle &&
	    idle != enum_cpu_newly_idle)
		return KMLB_FB_IDLE;
	src_nid = cpu_to_node(src);
	dst_nid = cpu_to_node(dst);
	if (src_nid < 0 || dst_nid < 0 || src_nid >= nr_node_ids ||
	    dst_nid >= nr_node_ids)
		return KMLB_FB_NID;

	memset(in, 0, sizeof(*in));
	in->src_cpu = src;
	in->dst_cpu = dst;
	in->src_len = READ_ONCE(KMLB_AT(src_rq, rq_nr_running, unsigned int));
	in->src_preferred_len =
		READ_ONCE(KMLB_AT(src_rq, rq_nr_preferred_running, unsigned int));
	in->dst_len = READ_ONCE(KMLB_AT(dst_rq, rq_nr_running, unsigned int));
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

		in->numa_group = 1;
		in->group_src_faults = (s64)(gf[2 * src_nid] + gf[2 * src_nid + 1]);
		in->group_dst_faults = (s64)(gf[2 * dst_nid] + gf[2 * dst_nid + 1]);
		in->group_total_faults =
			(s64)KMLB_AT(ng, numa_group_total_faults, unsigned long);
	}
	in->src_load = (s64)READ_ONCE(KMLB_AT(src_rq, rq_cfs + cfs_rq_avg +
					      sched_avg_load_avg, unsigned long));
	in->dst_load = (s64)READ_ONCE(KMLB_AT(dst_rq, rq_cfs + cfs_rq_avg +
					      sched_avg_load_avg, unsigned long));
	in->nr_fails = sd->nr_balance_failed;
	in->cache_nice_tries = sd->cache_nice_tries;
	cfs = se->cfs_rq;
	if (!cfs)
		return KMLB_FB_NULL;
	in->next_buddy = KMLB_AT(cfs, cfs_rq_next, struct sched_entity *) == se;
	in->last_buddy = KMLB_AT(cfs, cfs_rq_last, struct sched_entity *) == se;
	in->buddy_hot = in->next_buddy || in->last_buddy;
	in->throttled = kmlb_throttled(p, src, dst);
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
	in->cookie_match = 1;	/* CONFIG_SCHED_CORE is off in Debian's 6.1 */
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

/* ---- can_migrate_task() ---- */

struct kmlb_call {
	struct task_struct *p;
	void *env;
	unsigned int flags;	/* env->flags at entry */
	u64 t0;
};

static int kmlb_cmt_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kmlb_call *c = (struct kmlb_call *)ri->data;

	c->p = (struct task_struct *)regs->di;
	c->env = (void *)regs->si;
	c->flags = c->env ? KMLB_AT(c->env, lb_env_flags, unsigned int) : 0;
	c->t0 = local_clock();
	return 0;
}

static void kmlb_fallback(int why)
{
	atomic64_inc(&kmlb_c.fallbacks);
	if (why >= 0 && why < KMLB_FB_COUNT)
		atomic64_inc(&kmlb_c.fallback_why[why]);
}

static int kmlb_cmt_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kmlb_call *c = (struct kmlb_call *)ri->data;
	u64 t1 = local_clock(), tm0, tm1;
	unsigned long ret = regs_return_value(regs);
	int mode = READ_ONCE(kmlb_mode);
	struct kmlb_input in;
	struct kmlb_state st;
	int why, reason = KMLB_R_CACHE_COLD, teacher, model;

	kmlb_sample(KMLB_S_CMT_NATIVE, t1 - c->t0);
	atomic64_inc(&kmlb_c.calls);
	if (mode == KMLB_OFF)
		goto out;
	if (!c->p || !c->env) {
		kmlb_fallback(KMLB_FB_NULL);
		goto out;
	}
	if (ret > 1) {
		kmlb_fallback(KMLB_FB_RET);
		goto out;
	}
	why = kmlb_read_input(c->p, c->env, c->flags, &in);
	if (why) {
		kmlb_fallback(why);
		goto out;
	}
	teacher = kmlb_decide_6_1(&in, &reason);
	atomic64_inc(&kmlb_c.by_reason[reason]);
	if (kmlb_reason_is_hard(reason)) {
		atomic64_inc(&kmlb_c.hard);
		if (teacher != (int)ret) {
			atomic64_inc(&kmlb_c.teacher_mismatch);
			kmlb_fallback(KMLB_FB_TEACHER);
		}
		goto out;	/* never evaluated, never overridden */
	}
	if (reason == KMLB_R_ACTIVE_BALANCE)
		atomic64_inc(&kmlb_c.active);
	else
		atomic64_inc(&kmlb_c.heuristic);

	tm0 = local_clock();
	kmlb_fill_state(&st, &in);
	model = kmlb_predict_state(&st) ? 1 : 0;
	tm1 = local_clock();
	kmlb_sample(KMLB_S_MODEL, tm1 - tm0);
	atomic64_add(tm1 - tm0, &kmlb_c.model_ns_sum);
	atomic64_inc(&kmlb_c.model_ns_count);

	atomic64_inc(&kmlb_c.decisions);
	if (model == (int)ret) {
		atomic64_inc(&kmlb_c.agreements);
		if (reason != KMLB_R_ACTIVE_BALANCE)
			atomic64_inc(&kmlb_c.heuristic_agreements);
	} else {
		int i = (atomic_inc_return(&kmlb_miss_n) - 1) % KMLB_MISS;

		atomic64_inc(&kmlb_c.disagree[reason][ret]);
		/* racy by design: a slot may mix two records; diagnosis only */
		kmlb_misses[i].in = in;
		kmlb_misses[i].reason = reason;
		kmlb_misses[i].kernel = ret;
		kmlb_misses[i].model = model;
	}
	if (teacher != (int)ret) {
		/* our reading of the inputs is off: keep the kernel's answer */
		atomic64_inc(&kmlb_c.teacher_mismatch);
		kmlb_fallback(KMLB_FB_TEACHER);
		goto out;
	}
	/* NUMA weights ignore score_nearby_nodes(): exact on NUMA_DIRECT only */
	if (reason >= KMLB_R_NUMA_WEIGHT_DEGRADES &&
	    reason <= KMLB_R_NUMA_WEIGHT_IMPROVES &&
	    READ_ONCE(*(int *)sym_sched_numa_topology_type) != enum_numa_direct) {
		kmlb_fallback(KMLB_FB_TOPOLOGY);
		goto out;
	}
	if (mode == KMLB_REPLACE && reason != KMLB_R_ACTIVE_BALANCE &&
	    model != (int)ret) {
		if (kmlb_reason_is_hard(reason) || in.active_lb || in.throttled ||
		    in.per_cpu_kthread || !in.dst_allowed || in.p_running) {
			/* unreachable by construction; counted, not done */
			atomic64_inc(&kmlb_c.overrides_hard);
			goto out;
		}
		regs_set_return_value(regs, model);
		atomic64_inc(&kmlb_c.overrides);
		if (model)
			atomic64_inc(&kmlb_c.overrides_to_migrate);
	}
out:
	kmlb_sample(KMLB_S_CMT_HOOKED, local_clock() - c->t0);
	return 0;
}

static struct kretprobe kmlb_cmt_probe = {
	.kp.symbol_name = "can_migrate_task",
	.entry_handler = kmlb_cmt_entry,
	.handler = kmlb_cmt_return,
	.data_size = sizeof(struct kmlb_call),
	.maxactive = 64,
};

/* ---- load_balance() timing ---- */

static int kmlb_lb_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(u64 *)ri->data = local_clock();
	return 0;
}

static int kmlb_lb_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	kmlb_sample(KMLB_S_LB, local_clock() - *(u64 *)ri->data);
	return 0;
}

static struct kretprobe kmlb_lb_probe = {
	.kp.symbol_name = "load_balance",
	.entry_handler = kmlb_lb_entry,
	.handler = kmlb_lb_return,
	.data_size = sizeof(u64),
	.maxactive = 64,
};
static bool kmlb_lb_registered;

/* ---- run-queue sampler ---- */

static void kmlb_sample_rqs(struct work_struct *work)
{
	unsigned int lo = UINT_MAX, hi = 0, total = 0, n;
	int cpu;

	for_each_online_cpu(cpu) {
		n = READ_ONCE(KMLB_AT(kmlb_cpu_rq(cpu), rq_nr_running, unsigned int));
		lo = min(lo, n);
		hi = max(hi, n);
		total += n;
	}
	if (hi >= lo) {
		atomic64_inc(&kmlb_hist_diff[min(hi - lo, KMLB_HIST_DIFF - 1U)]);
		atomic64_inc(&kmlb_hist_total[min(total, KMLB_HIST_TOTAL - 1U)]);
		atomic64_inc(&kmlb_hist_samples);
	}
	if (READ_ONCE(kmlb_sampling))
		schedule_delayed_work(&kmlb_sampler, msecs_to_jiffies(100));
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
MODULE_PARM_DESC(mode, "off, shadow or replace (writable at run time)");

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
	KMLB_SHOW(overrides_hard);
	KMLB_SHOW(fallbacks);
	KMLB_SHOW(teacher_mismatch);
	KMLB_SHOW(mode_switches);
	KMLB_SHOW(model_ns_sum);
	KMLB_SHOW(model_ns_count);
#undef KMLB_SHOW
	seq_printf(m, "cmt_nmissed %d\nlb_nmissed %d\n", kmlb_cmt_probe.nmissed,
		   kmlb_lb_probe.nmissed);
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
	int n = min(atomic_read(&kmlb_miss_n), KMLB_MISS), i;

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

static void kmlb_reset(void)
{
	atomic64_t *a = (atomic64_t *)&kmlb_c;
	size_t i;

	for (i = 0; i < sizeof(kmlb_c) / sizeof(atomic64_t); i++)
		if (&a[i] != &kmlb_c.mode_switches)
			atomic64_set(&a[i], 0);
	for (i = 0; i < KMLB_SERIES; i++)
		atomic_set(&kmlb_rings[i].n, 0);
	for (i = 0; i < KMLB_HIST_DIFF; i++)
		atomic64_set(&kmlb_hist_diff[i], 0);
	for (i = 0; i < KMLB_HIST_TOTAL; i++)
		atomic64_set(&kmlb_hist_total[i], 0);
	atomic64_set(&kmlb_hist_samples, 0);
	atomic_set(&kmlb_miss_n, 0);
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

static int kmlb_check_params(void)
{
	int err = 0, cpu;

#define KMLB_CHECK_SET(name, ...)					\
	if (name == KMLB_UNSET || name < 0) {				\
		pr_err("parameter " #name " missing (run kmlb_offsets)\n"); \
		err = -EINVAL;						\
	}
	KMLB_PRIVATE_FIELDS(KMLB_CHECK_SET)
	KMLB_HEADER_FIELDS(KMLB_CHECK_SET)
	KMLB_ENUMS(KMLB_CHECK_SET)
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
	    enum_cpu_idle != CPU_IDLE || enum_cpu_not_idle != CPU_NOT_IDLE ||
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
	if (err)
		return err;
	if (!sym_runqueues) {
		pr_err("symbol runqueues: no address given\n");
		return -EINVAL;
	}
	for_each_possible_cpu(cpu) {
		if (KMLB_AT(kmlb_cpu_rq(cpu), rq_cpu, int) != cpu) {
			pr_err("runqueues/rq.cpu do not match on CPU %d\n", cpu);
			return -EINVAL;
		}
	}
	return 0;
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
	debugfs_create_file("reset", 0200, kmlb_dir, NULL, &kmlb_reset_fops);

	err = probe_lb ? register_kretprobe(&kmlb_lb_probe) : -ENOENT;
	if (err)
		pr_warn("load_balance not probed (%d): no load_balance timing\n", err);
	kmlb_lb_registered = !err;
	err = register_kretprobe(&kmlb_cmt_probe);
	if (err) {
		pr_err("register_kretprobe(can_migrate_task): %d\n", err);
		if (kmlb_lb_registered)
			unregister_kretprobe(&kmlb_lb_probe);
		debugfs_remove_recursive(kmlb_dir);
		kmlb_free_rings();
		return err;
	}
	INIT_DELAYED_WORK(&kmlb_sampler, kmlb_sample_rqs);
	WRITE_ONCE(kmlb_sampling, true);
	schedule_delayed_work(&kmlb_sampler, msecs_to_jiffies(100));
	pr_info("loaded: mode %s, %d features, Q%d\n", kmlb_mode_names[READ_ONCE(kmlb_mode)],
		KMLB_NUM_FEATURES, KMLB_FRAC_BITS);
	return 0;
}

static void __exit kmlb_exit(void)
{
	WRITE_ONCE(kmlb_mode, KMLB_OFF);
	WRITE_ONCE(kmlb_sampling, false);
	cancel_delayed_work_sync(&kmlb_sampler);
	/* waits for running handlers; pending returns are dropped safely */
	unregister_kretprobe(&kmlb_cmt_probe);
	if (kmlb_lb_registered)
		unregister_kretprobe(&kmlb_lb_probe);
	debugfs_remove_recursive(kmlb_dir);
	kmlb_free_rings();
	pr_info("unloaded: %lld calls, %lld overrides, %lld hard overrides\n",
		atomic64_read(&kmlb_c.calls), atomic64_read(&kmlb_c.overrides),
		atomic64_read(&kmlb_c.overrides_hard));
}

module_init(kmlb_init);
module_exit(kmlb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmlb: a learnt can_migrate_task() decision, shadow or replace");
