/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmlb_offsets.h - what the module needs to know about the running kernel
 * that linux-headers do not say, shared by the module (kmlb_main.c) and the
 * guest helper that finds it in the kernel's BTF (guest/kmlb_offsets.c).
 *
 * struct lb_env, struct numa_group (kernel/sched/fair.c), struct rq,
 * struct cfs_rq, struct task_group (kernel/sched/sched.h) and struct kthread
 * (kernel/kthread.c) are private to the scheduler. Their member offsets
 * come from /sys/kernel/btf/vmlinux at insmod time, as module parameters;
 * the module refuses to load if one is missing. The helper also checks each
 * member's size against the size the module reads. The module validates the
 * offsets against live values whose meaning is known (kmlb_main.c,
 * kmlb_check_live() at load and kmlb_read_input() on every call); an
 * inconsistent value refuses the load, or leaves that call to the kernel.
 *
 * task_struct, sched_entity and sched_domain are in the headers the module
 * is built against; the helper reports their offsets too and the module
 * compares them with its own offsetof() (a wrong header fails the load).
 *
 * Enum values the module needs (BTF enumerators) and kernel symbols
 * (/proc/kallsyms, checked with sprint_symbol() in the module) follow.
 */
#ifndef KMLB_OFFSETS_H
#define KMLB_OFFSETS_H

/* X(param, struct, member, bytes): a private struct's member. */
#define KMLB_PRIVATE_FIELDS(X)                                  \
	X(lb_env_sd, "lb_env", "sd", 8)                         \
	X(lb_env_src_rq, "lb_env", "src_rq", 8)                 \
	X(lb_env_src_cpu, "lb_env", "src_cpu", 4)               \
	X(lb_env_dst_cpu, "lb_env", "dst_cpu", 4)               \
	X(lb_env_dst_rq, "lb_env", "dst_rq", 8)                 \
	X(lb_env_idle, "lb_env", "idle", 4)                     \
	X(lb_env_flags, "lb_env", "flags", 4)                   \
	X(lb_env_new_dst_cpu, "lb_env", "new_dst_cpu", 4)       \
	X(lb_env_dst_grpmask, "lb_env", "dst_grpmask", 8)       \
	X(lb_env_cpus, "lb_env", "cpus", 8)                     \
	X(rq_nr_running, "rq", "nr_running", 4)                 \
	X(rq_nr_preferred_running, "rq", "nr_preferred_running", 4) \
	X(rq_cpu, "rq", "cpu", 4)                               \
	X(rq_clock, "rq", "clock", 8)                           \
	X(rq_clock_task, "rq", "clock_task", 8)                 \
	X(rq_cfs, "rq", "cfs", 0)                               \
	X(cfs_rq_avg, "cfs_rq", "avg", 0)                       \
	X(cfs_rq_next, "cfs_rq", "next", 8)                     \
	X(cfs_rq_throttle_count, "cfs_rq", "throttle_count", 4) \
	X(cfs_rq_rq, "cfs_rq", "rq", 8)                         \
	X(task_group_cfs_rq, "task_group", "cfs_rq", 8)         \
	X(numa_group_total_faults, "numa_group", "total_faults", 8) \
	X(numa_group_faults, "numa_group", "faults", 0)         \
	X(kthread_flags, "kthread", "flags", 8)

/*
 * X(param, struct, member, bytes): a member some kernels have and others do
 * not (kmlb_version.h); -1 when the BTF has none. The module checks that
 * the BTF agrees with the headers it was built against.
 */
#define KMLB_OPTIONAL_FIELDS(X)                                 \
	X(cfs_rq_last, "cfs_rq", "last", 8)                     \
	X(lb_env_migration_type, "lb_env", "migration_type", 4) \
	X(rq_donor, "rq", "donor", 8)                           \
	X(cfs_rq_h_nr_queued, "cfs_rq", "h_nr_queued", 4)       \
	X(cfs_rq_sum_w_vruntime, "cfs_rq", "sum_w_vruntime", 8) \
	X(cfs_rq_sum_weight, "cfs_rq", "sum_weight", 8)         \
	X(cfs_rq_sum_shift, "cfs_rq", "sum_shift", 4)           \
	X(cfs_rq_zero_vruntime, "cfs_rq", "zero_vruntime", 8)   \
	X(cfs_rq_curr, "cfs_rq", "curr", 8)

/*
 * The members above after cfs_rq.last are read on 7.x only (KMLB_V7,
 * kmlb_version.h): env->migration_type, rq->donor (in a union with
 * rq->curr without proxy execution: the helper looks into anonymous
 * members), and the EEVDF state of task_is_ineligible_on_dst_cpu().
 */

/* X(param, struct): a private struct's size (the audit copies struct lb_env). */
#define KMLB_PRIVATE_SIZES(X)                                   \
	X(lb_env_size, "lb_env")

/*
 * X(param, struct, member): what a pointer member points to: 1 a struct, 0
 * a pointer. 7.x made task_group.cfs_rq a per-CPU pointer (tg_cfs_rq() is
 * per_cpu_ptr(tg->cfs_rq, cpu)) where 6.x has an array of pointers.
 */
#define KMLB_PRIVATE_KINDS(X)                                   \
	X(task_group_cfs_rq_percpu, "task_group", "cfs_rq")

/* X(param, struct, member): a header struct's member (cross-check). */
#define KMLB_HEADER_FIELDS(X)                                   \
	X(task_struct_se, "task_struct", "se")                  \
	X(task_struct_on_cpu, "task_struct", "on_cpu")          \
	X(task_struct_numa_preferred_nid, "task_struct", "numa_preferred_nid") \
	X(task_struct_numa_faults, "task_struct", "numa_faults") \
	X(task_struct_worker_private, "task_struct", "worker_private") \
	X(sched_entity_exec_start, "sched_entity", "exec_start") \
	X(sched_entity_cfs_rq, "sched_entity", "cfs_rq")        \
	X(sched_domain_flags, "sched_domain", "flags")          \
	X(sched_domain_nr_balance_failed, "sched_domain", "nr_balance_failed") \
	X(sched_avg_load_avg, "sched_avg", "load_avg")

/* X(param, enumerators): an enum value, under the first name the BTF has. */
#define KMLB_ENUMS(X)                                           \
	X(enum_kthread_is_per_cpu, "KTHREAD_IS_PER_CPU")        \
	X(enum_numa_direct, "NUMA_DIRECT")                      \
	X(enum_sd_numa, "SD_NUMA")                              \
	X(enum_sd_share_cpucapacity, "SD_SHARE_CPUCAPACITY")    \
	X(enum_cpu_idle, "CPU_IDLE")                            \
	X(enum_cpu_not_idle, "CPU_NOT_IDLE __CPU_NOT_IDLE")     \
	X(enum_cpu_newly_idle, "CPU_NEWLY_IDLE")

/* X(param, enumerator): an enum value some kernels have; -1 when absent. */
#define KMLB_OPTIONAL_ENUMS(X)                                  \
	X(enum_migrate_load, "migrate_load")                    \
	X(enum_sched_feat_place_lag, "__SCHED_FEAT_PLACE_LAG")

/* X(param, symbol): a kernel symbol's address. */
#define KMLB_SYMBOLS(X)                                         \
	X(sym_sysctl_sched_migration_cost, "sysctl_sched_migration_cost") \
	X(sym_sched_numa_balancing, "sched_numa_balancing")     \
	X(sym_cfs_bandwidth_used, "__cfs_bandwidth_used")       \
	X(sym_fair_sched_class, "fair_sched_class")             \
	X(sym_sched_numa_topology_type, "sched_numa_topology_type") \
	X(sym_runqueues, "runqueues")                           \
	X(sym_root_task_group, "root_task_group")               \
	X(sym_sched_schedstats, "sched_schedstats")

/* X(param, symbol): a symbol only some configurations have; 0 when absent. */
#define KMLB_OPTIONAL_SYMBOLS(X)                                \
	X(sym_sched_core_enabled, "__sched_core_enabled")       \
	X(sym_sched_feat_keys, "sched_feat_keys")

#endif /* KMLB_OFFSETS_H */
