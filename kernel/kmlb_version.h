/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmlb_version.h - what differs, for the module, between the kernels it is
 * built for: Debian's 6.1 (bookworm) and 6.12 (bookworm-backports). The
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
 * From 6.14 can_migrate_task() changed (delayed dequeue, EEVDF eligibility,
 * blocked-on-mutex donors, a signed NUMA score): not modelled here, so
 * such kernels are refused at build time.
 */
#ifndef KMLB_VERSION_H
#define KMLB_VERSION_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "kmlb: can_migrate_task() of this kernel is not modelled (6.1 to 6.12 only)"
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
