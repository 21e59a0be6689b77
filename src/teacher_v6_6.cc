// can_migrate_task() of Linux 6.6, kernel/sched/fair.c; the decision is
// unchanged in 6.12 (p->sched_task_hot, statistics moved to detach_task(),
// enum cpu_idle_type renumbered: none of it changes the result).
//   task_hot()                    LINES_6_6_TASK_HOT
//   migrate_degrades_locality()   LINES_6_6_MDL
//   can_migrate_task()            LINES_6_6_CMT
//
// The only change from 5.15: EEVDF removed cfs_rq->last, so only the next
// buddy counts as cache hot. task_running() became task_on_cpu().
#include "teacher.h"
#include "teacher_internal.h"

namespace kmlb {

Decision can_migrate_task_v6_6(const KernelState &s)
{
	return detail::can_migrate_task_since_5_15(s, detail::Buddies::kNextOnly);
}

}  // namespace kmlb
