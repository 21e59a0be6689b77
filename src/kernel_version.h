// The kernel versions whose can_migrate_task() kmlb re-implements. Other
// release names are accepted where the decision is identical (the table in
// docs and README says which), anything else is refused.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace kmlb {

enum class KernelVersion { k4_15, k5_15, k6_6, k6_18 };

struct KernelVersionName {
	std::string_view name;
	KernelVersion version;
	std::string_view note;
};

// Every accepted name, canonical ones first.
std::span<const KernelVersionName> kernel_version_names();
std::string_view canonical_name(KernelVersion v);
// Throws Error(kUsage): "unknown kernel version 'X' (supported: ...)".
KernelVersion parse_kernel_version(std::string_view name);

}  // namespace kmlb
