// SPDX-License-Identifier: GPL-2.0
/*
 * rq_test - kmlb_rq_point() (kernel/kmlb_rq.h, the module's run-queue
 * sample) on hand-computed cases; exit 1 on the first wrong field.
 */
#include <stdio.h>

#include "../kmlb_rq.h"

static int fails;

static void expect(const char *name, const unsigned int *nr, int n, int self,
		   unsigned int maxdiff, unsigned int total, unsigned int stranded)
{
	struct kmlb_rq_point pt = kmlb_rq_point(nr, n, self);

	if (pt.maxdiff != maxdiff || pt.total != total || pt.stranded != stranded) {
		printf("FAIL %s: maxdiff %u total %u stranded %u, want %u %u %u\n", name,
		       pt.maxdiff, pt.total, pt.stranded, maxdiff, total, stranded);
		fails++;
	}
}

int main(void)
{
	const unsigned int balanced[8] = { 2, 2, 2, 2, 2, 2, 2, 2 };
	const unsigned int piled[8] = { 5, 0, 0, 3, 1, 0, 1, 0 };
	const unsigned int few_waiting[4] = { 2, 0, 0, 0 };
	const unsigned int sampler_only[4] = { 1, 0, 0, 0 };
	const unsigned int all_idle[2] = { 0, 0 };

	/* busy everywhere: nothing stranded */
	expect("balanced", balanced, 8, -1, 0, 16, 0);
	/* 4 idle CPUs, 4 + 2 waiting tasks: 4 CPUs could be busy */
	expect("piled", piled, 8, -1, 5, 10, 4);
	/* one waiting task, three idle CPUs: one */
	expect("few_waiting", few_waiting, 4, -1, 2, 2, 1);
	/* the sampler is the only task on its CPU: an idle system */
	expect("sampler_only", sampler_only, 4, 0, 0, 0, 0);
	/* counted on another CPU, the same queue is a running task */
	expect("sampler_elsewhere", sampler_only, 4, 1, 1, 1, 0);
	/* the sampler's CPU also runs one task that waits behind it: none wait */
	expect("sampler_plus_one", few_waiting, 4, 0, 1, 1, 0);
	expect("all_idle", all_idle, 2, -1, 0, 0, 0);
	if (!fails)
		printf("rq_test: 7 cases ok\n");
	return fails ? 1 : 0;
}
