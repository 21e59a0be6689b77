// SPDX-License-Identifier: MIT
/*
 * kmlb_load - a workload that keeps the load balancer busy.
 *
 * PROCS processes with THREADS threads in all. Each thread works for a while
 * and sleeps for a while, with its own duty cycle (25..75 %, mean 50 %) and
 * random periods (2..40 ms), so run queues keep changing length and the
 * balancer keeps calling can_migrate_task(). While working, a thread writes
 * to its private buffer and to a buffer shared by the threads of its
 * process: with kernel.numa_balancing on, this produces NUMA hinting faults
 * (per task and per NUMA group). Perfectly balanced spinners would almost
 * never be considered for migration.
 *
 * usage: kmlb_load --threads N --seconds S [--procs P] [--private-mb M]
 *                  [--shared-mb M] [--seed X]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096

struct worker {
	pthread_t tid;
	uint64_t rng;
	double duty;		/* fraction of each period spent working */
	unsigned char *priv;
	size_t priv_bytes;
	unsigned char *shared;
	size_t shared_bytes;
	double end_s;
	unsigned long long pages_touched;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: small, seeded, the same everywhere. */
static uint64_t next_u64(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static double next_unit(uint64_t *s)
{
	return (next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void *map_bytes(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("kmlb_load: mmap");
		exit(1);
	}
	memset(p, 1, n);
	return p;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t pp = 0, sp = 0;

	while (now_s() < w->end_s) {
		double period = 0.002 + 0.038 * next_unit(&w->rng);
		double busy = period * w->duty, t = now_s();
		struct timespec rest;
		double idle;

		while (now_s() - t < busy) {
			int i;

			/* one write per page, private then shared */
			for (i = 0; i < 64; i++) {
				w->priv[pp] += 1;
				pp = (pp + PAGE_BYTES) % w->priv_bytes;
				w->shared[sp] += 1;
				sp = (sp + PAGE_BYTES * 7) % w->shared_bytes;
			}
			w->pages_touched += 128;
		}
		idle = period - busy;
		rest.tv_sec = 0;
		rest.tv_nsec = (long)(idle * 1e9);
		if (rest.tv_nsec > 0)
			nanosleep(&rest, NULL);
	}
	return NULL;
}

static int run_proc(int threads, double seconds, size_t priv_mb,
		    size_t shared_mb, uint64_t seed)
{
	struct worker *ws = calloc(threads, sizeof(*ws));
	unsigned char *shared = map_bytes(shared_mb << 20);
	double end = now_s() + seconds;
	unsigned long long pages = 0;
	int i;

	if (!ws)
		return 1;
	for (i = 0; i < threads; i++) {
		struct worker *w = &ws[i];

		w->rng = seed * 0x9e3779b97f4a7c15ULL + i + 1;
		w->duty = 0.25 + 0.5 * next_unit(&w->rng);
		w->priv_bytes = priv_mb << 20;
		w->priv = map_bytes(w->priv_bytes);
		w->shared = shared;
		w->shared_bytes = shared_mb << 20;
		w->end_s = end;
		if (pthread_create(&w->tid, NULL, work, w)) {
			perror("kmlb_load: pthread_create");
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		pages += ws[i].pages_touched;
	}
	fprintf(stderr, "kmlb_load: pid %d threads=%d pages_touched=%llu\n",
		getpid(), threads, pages);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "private-mb", required_argument, NULL, 'm' },
		{ "shared-mb", required_argument, NULL, 'M' },
		{ "seed", required_argument, NULL, 'S' },
		{},
	};
	int threads = 8, procs = 2, c, i, rc = 0;
	size_t priv_mb = 4, shared_mb = 32;
	double seconds = 10;
	uint64_t seed = 1;

	while ((c = getopt_long(argc, argv, "t:s:p:m:M:S:", opts, NULL)) != -1) {
		switch (c) {
		case 't': threads = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'p': procs = atoi(optarg); break;
		case 'm': priv_mb = strtoul(optarg, NULL, 10); break;
		case 'M': shared_mb = strtoul(optarg, NULL, 10); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: kmlb_load --threads N --seconds S "
				"[--procs P] [--private-mb M] [--shared-mb M] [--seed X]\n");
			return 2;
		}
	}
	if (threads < 1 || procs < 1 || priv_mb < 1 || shared_mb < 1) {
		fprintf(stderr, "kmlb_load: bad arguments\n");
		return 2;
	}
	if (procs > threads)
		procs = threads;
	for (i = 0; i < procs; i++) {
		int n = threads / procs + (i < threads % procs);
		pid_t pid = fork();

		if (pid < 0) {
			perror("kmlb_load: fork");
			return 1;
		}
		if (pid == 0)
			_exit(run_proc(n, seconds, priv_mb, shared_mb, seed + i));
	}
	for (i = 0; i < procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	}
	return rc;
}
