#include "prep.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "teacher_internal.h"

namespace kmlb {

bool passes_prep_filter(const KernelState &s, KernelVersion version)
{
	if (s.p_running != 0 || s.test_aggressive != 1)
		return false;
	// The newer hard refusals count only on kernels that make them (the 6.18
	// teacher's: 6.14+). 6.12 records sched_delayed and ineligible_on_dst but
	// its can_migrate_task() never reads them: such rows are decided by the
	// heuristic like any other (kmlb teacher --kernel 6.12 reproduces them).
	if (version != KernelVersion::k6_18)
		return true;
	const bool delayed = s.sched_delayed && s.migration_type != kMigrateLoad;
	const bool ineligible = s.ineligible_on_dst && s.nr_fails == 0;
	return !delayed && !ineligible && !s.blocked_on_mutex && !s.current_donor;
}

void extract_features(const KernelState &s, FeatureSet set, float *out)
{
	const int64_t fault_divisor = s.total_faults == 0 ? 1 : s.total_faults;
	out[0] = static_cast<float>(s.src_len > s.src_preferred_len);
	out[1] = static_cast<float>(s.delta < s.migration_cost_ns);
	out[2] = static_cast<float>(s.cpu_idle);
	out[3] = static_cast<float>(s.cpu_not_idle);
	out[4] = static_cast<float>(s.cpu_newly_idle);
	out[5] = static_cast<float>(s.same_node);
	out[6] = static_cast<float>(s.prefer_src);
	out[7] = static_cast<float>(s.prefer_dst);
	out[8] = static_cast<float>(s.src_len - 2);
	out[9] = static_cast<float>(static_cast<double>(s.src_load) / 1000.0);
	out[10] = static_cast<float>(static_cast<double>(s.dst_load) / 1000.0);
	out[11] = static_cast<float>(s.dst_len);
	out[12] = static_cast<float>(static_cast<double>(s.delta_faults) /
				     static_cast<double>(fault_divisor));
	out[13] = static_cast<float>(s.nr_fails > s.cache_nice_tries);
	out[14] = static_cast<float>(s.buddy_hot);
	if (set == FeatureSet::kSeed)
		return;
	out[15] = static_cast<float>(s.sd_share_cpucapacity);
	out[16] = static_cast<float>(s.active_lb);
	out[17] = static_cast<float>(s.numa_balancing && s.has_numa_faults && s.sd_numa);
	out[18] = static_cast<float>(detail::numa_weight_sign(s));
	out[19] = static_cast<float>(s.idle_policy);
	out[20] = static_cast<float>(!s.cookie_match);
}

Dataset prep(const RawTrace &trace, FeatureSet set, KernelVersion version)
{
	if (set == FeatureSet::kModern && !trace.full_schema)
		throw Error(ExitCode::kBadData,
			    fmt::format("{}: the 'modern' features need kmlb's full raw schema; "
					"this file has only the report's A1 columns",
					trace.file));
	Dataset d;
	d.feature_set = set;
	d.cols = feature_count(set);
	d.x.reserve(trace.rows.size() * d.cols);
	d.y.reserve(trace.rows.size());
	float buf[32];
	for (size_t i = 0; i < trace.rows.size(); ++i) {
		const KernelState &s = trace.rows[i];
		if (!passes_prep_filter(s, version))
			continue;
		if (s.can_migrate != 0 && s.can_migrate != 1)
			throw Error(ExitCode::kBadData,
				    fmt::format("{}:{}: field 'can_migrate': {} is not a label (0 or 1) "
						"on a row that preprocessing keeps",
						trace.file, trace.first_data_line + i, s.can_migrate));
		extract_features(s, set, buf);
		d.x.insert(d.x.end(), buf, buf + d.cols);
		d.y.push_back(static_cast<uint8_t>(s.can_migrate));
	}
	d.rows = d.y.size();
	return d;
}

}  // namespace kmlb
