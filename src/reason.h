// Why can_migrate_task() decided what it did: one code per branch of the
// function and of the helpers it calls (task_hot, migrate_degrades_locality),
// across every supported kernel version.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kmlb {

enum class Reason : uint8_t {
	// Hard checks: the task may not move, whatever the heuristic says.
	kDelayedDequeue,
	kThrottled,
	kIneligible,
	kPerCpuKthread,
	kBlockedOnMutex,
	kAffinity,
	kRunning,
	// Forced migration.
	kActiveBalance,
	// migrate_degrades_locality() decided.
	kNumaLeavesPreferred,
	kNumaToPreferred,
	kNumaWeightDegrades,
	kNumaWeightImproves,
	// task_hot() decided.
	kNotFairClass,
	kIdlePolicy,
	kSmtSiblings,
	kBuddyHot,
	kAlwaysHot,
	kCookieMismatch,
	kNeverHot,
	kCacheHot,
	kCacheCold,
	// The task was hot, but balancing failed often enough to move it anyway.
	kTooManyFailures,
	kCount
};

inline constexpr int kReasonCount = static_cast<int>(Reason::kCount);

struct ReasonInfo {
	std::string_view name;         // stable snake_case code used in files
	std::string_view description;  // one line for humans
	bool hard_check;               // a refusal the model may never override
};

const ReasonInfo &reason_info(Reason r);
inline std::string_view reason_name(Reason r) { return reason_info(r).name; }
std::optional<Reason> parse_reason(std::string_view name);

}  // namespace kmlb
