// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_fntime - time a kernel function's calls for SECONDS (BPF fentry/fexit,
 * kmlb_fntime.bpf.c) and print their count and percentiles in ns.
 *
 *   kmlb_fntime load_balance 30 > lb.txt
 *
 * Output: "count N", "lost N", "mean X", "p10 X" ... "p90 X" (ns; under
 * QEMU -icount shift=0 guest ns are executed instructions). Exit 1 when the
 * program cannot be loaded or attached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include "kmlb_fntime.skel.h"

#define KMLB_FNTIME_SAMPLES (1 << 16)

static int cmp_u32(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const int pct[] = { 10, 25, 50, 75, 90, 99 };
	struct kmlb_fntime_bpf *skel;
	unsigned long long n, i, sum = 0;
	unsigned int *v;
	int secs, err;

	if (argc != 3 || (secs = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: kmlb_fntime FUNCTION SECONDS\n");
		return 2;
	}
	skel = kmlb_fntime_bpf__open();
	if (!skel) {
		fprintf(stderr, "kmlb_fntime: open: %s\n", strerror(errno));
		return 1;
	}
	if (bpf_program__set_attach_target(skel->progs.kmlb_fn_entry, 0, argv[1]) ||
	    bpf_program__set_attach_target(skel->progs.kmlb_fn_exit, 0, argv[1])) {
		fprintf(stderr, "kmlb_fntime: no function %s\n", argv[1]);
		return 1;
	}
	err = kmlb_fntime_bpf__load(skel);
	err = err ?: kmlb_fntime_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "kmlb_fntime: load/attach %s: %d\n", argv[1], err);
		kmlb_fntime_bpf__destroy(skel);
		return 1;
	}
	skel->bss->enabled = 1;
	sleep(secs);
	kmlb_fntime_bpf__detach(skel);
	n = skel->bss->n_samples;
	printf("count %llu\nlost %llu\n", n, (unsigned long long)skel->bss->n_lost);
	if (n > KMLB_FNTIME_SAMPLES)
		n = KMLB_FNTIME_SAMPLES;
	v = skel->bss->samples;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0; i < n; i++)
		sum += v[i];
	if (n) {
		printf("mean %llu\n", sum / n);
		for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
			printf("p%d %u\n", pct[i], v[(n - 1) * pct[i] / 100]);
	}
	kmlb_fntime_bpf__destroy(skel);
	return 0;
}
