// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kmlb_collect - write one CSV row per call of can_migrate_task().
 *
 * open -> set (cpu -> node map, sysctls, SD_* flag values from the running
 * kernel's BTF) -> load -> attach -> poll the ring buffer -> clean up.
 * The CSV (exact header of docs/raw-schema.md) is written to FILE.tmp and
 * renamed to FILE at the end; a final stats line goes to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kmlb_collect.h"
#include "kmlb_collect.skel.h"

static volatile sig_atomic_t stop;
static int verbose;

static const char usage[] =
	"usage: kmlb_collect [--out FILE] [--seconds N] [--ringbuf-mb N]\n"
	"                    [--counters auto|hardware|software|none] [--verbose]\n"
	"\n"
	"Records every call of can_migrate_task() (fentry + fexit) as one CSV row\n"
	"of the kmlb raw schema. Stops on SIGINT/SIGTERM or after N seconds.\n"
	"pc_0/pc_1: this CPU's count of two per-CPU perf events at entry: cycles\n"
	"and instructions (hardware), else cpu-clock (ns) and context switches\n"
	"(software, --counters auto falls back to them when the CPU has no PMU);\n"
	"the line 'kmlb_collect: counters ...' names them and says why.\n"
	"Exit: 0 ok, 1 failure, 2 usage, 74 write error, 77 this kernel refuses\n"
	"fentry/fexit on can_migrate_task() (then use kmlb vm collect).\n"
	"Final line on stderr: kmlb_collect: rows=.. drops=.. ...; enter_ns and\n"
	"exit_ns are the programs' mean run times (-1 unless kernel.bpf_stats_enabled=1).\n"
	"\n"
	"examples:\n"
	"  kmlb_collect --out raw.csv --seconds 60\n"
	"  kmlb_collect > raw.csv   (stop with Ctrl-C)\n";

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static long long read_ll(const char *path, long long dflt)
{
	long long v;
	FILE *f = fopen(path, "r");

	if (!f)
		return dflt;
	if (fscanf(f, "%lld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* Fill map[cpu] = node from /sys/devices/system/node/nodeN/cpulist. */
static int read_cpu_nodes(volatile int *map, int n)
{
	glob_t g;
	size_t i;
	int found = 0;

	for (i = 0; i < (size_t)n; i++)
		map[i] = 0;
	if (glob("/sys/devices/system/node/node[0-9]*/cpulist", 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc; i++) {
		int node, a, b;
		char buf[4096], *s, *tok;
		FILE *f;

		if (sscanf(g.gl_pathv[i], "/sys/devices/system/node/node%d", &node) != 1)
			continue;
		f = fopen(g.gl_pathv[i], "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		for (s = buf; (tok = strtok(s, ",\n")); s = NULL) {
			if (sscanf(tok, "%d-%d", &a, &b) != 2) {
				if (sscanf(tok, "%d", &a) != 1)
					continue;
				b = a;
			}
			for (; a <= b && a < n; a++)
				map[a] = node;
			found = 1;
		}
	}
	globfree(&g);
	return found;
}

/* Value of an enumerator (e.g. SD_NUMA, in an anonymous enum) in kernel BTF. */
static long long btf_enum_value(const struct btf *btf, const char *name)
{
	int id, n = btf__type_cnt(btf);

	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;
		int i;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++, e++)
			if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
				return e->val;
	}
	return -1;
}

static void print_header(FILE *out)
{
	const char *sep = "";

#define KMLB_NAME(name) fprintf(out, "%s%s", sep, #name), sep = ",";
	KMLB_RAW_COLUMNS(KMLB_NAME)
#undef KMLB_NAME
	fputc('\n', out);
}

static unsigned long long rows;

static int on_record(void *ctx, void *data, size_t len)
{
	const struct kmlb_rec *r = data;
	FILE *out = ctx;

	if (len < sizeof(*r))
		return 0;
	fprintf(out, "%lld", r->ts);
#define KMLB_VALUE(name) if (&r->name != &r->ts) fprintf(out, ",%lld", r->name);
	KMLB_RAW_COLUMNS(KMLB_VALUE)
#undef KMLB_VALUE
	fputc('\n', out);
	rows++;
	return 0;
}

/* Mean run time of a program in ns (needs kernel.bpf_stats_enabled=1), or -1. */
static double prog_mean_ns(const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) ||
	    !info.run_cnt)
		return -1;
	return (double)info.run_time_ns / info.run_cnt;
}

/*
 * Exit code for a failed load or attach: 77 (unsupported) when this kernel
 * refuses fentry/fexit tracing of can_migrate_task() to root, as some do
 * (e.g. Firecracker guest kernels: EPERM even as root) or when the function
 * is not traceable (ENOENT, ESRCH: inlined or no BTF; EOPNOTSUPP/ENOTSUPP:
 * no trampoline support); 1 for any other failure.
 */
static int refused(const char *what, int err)
{
	int e = err < 0 ? -err : err;
	int unsupported = (e == EPERM && geteuid() == 0) || e == ENOENT || e == ESRCH ||
			  e == EOPNOTSUPP || e == 524 /* ENOTSUPP */;

	fprintf(stderr, "kmlb_collect: %s failed: %s\n", what, strerror(e));
	if (!unsupported) {
		if (e == EPERM)
			fputs("kmlb_collect: needs root (CAP_BPF and CAP_PERFMON)\n", stderr);
		return 1;
	}
	fputs("kmlb_collect: this kernel does not allow fentry/fexit on can_migrate_task();\n"
	      "kmlb_collect: record in a QEMU guest instead: kmlb vm collect --out DIR\n", stderr);
	return 77;
}

static long perf_open(__u32 type, __u64 config, int cpu)
{
	struct perf_event_attr a = {
		.type = type,
		.size = sizeof(a),
		.config = config,
	};

	return syscall(__NR_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

struct counters {
	const char *source, *pc_0, *pc_1, *why;
	int fds[2][KMLB_MAX_CPUS];
	int ncpu;
};

/*
 * Open one event per CPU for pc_0 and pc_1 and put them in the maps' slots
 * (after load). mode: "hardware", "software", "none" or "auto" (hardware,
 * else software). Fills c->source and the event names; never fails the run.
 */
static void open_counters(struct counters *c, const char *mode, struct kmlb_collect_bpf *skel)
{
	static char why[256];
	static const struct {
		const char *source, *name[2];
		__u32 type;
		__u64 config[2];
	} kinds[] = {
		{ "hardware", { "cycles", "instructions" }, PERF_TYPE_HARDWARE,
		  { PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS } },
		{ "software", { "cpu-clock", "context-switches" }, PERF_TYPE_SOFTWARE,
		  { PERF_COUNT_SW_CPU_CLOCK, PERF_COUNT_SW_CONTEXT_SWITCHES } },
	};
	int k, i, cpu;

	c->source = "none";
	c->pc_0 = c->pc_1 = "none";
	c->why = "--counters none";
	for (k = 0; k < 2; k++) {
		if (!strcmp(mode, "none") || (!strcmp(mode, "hardware") && k == 1) ||
		    (!strcmp(mode, "software") && k == 0))
			continue;
		for (cpu = 0; cpu < c->ncpu; cpu++)
			for (i = 0; i < 2; i++) {
				c->fds[i][cpu] = perf_open(kinds[k].type, kinds[k].config[i], cpu);
				if (c->fds[i][cpu] < 0 && errno != ENODEV) { /* ENODEV: CPU offline */
					snprintf(why, sizeof(why), "%s event %s on CPU %d: %s", kinds[k].source,
						 kinds[k].name[i], cpu, strerror(errno));
					goto fail;
				}
			}
		for (cpu = 0; cpu < c->ncpu; cpu++)
			for (i = 0; i < 2; i++) {
				__u32 key = cpu, fd = c->fds[i][cpu];
				int map = bpf_map__fd(i ? skel->maps.pc1_events : skel->maps.pc0_events);

				if (c->fds[i][cpu] >= 0 && bpf_map_update_elem(map, &key, &fd, BPF_ANY)) {
					snprintf(why, sizeof(why), "%s event %s on CPU %d: map update: %s",
						 kinds[k].source, kinds[k].name[i], cpu, strerror(errno));
					goto fail;
				}
			}
		c->source = kinds[k].source;
		c->pc_0 = kinds[k].name[0];
		c->pc_1 = kinds[k].name[1];
		if (k == 0)
			c->why = "hardware counters present";
		/* else c->why still says why the hardware ones were not used */
		return;
fail:
		for (cpu = 0; cpu < c->ncpu; cpu++)
			for (i = 0; i < 2; i++) {
				if (c->fds[i][cpu] >= 0)
					close(c->fds[i][cpu]);
				c->fds[i][cpu] = -1;
			}
		c->why = why;
		if (strcmp(mode, "auto"))
			return;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "ringbuf-mb", required_argument, NULL, 'r' },
		{ "counters", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *out_path = NULL, *counters_mode = "auto";
	static struct counters ctr;
	char tmp_path[4096];
	double seconds = 0, t0, elapsed, enter_ns, exit_ns;
	int ringbuf_mb = 4, c, err = 1, nodes;
	struct kmlb_collect_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct btf *vmlinux = NULL;
	long long sd_numa, sd_smt;
	FILE *out = stdout;
	__u64 *st;

	while ((c = getopt_long(argc, argv, "o:s:r:c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			counters_mode = optarg;
			if (strcmp(optarg, "auto") && strcmp(optarg, "hardware") &&
			    strcmp(optarg, "software") && strcmp(optarg, "none")) {
				fprintf(stderr, "kmlb_collect: --counters is auto, hardware, software or none\n");
				return 2;
			}
			break;
		case 'o':
			out_path = optarg;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			ringbuf_mb = atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc || ringbuf_mb < 1 || (ringbuf_mb & (ringbuf_mb - 1))) {
		fputs("kmlb_collect: --ringbuf-mb must be a power of two\n", stderr);
		fputs(usage, stderr);
		return 2;
	}
	libbpf_set_print(print_libbpf);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* open */
	skel = kmlb_collect_bpf__open();
	if (!skel) {
		fprintf(stderr, "kmlb_collect: open failed: %s\n", strerror(errno));
		return 1;
	}

	/* set */
	nodes = read_cpu_nodes(skel->rodata->cpu_node, KMLB_MAX_CPUS);
	skel->rodata->migration_cost_ns =
		read_ll("/sys/kernel/debug/sched/migration_cost_ns",
			read_ll("/proc/sys/kernel/sched_migration_cost_ns", 500000));
	skel->rodata->numa_balancing_on =
		read_ll("/proc/sys/kernel/numa_balancing", 0) != 0;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		fprintf(stderr, "kmlb_collect: no kernel BTF: %s\n", strerror(errno));
		goto cleanup;
	}
	sd_numa = btf_enum_value(vmlinux, "SD_NUMA");
	sd_smt = btf_enum_value(vmlinux, "SD_SHARE_CPUCAPACITY");
	if (sd_numa <= 0 || sd_smt <= 0) {
		fprintf(stderr, "kmlb_collect: SD_NUMA/SD_SHARE_CPUCAPACITY not in BTF\n");
		goto cleanup;
	}
	skel->rodata->sd_numa_flag = sd_numa;
	skel->rodata->sd_share_cpucapacity_flag = sd_smt;
	bpf_map__set_max_entries(skel->maps.rb, ringbuf_mb << 20);
	ctr.ncpu = libbpf_num_possible_cpus();
	if (ctr.ncpu < 1 || ctr.ncpu > KMLB_MAX_CPUS) {
		fprintf(stderr, "kmlb_collect: %d possible CPUs (at most %d supported)\n", ctr.ncpu,
			KMLB_MAX_CPUS);
		goto cleanup;
	}
	for (c = 0; c < ctr.ncpu; c++)
		ctr.fds[0][c] = ctr.fds[1][c] = -1;
	bpf_map__set_max_entries(skel->maps.pc0_events, ctr.ncpu);
	bpf_map__set_max_entries(skel->maps.pc1_events, ctr.ncpu);
	if (verbose)
		fprintf(stderr,
			"kmlb_collect: numa_map=%d migration_cost_ns=%lld numa_balancing=%d SD_NUMA=%lld SD_SHARE_CPUCAPACITY=%lld\n",
			nodes, (long long)skel->rodata->migration_cost_ns,
			skel->rodata->numa_balancing_on, sd_numa, sd_smt);

	/* load, attach */
	err = kmlb_collect_bpf__load(skel);
	if (err) {
		err = refused("load", err);
		goto cleanup;
	}
	open_counters(&ctr, counters_mode, skel);
	fprintf(stderr, "kmlb_collect: counters source=%s pc_0=%s pc_1=%s why=\"%s\"\n", ctr.source,
		ctr.pc_0, ctr.pc_1, ctr.why);
	err = kmlb_collect_bpf__attach(skel);
	if (err) {
		err = refused("attach", err);
		goto cleanup;
	}
	err = 1;
	if (out_path) {
		snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", out_path);
		out = fopen(tmp_path, "w");
		if (!out) {
			fprintf(stderr, "kmlb_collect: %s: %s\n", tmp_path, strerror(errno));
			out = stdout;
			err = 74;
			goto cleanup;
		}
	}
	print_header(out);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, out, NULL);
	if (!rb) {
		fprintf(stderr, "kmlb_collect: ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "kmlb_collect: attached\n");

	/* poll */
	t0 = now_s();
	while (!stop && (seconds <= 0 || now_s() - t0 < seconds)) {
		c = ring_buffer__poll(rb, 100);
		if (c < 0 && c != -EINTR) {
			fprintf(stderr, "kmlb_collect: poll: %s\n", strerror(-c));
			goto cleanup;
		}
	}
	elapsed = now_s() - t0;
	enter_ns = prog_mean_ns(skel->progs.kmlb_enter);
	exit_ns = prog_mean_ns(skel->progs.kmlb_exit);
	/*
	 * Detach first so the counters are final, then drain. fexit goes first:
	 * detaching a trampoline can take long under TCG (RCU tasks grace
	 * period), and every call in that window would otherwise be an exit
	 * without its entry (counted as unpaired, 30 in one 6.1 phase).
	 */
	bpf_link__destroy(skel->links.kmlb_exit);
	skel->links.kmlb_exit = NULL;
	kmlb_collect_bpf__detach(skel);
	ring_buffer__consume(rb);
	err = 0;
	if (fflush(out) || ferror(out)) {
		fprintf(stderr, "kmlb_collect: write error\n");
		err = 74;
	}
	if (out_path) {
		if (fclose(out) && !err)
			err = 74;
		out = stdout;
		if (!err && rename(tmp_path, out_path)) {
			fprintf(stderr, "kmlb_collect: rename %s: %s\n", out_path,
				strerror(errno));
			err = 74;
		}
	}
	st = skel->bss->stats;
	fprintf(stderr,
		"kmlb_collect: rows=%llu drops=%llu entries=%llu exits=%llu unpaired=%llu migrate=%llu seconds=%.1f rows_per_s=%.1f enter_ns=%.0f exit_ns=%.0f\n",
		rows, (unsigned long long)st[KMLB_STAT_DROPPED],
		(unsigned long long)st[KMLB_STAT_ENTRY],
		(unsigned long long)st[KMLB_STAT_EXIT],
		(unsigned long long)st[KMLB_STAT_UNPAIRED],
		(unsigned long long)st[KMLB_STAT_MIGRATE], elapsed,
		elapsed > 0 ? rows / elapsed : 0.0, enter_ns, exit_ns);

cleanup:
	/* clean up */
	if (out != stdout) {
		fclose(out);
		unlink(tmp_path);
	}
	ring_buffer__free(rb);
	btf__free(vmlinux);
	kmlb_collect_bpf__destroy(skel);
	return err;
}
