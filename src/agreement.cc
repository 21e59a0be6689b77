#include "agreement.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "prep.h"

namespace kmlb {

Agreement compare_with_teacher(const RawTrace &trace, KernelVersion version, std::vector<Decision> *decisions)
{
	if (!trace.full_schema)
		throw Error(ExitCode::kBadData,
			    fmt::format("{}: the teacher needs kmlb's full raw schema; this file has only the "
					"report's A1 columns (no node ids, faults, buddies, domain flags)",
					trace.file));
	Agreement a;
	if (decisions)
		decisions->reserve(trace.rows.size());
	for (const auto &s : trace.rows) {
		const Decision d = can_migrate_task(s, version);
		if (decisions)
			decisions->push_back(d);
		++a.rows;
		a.migrate += d.migrate;
		++a.by_reason[static_cast<size_t>(d.reason)];
		if (s.can_migrate < 0)
			continue;
		++a.recorded;
		const bool same = (s.can_migrate == 1) == d.migrate;
		a.agree += same;
		if (!same) {
			++a.disagree;
			++a.disagree_by_reason[static_cast<size_t>(d.reason)];
		}
		if (passes_prep_filter(s, version)) {
			++a.kept;
			a.kept_agree += same;
		}
	}
	return a;
}

nlohmann::json Agreement::to_json() const
{
	nlohmann::json reasons = nlohmann::json::object(), disagreements = nlohmann::json::object();
	for (int r = 0; r < kReasonCount; ++r) {
		const std::string name(reason_name(static_cast<Reason>(r)));
		if (by_reason[r])
			reasons[name] = by_reason[r];
		if (disagree_by_reason[r])
			disagreements[name] = disagree_by_reason[r];
	}
	return {
		{"rows", rows},
		{"migrate", migrate},
		{"recorded", recorded},
		{"agree", agree},
		{"disagree", disagree},
		{"agreement", agreement()},
		{"kept_rows", kept},
		{"kept_agree", kept_agree},
		{"by_reason", reasons},
		{"disagree_by_reason", disagreements},
	};
}

}  // namespace kmlb
