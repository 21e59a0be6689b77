// can_migrate_task() of Linux 6.6; the decision is unchanged in 6.12
// (p->sched_task_hot, statistics moved to detach_task(), enum cpu_idle_type
// renumbered: none of it changes the result; checked against v6.12's source).
// Mirrors kernel/sched/fair.c of v6.6: can_migrate_task() as 5.15's
// (teacher_v5_15.cc), task_hot() with the buddy test
//     if (sched_feat(CACHE_HOT_BUDDY) && env->dst_rq->nr_running &&
//         (&p->se == cfs_rq_of(&p->se)->next))
//             return 1;
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
