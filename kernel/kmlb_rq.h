/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmlb_rq.h - one sample of the run queues, as the module's sampler takes it
 * (the distributions of Chen et al.'s Figure 5, and the capacity a
 * balancer leaves unused).
 *
 * From nr_running of every online CPU, with the sampler's own CPU counted
 * without the sampler (it is the task running there while it samples):
 *   maxdiff   max - min of nr_running across CPUs
 *   total     sum of nr_running
 *   stranded  min(idle CPUs, waiting tasks): CPUs with nothing to run while
 *             tasks wait on other CPUs' queues (each CPU's tasks beyond the
 *             one running), i.e. how many more CPUs a work-conserving
 *             placement would keep busy at that instant
 *
 * Under `-icount` every vCPU's instruction advances one shared virtual
 * clock, so a CPU left idle costs the guest no time: `stranded` is where
 * the parallel cost of a placement shows, not the benchmarks' runtimes.
 *
 * Plain C with integer types only, so the host test (tools/rq_test.c)
 * includes it.
 */
#ifndef KMLB_RQ_H
#define KMLB_RQ_H

#ifndef __KERNEL__
#include <stdint.h>
#endif

struct kmlb_rq_point {
	unsigned int maxdiff, total, stranded;
};

/*
 * nr[i]: nr_running of the i-th of n CPUs (n >= 1); self: the index of the
 * sampler's CPU, or -1 when the sampler is not on one of them.
 */
static inline struct kmlb_rq_point kmlb_rq_point(const unsigned int *nr, int n, int self)
{
	struct kmlb_rq_point pt = { 0, 0, 0 };
	unsigned int lo = ~0U, hi = 0, idle = 0, waiting = 0, v;
	int i;

	for (i = 0; i < n; i++) {
		v = nr[i];
		if (i == self && v > 0)
			v--;	/* the sampler itself */
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		pt.total += v;
		if (v == 0)
			idle++;
		else
			waiting += v - 1;
	}
	if (n > 0)
		pt.maxdiff = hi - lo;
	pt.stranded = idle < waiting ? idle : waiting;
	return pt;
}

#endif /* KMLB_RQ_H */
