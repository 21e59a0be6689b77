# check_61.awk - collector self-check: recompute each row's decision with
# Linux 6.1's can_migrate_task() (kernel/sched/fair.c: can_migrate_task,
# migrate_degrades_locality, task_weight/group_weight, task_hot) from the
# recorded inputs and compare with the recorded return value.
# A disagreement means a column was read wrongly. Assumes NUMA_DIRECT
# topologies (all remote distances equal: score_nearby_nodes() == 0), which
# holds for both vm/ layouts.
#
# usage: awk -F, -f vm/check_61.awk raw.csv
# prints "rows=N agree=A" and exits 1 on any disagreement or bad row.
NR == 1 {
	for (i = 1; i <= NF; i++)
		c[$i] = i
	ncol = NF
	next
}
function v(name) { return $(c[name]) + 0 }
function weight(f, t) { return t ? int(1000 * f / t) : 0 }
function decide(hot, sw, dw) {
	if (v("throttled") || v("per_cpu_kthread") || !v("dst_allowed") || v("p_running"))
		return 0
	if (v("active_lb"))
		return 1
	hot = -1 # migrate_degrades_locality()
	if (v("numa_balancing") && v("has_numa_faults") && v("sd_numa") &&
	    v("src_nid") != v("dst_nid")) {
		if (v("src_nid") == v("preferred_nid"))
			hot = v("src_len") > v("src_preferred_len") ? 1 : -1
		else if (v("dst_nid") == v("preferred_nid"))
			hot = 0
		else if (!v("cpu_idle")) {
			if (v("numa_group")) {
				sw = weight(v("group_src_faults"), v("group_total_faults"))
				dw = weight(v("group_dst_faults"), v("group_total_faults"))
			} else {
				sw = weight(v("src_faults"), v("total_faults"))
				dw = weight(v("dst_faults"), v("total_faults"))
			}
			hot = dw < sw
		}
	}
	if (hot == -1) { # task_hot()
		if (!v("fair_class") || v("idle_policy") || v("sd_share_cpucapacity"))
			hot = 0
		else if (v("dst_len") && v("buddy_hot"))
			hot = 1
		else if (!v("cookie_match"))
			hot = 1
		else if (v("migration_cost_ns") == 0)
			hot = 0
		else
			hot = v("delta") < v("migration_cost_ns")
	}
	return (hot <= 0 || v("nr_fails") > v("cache_nice_tries")) ? 1 : 0
}
{
	n++
	if (NF != ncol) { bad++; next }
	if (decide() == v("can_migrate")) agree++
	else if (shown++ < 5) print "disagree: row " NR - 1 ": " $0 > "/dev/stderr"
}
END {
	printf "rows=%d agree=%d bad_rows=%d\n", n, agree, bad
	exit (n == 0 || agree != n || bad) ? 1 : 0
}
