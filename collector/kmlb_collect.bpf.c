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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* the loader may change it */
} rb SEC(".maps");

static __always_inline void count(int stat)
{
	__sync_fetch_and_add(&stats[stat], 1);
}

static __always_inline int node_of(int cpu)
{
	if (cpu < 0 || cpu >= KMLB_MAX_CPUS)
		return -1;
	return cpu_node[cpu];
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

	/* throttled_lb_pair(task_group(p), src_cpu, dst_cpu) */
	r->throttled = cpu_throttled(BPF_CORE_READ(p, sched_task_group), src_cpu) ||
		       cpu_throttled(BPF_CORE_READ(p, sched_task_group), dst_cpu);
	r->per_cpu_kthread = per_cpu_kthread(p);
	r->dst_allowed = cpu_allowed(p, dst_cpu);
	r->p_running = BPF_CORE_READ(p, on_cpu) != 0;
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
	if (bpf_core_field_exists(((struct task_struct___new *)0)->blocked_on))
		r->blocked_on_mutex = BPF_CORE_READ((struct task_struct___new *)p,
						    blocked_on) != NULL;
	if (bpf_core_field_exists(((struct rq___new *)0)->donor))
		r->current_donor = BPF_CORE_READ((struct rq___new *)src_rq, donor) ==
				   (void *)p;
	/* ineligible_on_dst (6.14+), pc_0, pc_1: not recorded, stay 0. */
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
