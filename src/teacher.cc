#include "teacher.h"

namespace kmlb {

Decision can_migrate_task(const KernelState &s, KernelVersion version)
{
	switch (version) {
	case KernelVersion::k4_15:
		return can_migrate_task_v4_15(s);
	case KernelVersion::k5_15:
		return can_migrate_task_v5_15(s);
	case KernelVersion::k6_6:
		return can_migrate_task_v6_6(s);
	case KernelVersion::k6_18:
		return can_migrate_task_v6_18(s);
	}
	return can_migrate_task_v5_15(s);
}

bool decided_by_heuristic(Decision d)
{
	return !reason_info(d.reason).hard_check && d.reason != Reason::kActiveBalance;
}

}  // namespace kmlb
