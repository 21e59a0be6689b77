// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_collect.bpf.c - record every call of can_migrate_task(p, env).
 *
 * fentry snapshots every input of the decision into a per-CPU slot, fexit adds
 * the return value and sends the record to user space through a ring buffer.
 * can_migrate_task() runs with the busiest runqueue's lock held and interrupts
 * off, so the two halves of one call always run back to back on one CPU. The
 * function itself changes env->flags (the *_PINNED bits) and env->new_dst_cpu,
 * which is why the inputs are read at entry and not at exit.
 *
 * Everything is read through CO-RE relocations, so one object built against
 * any vmlinux.h loads on 6.1 as well as on newer kernels; fields of later
 * kernels are read only where bpf_core_field_exists() says they exist.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kmlb_collect.h"
#include "kmlb_mul128.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings from the loader, fixed before load. */
const volatile int cpu_node[KMLB_MAX_CPUS];	  /* cpu_to_node() of each CPU */
const volatile long long migration_cost_ns = 500000; /* sysctl value */
const volatile int numa_balancing_on;		  /* kernel.numa_balancing != 0 */
const volatile int sd_numa_flag;		  /* SD_NUMA, from the target BTF */
const volatile int sd_share_cpucapacity_flag;	  /* SD_SHARE_CPUCAPACITY */
const volatile unsigned int lbf_active_lb = 0x10; /* #define in fair.c, not in BTF */

/* Counters, see enum kmlb_stat. */
__u64 stats[KMLB_NR_STATS];

#define PF_KTHREAD 0x00200000
#define SCHED_IDLE 5

/* Kernel symbols resolved by libbpf from /proc/kallsyms. */
extern const void fair_sched_class __ksym __weak;
/* sched_proxy_exec() (CONFIG_SCHED_PROXY_EXEC, 6.18+): absent -> off. */
extern struct static_key_true __sched_proxy_exec __ksym __weak;

/*
 * Integer fields whose width differs between kernels (p->on_cpu is an int
 * until 7.1 and a u8 in 7.3, se->on_rq an unsigned int on 6.1 and a char
 * from 6.6): read with the target's byte size and sign, not the size of
 * the vmlinux.h the object was built against. A plain BPF_CORE_READ() of
 * p->on_cpu on 7.3 reads on_rq with it and returns non-zero for every
 * queued task.
 */
#define READ_INT(s, field) ((long long)BPF_CORE_READ_BITFIELD_PROBED(s, field))

/* Names that differ between kernel versions (CO-RE flavours). */
enum cpu_idle_type___old {
	CPU_NOT_IDLE___old = 1,	/* before 6.12 */
};

enum cpu_idle_type___new {
	__CPU_NOT_IDLE___new = 0, /* from 6.12 */
};

struct cfs_rq___old {
	struct sched_entity *last; /* gone with EEVDF (6.6) */
};

struct sched_entity___new {
	unsigned char sched_delayed; /* 6.12 */
};

struct task_struct___new {
	struct mutex *blocked_on; /* proxy execution (6.18) */
	struct list_head throttle_node; /* task-based throttling (6.18) */
};

/* EEVDF eligibility inputs (field names of 7.0+, see ineligible_on_dst()). */
struct cfs_rq___eevdf {
	unsigned int nr_queued;
	unsigned int h_nr_queued;
	long long sum_w_vruntime;
	unsigned long long sum_weight;
	unsigned long long zero_vruntime;
	unsigned int sum_shift;
	struct sched_entity *curr;
};

struct sched_entity___eevdf {
	struct load_weight load;
	struct load_weight h_load; /* single EEVDF runqueue (7.3) */
	unsigned long long vruntime;
	unsigned char on_rq;
};

struct rq___new {
	struct task_struct *donor; /* proxy execution (6.18) */
};

struct rq___core {
	struct rq___core *core;
	unsigned int core_enabled;
	unsigned long core_cookie;
};

struct task_struct___core {
	unsigned long core_cookie;
};

struct slot {
	const void *p;
	const void *env;
	struct kmlb_rec rec;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

/*
 * Per-CPU counters for pc_0 and pc_1, opened by the loader (hardware cycles
 * and instructions where the CPU has a PMU, else software events; the
 * loader names them). Empty slots read as an error and leave the column 0.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 1); /* the loader sets the number of CPUs */
} pc0_events SEC(".maps"), pc1_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* the loader may change it */
} rb SEC(".maps");

static __always_inline void count(int stat)
{
	__sync_fetch_and_add(&stats[stat], 1);
}

/* This CPU's counter value in a perf event array, 0 if it has none. */
static __always_inline long long counter(void *events)
{
	struct bpf_perf_event_value v = {};

	if (bpf_perf_event_read_value(events, BPF_F_CURRENT_CPU, &v, sizeof(v)))
		return 0;
	return v.counter;
}

static __always_inline int node_of(int cpu)
{
	unsigned int c = cpu;

	if (c >= KMLB_MAX_CPUS)
		return -1;
	/* the mask keeps the bound visible to every verifier (7.3's lost it) */
	return cpu_node[c & (KMLB_MAX_CPUS - 1)];
}

/* a[2 * nid] + a[2 * nid + 1]: task_faults_idx(NUMA_MEM, nid, 0/1). */
static __always_inline long long faults_at(const unsigned long *a, int nid)
{
	unsigned long v[2] = {};

	if (!a || nid < 0 || nid >= KMLB_MAX_CPUS)
		return 0;
	bpf_probe_read_kernel(v, sizeof(v), a + 2 * nid);
	return v[0] + v[1];
}

/* tg->cfs_rq[cpu]->throttle_count != 0, i.e. throttled_hierarchy(). */
static __always_inline int cpu_throttled(struct task_group *tg, int cpu)
{
	struct cfs_rq **cfs_rqs, *cfs_rq = NULL;

	if (!tg || cpu < 0 || cpu >= KMLB_MAX_CPUS)
		return 0;
	cfs_rqs = BPF_CORE_READ(tg, cfs_rq);
	if (!cfs_rqs)
		return 0;
	bpf_probe_read_kernel(&cfs_rq, sizeof(cfs_rq), cfs_rqs + cpu);
	if (!cfs_rq)
		return 0;
	return BPF_CORE_READ(cfs_rq, throttle_count) != 0;
}

static __always_inline int per_cpu_kthread(struct task_struct *p)
{
	struct kthread *k;
	unsigned long kflags;
	int bit;

	if (!(BPF_CORE_READ(p, flags) & PF_KTHREAD))
		return 0;
	if (!bpf_core_field_exists(p->worker_private))
		return BPF_CORE_READ(p, nr_cpus_allowed) == 1; /* < 5.17 */
	k = BPF_CORE_READ(p, worker_private);
	if (!k)
		return 0;
	kflags = BPF_CORE_READ(k, flags);
	bit = bpf_core_enum_value(enum KTHREAD_BITS, KTHREAD_IS_PER_CPU);
	return (kflags >> bit) & 1;
}

static __always_inline int cpu_allowed(struct task_struct *p, int cpu)
{
	const unsigned long *bits;
	unsigned long word = 0;

	if (cpu < 0 || cpu >= KMLB_MAX_CPUS)
		return 0;
	bits = (const unsigned long *)BPF_CORE_READ(p, cpus_ptr);
	if (!bits)
		return 0;
	bpf_probe_read_kernel(&word, sizeof(word), bits + (unsigned int)cpu / 64);
	return (word >> ((unsigned int)cpu % 64)) & 1;
}

static __always_inline int cookie_match(struct rq *dst_rq, struct task_struct *p)
{
	struct rq___core *rq = (void *)dst_rq, *core;
	struct task_struct___core *t = (void *)p;

	if (!bpf_core_field_exists(rq->core_enabled))
		return 1; /* no core scheduling in this kernel */
	core = BPF_CORE_READ(rq, core);
	if (!core || !BPF_CORE_READ(core, core_enabled))
		return 1;
	/* Approximation: ignores the "whole SMT core idle" exception. */
	return BPF_CORE_READ(core, core_cookie) == BPF_CORE_READ(t, core_cookie);
}

/*
 * task_is_ineligible_on_dst_cpu(p, dst_cpu) (6.14+):
 *   sched_feat(PLACE_LAG) && dst_cfs_rq->nr_queued &&
 *   !entity_eligible(task_cfs_rq(p), &p->se)
 * with vruntime_eligible() of 7.0/7.1 (sum_w_vruntime, sum_weight,
 * zero_vruntime, weights shifted by sum_shift):
 *   avg = sum_w_vruntime; load = sum_weight;
 *   if (curr && curr->on_rq) { w = weight(curr); avg += key(curr) * w; load += w; }
 *   return avg >= (vruntime - zero_vruntime) * load;   (128-bit product)
 * Until 7.1 dst_cfs_rq is task_group(p)->cfs_rq[dst_cpu], the task's own
 * cfs_rq is se->cfs_rq and the weight se->load.weight. With the single
 * EEVDF runqueue (7.3, se->h_load present) both are the CPUs' root cfs_rq,
 * the count h_nr_queued and the weight se->h_load.weight. Kernels without
 * sum_w_vruntime (6.12 and older, whose can_migrate_task() has no such
 * test) record 0. PLACE_LAG is a default-on feature; the guest logs the
 * feature list (logs/guest.env) so a run with it off can be told apart.
 */
static __always_inline long long eevdf_weight(void *se, int flat, unsigned int shift)
{
	struct sched_entity___eevdf *e = se;
	unsigned long long w = flat ? BPF_CORE_READ(e, h_load.weight) :
				      BPF_CORE_READ(e, load.weight);

	if (shift) {
		w >>= shift;
		if (w < 2)
			w = 2;
	}
	return w;
}

static __always_inline int ineligible_on_dst(struct task_struct *p, struct rq *src_rq,
					     struct rq *dst_rq, int dst_cpu)
{
	struct cfs_rq___eevdf *cfs, *dst;
	struct sched_entity___eevdf *curr, *se = (void *)&p->se;
	long long avg, load, w, key;
	unsigned long long zero;
	unsigned int shift = 0;
	int flat, queued;

	if (!bpf_core_field_exists(((struct cfs_rq___eevdf *)0)->sum_w_vruntime))
		return 0;
	flat = bpf_core_field_exists(((struct sched_entity___eevdf *)0)->h_load);
	if (flat) {
		dst = (void *)&dst_rq->cfs;
		cfs = (void *)&src_rq->cfs; /* task_rq(p) is the source rq */
		queued = BPF_CORE_READ(dst, h_nr_queued) != 0;
	} else {
		struct task_group *tg = BPF_CORE_READ(p, sched_task_group);
		struct cfs_rq **cfs_rqs = tg ? BPF_CORE_READ(tg, cfs_rq) : NULL;
		struct cfs_rq *d = NULL;

		if (cfs_rqs && dst_cpu >= 0 && dst_cpu < KMLB_MAX_CPUS)
			bpf_probe_read_kernel(&d, sizeof(d), cfs_rqs + dst_cpu);
		else
			d = &dst_rq->cfs;
		if (!d)
			return 0;
		dst = (void *)d;
		cfs = (void *)BPF_CORE_READ(p, se.cfs_rq);
		queued = BPF_CORE_READ(dst, nr_queued) != 0;
	}
	if (!queued || !cfs)
		return 0;
	if (bpf_core_field_exists(cfs->sum_shift))
		shift = BPF_CORE_READ(cfs, sum_shift);
	zero = BPF_CORE_READ(cfs, zero_vruntime);
	avg = BPF_CORE_READ(cfs, sum_w_vruntime);
	load = BPF_CORE_READ(cfs, sum_weight);
	curr = (void *)BPF_CORE_READ(cfs, curr);
	if (curr && READ_INT(curr, on_rq)) {
		w = eevdf_weight(curr, flat, shift);
		avg += (long long)(BPF_CORE_READ(curr, vruntime) - zero) * w;
		load += w;
	}
	key = (long long)(BPF_CORE_READ(se, vruntime) - zero);
	return !kmlb_ge_mul128(avg, key, load);
}

static __always_inline void fill(struct kmlb_rec *r, struct task_struct *p,
				 struct lb_env *env)
{
	struct rq *src_rq = BPF_CORE_READ(env, src_rq);
	struct rq *dst_rq = BPF_CORE_READ(env, dst_rq);
	struct sched_domain *sd = BPF_CORE_READ(env, sd);
	struct cfs_rq *cfs_rq = BPF_CORE_READ(p, se.cfs_rq);
	struct numa_group *ng = BPF_CORE_READ(p, numa_group);
	const unsigned long *nf = BPF_CORE_READ(p, numa_faults);
	const void *se = &p->se;
	int idle = BPF_CORE_READ(env, idle);
	int not_idle, sd_flags, src_cpu, dst_cpu;

	r->ts = bpf_ktime_get_ns();
	r->curr_pid = BPF_CORE_READ(src_rq, curr, pid);
	r->pid = BPF_CORE_READ(p, pid);
	src_cpu = BPF_CORE_READ(env, src_cpu);
	dst_cpu = BPF_CORE_READ(env, dst_cpu);
	r->src_cpu = src_cpu;
	r->dst_cpu = dst_cpu;
	r->imbalance = BPF_CORE_READ(env, imbalance);
	r->src_len = BPF_CORE_READ(src_rq, nr_running);
	r->src_numa_len = BPF_CORE_READ(src_rq, nr_numa_running);
	r->src_preferred_len = BPF_CORE_READ(src_rq, nr_preferred_running);
	r->delta = (long long)BPF_CORE_READ(src_rq, clock_task) -
		   (long long)BPF_CORE_READ(p, se.exec_start);

	if (bpf_core_enum_value_exists(enum cpu_idle_type___new, __CPU_NOT_IDLE___new))
		not_idle = bpf_core_enum_value(enum cpu_idle_type___new, __CPU_NOT_IDLE___new);
	else
		not_idle = bpf_core_enum_value(enum cpu_idle_type___old, CPU_NOT_IDLE___old);
	r->cpu_idle = idle == bpf_core_enum_value(enum cpu_idle_type, CPU_IDLE);
	r->cpu_not_idle = idle == not_idle;
	r->cpu_newly_idle = idle == bpf_core_enum_value(enum cpu_idle_type, CPU_NEWLY_IDLE);

	r->src_nid = node_of(src_cpu);
	r->dst_nid = node_of(dst_cpu);
	r->preferred_nid = BPF_CORE_READ(p, numa_preferred_nid);
	r->same_node = r->src_nid == r->dst_nid;
	r->prefer_src = r->src_nid == r->preferred_nid;
	r->prefer_dst = r->dst_nid == r->preferred_nid;
	r->has_numa_faults = nf != NULL;
	r->src_faults = faults_at(nf, r->src_nid);
	r->dst_faults = faults_at(nf, r->dst_nid);
	r->delta_faults = r->dst_faults - r->src_faults;
	r->total_faults = BPF_CORE_READ(p, total_numa_faults);
	r->numa_group = ng != NULL;
	if (ng) {
		const unsigned long *gf = (const void *)ng +
			bpf_core_field_offset(struct numa_group, faults);

		r->group_src_faults = faults_at(gf, r->src_nid);
		r->group_dst_faults = faults_at(gf, r->dst_nid);
		r->group_total_faults = BPF_CORE_READ(ng, total_faults);
	}

	r->dst_len = BPF_CORE_READ(dst_rq, nr_running);
	r->src_load = BPF_CORE_READ(src_rq, cfs.avg.load_avg);
	r->dst_load = BPF_CORE_READ(dst_rq, cfs.avg.load_avg);
	r->nr_fails = BPF_CORE_READ(sd, nr_balance_failed);
	r->cache_nice_tries = BPF_CORE_READ(sd, cache_nice_tries);
	sd_flags = BPF_CORE_READ(sd, flags);
	r->sd_numa = (sd_flags & sd_numa_flag) != 0;
	r->sd_share_cpucapacity = (sd_flags & sd_share_cpucapacity_flag) != 0;

	r->next_buddy = BPF_CORE_READ(cfs_rq, next) == se;
	if (bpf_core_field_exists(((struct cfs_rq___old *)0)->last))
		r->last_buddy = BPF_CORE_READ((struct cfs_rq___old *)cfs_rq, last) == se;
	r->buddy_hot = r->next_buddy || r->last_buddy;

	/*
	 * throttled_lb_pair(task_group(p), src_cpu, dst_cpu) until task-based
	 * throttling (6.18), lb_throttled_hierarchy(p, dst_cpu) from then on.
	 */
	if (bpf_core_field_exists(((struct task_struct___new *)0)->throttle_node))
		r->throttled = cpu_throttled(BPF_CORE_READ(p, sched_task_group), dst_cpu);
	else
		r->throttled = cpu_throttled(BPF_CORE_READ(p, sched_task_group), src_cpu) ||
			       cpu_throttled(BPF_CORE_READ(p, sched_task_group), dst_cpu);
	r->per_cpu_kthread = per_cpu_kthread(p);
	r->dst_allowed = cpu_allowed(p, dst_cpu);
	/* task_on_cpu(src_rq, p): p->on_cpu (an int until 7.1, a u8 in 7.3) */
	r->p_running = READ_INT(p, on_cpu) != 0;
	r->test_aggressive = !r->throttled && !r->per_cpu_kthread &&
			     r->dst_allowed && !r->p_running;
	r->can_migrate = -1;
	r->active_lb = (BPF_CORE_READ(env, flags) & lbf_active_lb) != 0;
	r->numa_balancing = numa_balancing_on;
	r->migration_cost_ns = migration_cost_ns;
	if (&fair_sched_class)
		r->fair_class = BPF_CORE_READ(p, sched_class) == &fair_sched_class;
	else
		r->fair_class = -1;
	r->idle_policy = BPF_CORE_READ(p, policy) == SCHED_IDLE;
	r->cookie_match = cookie_match(dst_rq, p);
	r->migration_type = BPF_CORE_READ(env, migration_type);

	if (bpf_core_field_exists(((struct sched_entity___new *)0)->sched_delayed))
		r->sched_delayed = BPF_CORE_READ((struct sched_entity___new *)se,
						 sched_delayed);
	/* task_is_blocked(p): sched_proxy_exec() && p->blocked_on */
	if (bpf_core_field_exists(((struct task_struct___new *)0)->blocked_on) &&
	    &__sched_proxy_exec &&
	    BPF_CORE_READ(&__sched_proxy_exec, key.enabled.counter) > 0)
		r->blocked_on_mutex = BPF_CORE_READ((struct task_struct___new *)p,
						    blocked_on) != NULL;
	/* task_current_donor(src_rq, p); without proxy execution donor is curr */
	if (bpf_core_field_exists(((struct rq___new *)0)->donor))
		r->current_donor = BPF_CORE_READ((struct rq___new *)src_rq, donor) ==
				   (void *)p;
	r->ineligible_on_dst = ineligible_on_dst(p, src_rq, dst_rq, dst_cpu);
	r->pc_0 = counter(&pc0_events);
	r->pc_1 = counter(&pc1_events);
}

SEC("fentry/can_migrate_task")
int BPF_PROG(kmlb_enter, struct task_struct *p, struct lb_env *env)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);

	count(KMLB_STAT_ENTRY);
	if (!s)
		return 0;
	__builtin_memset(&s->rec, 0, sizeof(s->rec));
	s->p = p;
	s->env = env;
	fill(&s->rec, p, env);
	return 0;
}

SEC("fexit/can_migrate_task")
int BPF_PROG(kmlb_exit, struct task_struct *p, struct lb_env *env, int ret)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &zero);

	count(KMLB_STAT_EXIT);
	if (!s || s->p != p || s->env != env) {
		count(KMLB_STAT_UNPAIRED);
		return 0;
	}
	s->p = NULL;
	s->rec.can_migrate = ret;
	if (ret)
		count(KMLB_STAT_MIGRATE);
	if (bpf_ringbuf_output(&rb, &s->rec, sizeof(s->rec), 0))
		count(KMLB_STAT_DROPPED);
	else
		count(KMLB_STAT_SUBMITTED);
	return 0;
}
