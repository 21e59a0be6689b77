// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_fntime.bpf.c - time every call of one kernel function with a BPF
 * fentry/fexit pair (the BPF trampoline calls the function; nothing rewrites
 * its return address). The loader picks the function (load_balance by
 * default) before load. Each sample is fexit's bpf_ktime_get_ns() minus
 * fentry's on the same CPU, kept in a fixed array for the loader to read.
 * Under QEMU -icount shift=0 guest nanoseconds are executed instructions.
 * The two programs attach one after the other: calls entered in between
 * would leave an entry without an exit, so nothing is recorded until the
 * loader sets `enabled` after both are attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define KMLB_FNTIME_SAMPLES (1 << 16)
#define KMLB_FNTIME_DEPTH 4	/* newidle balance can be interrupted by softirq balance */

struct kmlb_fntime_cpu {
	__u64 t0[KMLB_FNTIME_DEPTH];
	__u32 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmlb_fntime_cpu);
} kmlb_fntime_start SEC(".maps");

__u32 enabled;	/* set by the loader once entry and exit are both attached */
__u64 n_samples;
__u64 n_lost;
__u32 samples[KMLB_FNTIME_SAMPLES];

SEC("fentry/load_balance")
int BPF_PROG(kmlb_fn_entry)
{
	__u32 key = 0, d;
	struct kmlb_fntime_cpu *c = bpf_map_lookup_elem(&kmlb_fntime_start, &key);

	if (!c || !enabled)
		return 0;
	d = c->depth;
	if (d < KMLB_FNTIME_DEPTH)	/* the mask keeps the verifier's bound */
		c->t0[d & (KMLB_FNTIME_DEPTH - 1)] = bpf_ktime_get_ns();
	c->depth = d + 1;
	return 0;
}

SEC("fexit/load_balance")
int BPF_PROG(kmlb_fn_exit)
{
	__u64 t1 = bpf_ktime_get_ns(), i, dt;
	__u32 key = 0, d;
	struct kmlb_fntime_cpu *c = bpf_map_lookup_elem(&kmlb_fntime_start, &key);

	if (!c || !c->depth)
		return 0;
	d = --c->depth;
	if (d >= KMLB_FNTIME_DEPTH) {
		__sync_fetch_and_add(&n_lost, 1);
		return 0;
	}
	dt = t1 - c->t0[d & (KMLB_FNTIME_DEPTH - 1)];
	i = __sync_fetch_and_add(&n_samples, 1);
	if (i < KMLB_FNTIME_SAMPLES) {
		samples[i] = dt > 0xffffffffULL ? 0xffffffffU : (__u32)dt;
	}
	return 0;
}
