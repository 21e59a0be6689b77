// SPDX-License-Identifier: GPL-2.0
/*
 * input_test - the module's C code checked on the host, without a guest.
 *
 *   input_test RAW.csv [MODEL_HEADER_DIR]
 *
 * Reads a raw trace (docs/raw-schema.md; `kmlb generate --format raw
 * --kernel 6.1` or real rows from `kmlb vm collect`), fills struct
 * kmlb_input as the module does and checks:
 *   1. kmlb_decide() (kmlb_input.h) gives the recorded can_migrate on
 *      every row with a label: the module's own recomputation is exact;
 *   2. the model header (kmlb_model.h, built with -I) agrees with the label
 *      on the rows the model sees (p_running == 0, test_aggressive == 1),
 *      counted by the kernel's reason: the fixed-point model as it runs in
 *      the kernel.
 * Built with -DKMLB_V7=1 it checks 6.18's decision, the module's on 7.x
 * (rows of `kmlb generate --kernel 7.3` or tests/data/real_7.3.4.csv): the
 * 7.x inputs (sched_delayed, migration_type, ineligible_on_dst,
 * blocked_on_mutex, current_donor) must then be columns of the trace.
 * Exit 1 if (1) fails anywhere, 65 if a 7.x column is missing. Prints "rows N teacher_exact N model_rows N
 * model_agree N".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kmlb_input.h"
#include "kmlb_model.h"

#define MAXCOL 80

static const char *reason_names[KMLB_R_COUNT] = {
#define NAME(id, name, hard) name,
	KMLB_REASONS(NAME)
};

int main(int argc, char **argv)
{
	char line[8192], *names[MAXCOL];
	int ncol = 0, i, col_label = -1;
	long rows = 0, exact = 0, mrows = 0, magree = 0;
	long miss[KMLB_R_COUNT][2] = { { 0 } }, seen[KMLB_R_COUNT] = { 0 };
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: input_test RAW.csv\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		perror(argv[1]);
		return 66;
	}
	for (char *t = strtok(line, ",\n"); t && ncol < MAXCOL; t = strtok(NULL, ",\n"))
		names[ncol++] = strdup(t);
	for (i = 0; i < ncol; i++)
		if (!strcmp(names[i], "can_migrate"))
			col_label = i;
	if (col_label < 0) {
		fprintf(stderr, "%s: no can_migrate column\n", argv[1]);
		return 65;
	}
#if KMLB_V7
	{
		static const char *const v7[] = { "sched_delayed", "migration_type",
			"ineligible_on_dst", "blocked_on_mutex", "current_donor", "throttled" };
		unsigned int k;

		for (k = 0; k < sizeof(v7) / sizeof(v7[0]); k++) {
			for (i = 0; i < ncol; i++)
				if (!strcmp(names[i], v7[k]))
					break;
			if (i == ncol) {
				fprintf(stderr, "%s: no %s column (a 7.x trace has it)\n", argv[1], v7[k]);
				return 65;
			}
		}
	}
#endif
	while (fgets(line, sizeof(line), f)) {
		long long v[MAXCOL] = { 0 };
		struct kmlb_input in;
		struct kmlb_state st;
		int n = 0, reason = -1, teacher, model;
		char *p = line;

		while (n < ncol && *p) {
			v[n++] = strtoll(p, &p, 10);
			if (*p == ',')
				p++;
		}
		if (n != ncol || v[col_label] < 0)
			continue;
		memset(&in, 0, sizeof(in));
#define COL(f) do {							\
		for (i = 0; i < ncol; i++)				\
			if (!strcmp(names[i], #f))			\
				in.f = v[i];				\
	} while (0)
		COL(src_cpu); COL(dst_cpu); COL(src_len); COL(src_preferred_len);
		COL(dst_len); COL(delta); COL(cpu_idle); COL(cpu_not_idle);
		COL(cpu_newly_idle); COL(same_node); COL(prefer_src); COL(prefer_dst);
		COL(delta_faults); COL(total_faults); COL(src_load); COL(dst_load);
		COL(nr_fails); COL(cache_nice_tries); COL(buddy_hot); COL(next_buddy);
		COL(last_buddy); COL(throttled); COL(per_cpu_kthread); COL(dst_allowed);
		COL(p_running); COL(active_lb); COL(sd_numa); COL(sd_share_cpucapacity);
		COL(numa_balancing); COL(src_nid); COL(dst_nid); COL(preferred_nid);
		COL(has_numa_faults); COL(src_faults); COL(dst_faults); COL(numa_group);
		COL(group_src_faults); COL(group_dst_faults); COL(group_total_faults);
		COL(migration_cost_ns); COL(fair_class); COL(idle_policy); COL(cookie_match);
#if KMLB_V7
		COL(sched_delayed); COL(migration_type); COL(ineligible_on_dst);
		COL(blocked_on_mutex); COL(current_donor);
#endif
		rows++;
		teacher = kmlb_decide(&in, &reason);
		if (teacher == v[col_label])
			exact++;
		else if (rows - exact <= 5)
			fprintf(stderr, "row %ld: teacher %d (%s), recorded %lld\n", rows,
				teacher, reason_names[reason], v[col_label]);
		if (kmlb_hard_refused(&in) != kmlb_reason_is_hard(reason)) {
			fprintf(stderr, "row %ld: hard checks %d, reason %s\n", rows,
				kmlb_hard_refused(&in), reason_names[reason]);
			return 1;
		}
		if (in.p_running || kmlb_reason_is_hard(reason))
			continue;
		memset(&st, 0, sizeof(st));
		st.src_len = in.src_len; st.src_preferred_len = in.src_preferred_len;
		st.delta = in.delta; st.migration_cost_ns = in.migration_cost_ns;
		st.cpu_idle = in.cpu_idle; st.cpu_not_idle = in.cpu_not_idle;
		st.cpu_newly_idle = in.cpu_newly_idle; st.same_node = in.same_node;
		st.prefer_src = in.prefer_src; st.prefer_dst = in.prefer_dst;
		st.dst_len = in.dst_len; st.src_load = in.src_load; st.dst_load = in.dst_load;
		st.delta_faults = in.delta_faults; st.total_faults = in.total_faults;
		st.nr_fails = in.nr_fails; st.cache_nice_tries = in.cache_nice_tries;
		st.buddy_hot = in.buddy_hot; st.sd_share_cpucapacity = in.sd_share_cpucapacity;
		st.active_lb = in.active_lb; st.numa_balancing = in.numa_balancing;
		st.has_numa_faults = in.has_numa_faults; st.sd_numa = in.sd_numa;
		st.numa_group = in.numa_group; st.src_faults = in.src_faults;
		st.dst_faults = in.dst_faults; st.group_src_faults = in.group_src_faults;
		st.group_dst_faults = in.group_dst_faults;
		st.group_total_faults = in.group_total_faults;
		st.idle_policy = in.idle_policy; st.cookie_match = in.cookie_match;
		model = kmlb_predict_state(&st) ? 1 : 0;
		mrows++;
		seen[reason]++;
		if (model == v[col_label])
			magree++;
		else
			miss[reason][v[col_label] ? 1 : 0]++;
	}
	printf("rows %ld teacher_exact %ld model_rows %ld model_agree %ld (%.4f %%)\n",
	       rows, exact, mrows, magree, mrows ? 100.0 * magree / mrows : 0.0);
	for (i = 0; i < KMLB_R_COUNT; i++)
		if (seen[i])
			printf("  %-22s rows %7ld  wrong (kernel 0) %5ld  wrong (kernel 1) %5ld\n",
			       reason_names[i], seen[i], miss[i][0], miss[i][1]);
	return exact == rows ? 0 : 1;
}
