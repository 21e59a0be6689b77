/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmlb_version.h - what differs, for the module, between the kernels it is
 * built for: Debian's 6.1 (bookworm), 6.12 (bookworm-backports) and 7.3
 * (trixie-backports, built in a trixie root: vm/lib.sh trixie_root). The
 * module is always built against the headers of the kernel it runs on, so
 * each difference is decided at compile time.
 *
 *   last buddy        6.6 (EEVDF) removed cfs_rq->last: only the next buddy
 *                     is cache hot; the module reads last_buddy = 0 there,
 *                     which makes kmlb_decide() 6.6-6.12's decision
 *   idle enum         6.10 renamed CPU_NOT_IDLE to __CPU_NOT_IDLE and
 *                     renumbered enum cpu_idle_type (0 is not idle now)
 *   sched_task_hot    "sched/fair: Fix value reported by hot tasks pulled in
 *                     /proc/schedstat" (6.13, backported to the stable lines
 *                     Debian ships: 6.1.1xx and 6.12.x): can_migrate_task()
 *                     clears p->sched_task_hot at entry and sets it on a
 *                     forced hot migration; detach_task() counts
 *                     lb_hot_gained and nr_forced_migrations, no longer
 *                     can_migrate_task(). Kbuild finds the field in the
 *                     headers (KMLB_HAS_SCHED_TASK_HOT), not the version
 *   core scheduling   with CONFIG_SCHED_CORE, task_hot() asks
 *                     sched_core_cookie_match(), which is true while core
 *                     scheduling is not enabled; the module then reads the
 *                     __sched_core_enabled key and leaves the call to the
 *                     kernel when it is on (KMLB_HAS_SCHED_CORE). Debian's
 *                     6.1 and 6.12 configs leave it off
 *
 *   7.x (KMLB_V7)     6.18's can_migrate_task(), kept by 7.1 and 7.3
 *                     (src/teacher_v6_18.cc, kmlb_input.h): delayed
 *                     dequeue, the destination-only throttle test
 *                     (lb_throttled_hierarchy), EEVDF eligibility on the
 *                     destination, blocked on a mutex, the donor counted as
 *                     running, a signed NUMA score. The eligibility test is
 *                     read as 7.3's single EEVDF runqueue has it (the CPUs'
 *                     root cfs_rq, se->h_load; Kbuild finds h_load in the
 *                     headers: KMLB_HAS_SE_H_LOAD): kernels of 6.18 to 7.2,
 *                     whose EEVDF state sits in the task groups' cfs_rqs,
 *                     are refused. So is CONFIG_SCHED_PROXY_EXEC (Debian's
 *                     7.3 has none: task_is_blocked() is false and the
 *                     donor is rq->curr), which the module does not read.
 *
 * 6.13 to 6.17 (a decision between 6.12's and 6.18's) and 7.4 on are
 * refused at build time.
 */
#ifndef KMLB_VERSION_H
#define KMLB_VERSION_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || LINUX_VERSION_CODE >= KERNEL_VERSION(7, 4, 0) || \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0))
#error "kmlb: can_migrate_task() of this kernel is not modelled (6.1 to 6.12, and 7.3)"
#endif

#ifndef KMLB_HAS_SE_H_LOAD
#define KMLB_HAS_SE_H_LOAD 0
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
#define KMLB_V7 1
#if !KMLB_HAS_SE_H_LOAD
#error "kmlb: 6.18 to 7.2 (EEVDF state in the task groups' cfs_rqs) are not modelled: 7.3's single runqueue only"
#endif
#ifdef CONFIG_SCHED_PROXY_EXEC
#error "kmlb: proxy execution (task_is_blocked, a donor other than curr) is not modelled"
#endif
#ifndef CONFIG_JUMP_LABEL
#error "kmlb: sched_feat(PLACE_LAG) is read from sched_feat_keys (CONFIG_JUMP_LABEL)"
#endif
#else
#define KMLB_V7 0
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define KMLB_HAS_LAST_BUDDY 0
#else
#define KMLB_HAS_LAST_BUDDY 1
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define KMLB_CPU_NOT_IDLE __CPU_NOT_IDLE
#else
#define KMLB_CPU_NOT_IDLE CPU_NOT_IDLE
#endif

#ifdef CONFIG_SCHED_CORE
#define KMLB_HAS_SCHED_CORE 1
#else
#define KMLB_HAS_SCHED_CORE 0
#endif

#ifndef KMLB_HAS_SCHED_TASK_HOT
#define KMLB_HAS_SCHED_TASK_HOT 0
#endif

#endif /* KMLB_VERSION_H */
