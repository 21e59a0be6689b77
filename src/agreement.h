// The teacher over a whole trace: its decision per row, and how often it
// reproduces the return value the kernel recorded.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "kernel_version.h"
#include "raw_schema.h"
#include "teacher.h"

namespace kmlb {

struct Agreement {
	size_t rows = 0;
	size_t migrate = 0;             // the teacher says 1
	size_t recorded = 0;            // rows with can_migrate 0 or 1
	size_t agree = 0, disagree = 0;  // among recorded rows
	// Rows past the hard checks (what `kmlb prep` keeps) and agreement there.
	size_t kept = 0, kept_agree = 0;
	std::array<uint64_t, kReasonCount> by_reason{};
	std::array<uint64_t, kReasonCount> disagree_by_reason{};

	double agreement() const { return recorded ? static_cast<double>(agree) / recorded : 1.0; }
	nlohmann::json to_json() const;
};

// Runs the teacher on every row; `decisions` (optional) receives them.
// Needs the full schema: Error(kBadData) for an A1-only trace.
Agreement compare_with_teacher(const RawTrace &trace, KernelVersion version,
			       std::vector<Decision> *decisions = nullptr);

}  // namespace kmlb
