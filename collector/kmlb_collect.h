/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kmlb_collect.h - the one record both sides of the collector share.
 *
 * One record per call of can_migrate_task(p, env). The column list below is
 * the single source of the raw trace schema on the C side: the BPF program
 * fills the struct it generates, the loader prints the CSV header and rows
 * from the same list. It must match docs/raw-schema.md (57 integer columns,
 * in this order).
 */
#ifndef __KMLB_COLLECT_H
#define __KMLB_COLLECT_H

#define KMLB_RAW_COLUMNS(X)						\
	X(ts) X(curr_pid) X(pid) X(src_cpu) X(dst_cpu) X(imbalance)	\
	X(src_len) X(src_numa_len) X(src_preferred_len) X(delta)	\
	X(cpu_idle) X(cpu_not_idle) X(cpu_newly_idle) X(same_node)	\
	X(prefer_src) X(prefer_dst) X(delta_faults) X(total_faults)	\
	X(dst_len) X(src_load) X(dst_load) X(nr_fails)			\
	X(cache_nice_tries) X(buddy_hot) X(throttled) X(p_running)	\
	X(test_aggressive) X(can_migrate) X(pc_0) X(pc_1)		\
	X(per_cpu_kthread) X(dst_allowed) X(active_lb) X(sd_numa)	\
	X(sd_share_cpucapacity) X(numa_balancing) X(src_nid) X(dst_nid)	\
	X(preferred_nid) X(has_numa_faults) X(src_faults) X(dst_faults)	\
	X(numa_group) X(group_src_faults) X(group_dst_faults)		\
	X(group_total_faults) X(next_buddy) X(last_buddy)		\
	X(migration_cost_ns) X(fair_class) X(idle_policy)		\
	X(cookie_match) X(sched_delayed) X(migration_type)		\
	X(ineligible_on_dst) X(blocked_on_mutex) X(current_donor)

#define KMLB_NR_COLUMNS 57

/* Every column is a signed 64-bit integer: the record is 57 * 8 bytes. */
struct kmlb_rec {
#define KMLB_FIELD(name) long long name;
	KMLB_RAW_COLUMNS(KMLB_FIELD)
#undef KMLB_FIELD
};

/* Size of the loader's cpu -> node map (a power of two: the BPF side masks with it). */
#define KMLB_MAX_CPUS 1024

/* Counters kept by the BPF side (index into the stats array). */
enum kmlb_stat {
	KMLB_STAT_ENTRY,	/* fentry runs */
	KMLB_STAT_EXIT,		/* fexit runs */
	KMLB_STAT_SUBMITTED,	/* records written to the ring buffer */
	KMLB_STAT_DROPPED,	/* ring buffer full: record lost */
	KMLB_STAT_UNPAIRED,	/* fexit without a matching fentry snapshot */
	KMLB_STAT_MIGRATE,	/* records with can_migrate == 1 */
	KMLB_NR_STATS,
};

#endif /* __KMLB_COLLECT_H */
