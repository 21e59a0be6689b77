// The teacher: can_migrate_task() of a named kernel version, re-implemented
// over a recorded KernelState, with the branch that decided.
//
// Each version lives in its own file (teacher_v<version>.cc) that opens with
// the kernel source lines it mirrors. They read only KernelState fields;
// the redundant A1 columns (same_node, prefer_*, buddy_hot, ...) are never
// used, so a row's label follows from kmlb's exact inputs alone.
#pragma once

#include "kernel_state.h"
#include "kernel_version.h"
#include "reason.h"

namespace kmlb {

struct Decision {
	bool migrate = false;
	Reason reason = Reason::kCacheCold;

	bool operator==(const Decision &) const = default;
};

Decision can_migrate_task(const KernelState &s, KernelVersion version);

Decision can_migrate_task_v4_15(const KernelState &s);
Decision can_migrate_task_v5_15(const KernelState &s);
Decision can_migrate_task_v6_6(const KernelState &s);
Decision can_migrate_task_v6_18(const KernelState &s);

// True when every hard check of `version` passed and the task was not
// forced by active balance: the part of the decision a model may replace.
bool decided_by_heuristic(Decision d);

}  // namespace kmlb
