// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_work - the guest's workloads for measuring the module's side effects.
 *
 *   kmlb_work fibo    N CUTOFF          recursive thread-spawning Fibonacci
 *   kmlb_work compute THREADS ITERS     integer hashing, compute-bound
 *   kmlb_work memory  THREADS MB PASSES streaming triad, memory-bound
 *
 * The load phases themselves run vm/kmlb_load (the collector's workload).
 *
 * `fibo` is like the "fibo" of Chen et al.: fib(n) spawns a thread for
 * fib(n-1), computes fib(n-2) itself and joins; below CUTOFF it recurses
 * sequentially. The benchmarks print "elapsed_ns N result R" on stdout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void *map_bytes(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("kmlb_work: mmap");
		exit(1);
	}
	memset(p, 1, n);
	return p;
}

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg)) {
		perror("kmlb_work: pthread_create");
		exit(1);
	}
}

/* ---- fibo ---- */

struct fib_arg {
	int n, cutoff;
	uint64_t result;
};

static uint64_t fib_seq(int n)
{
	return n < 2 ? (uint64_t)n : fib_seq(n - 1) + fib_seq(n - 2);
}

static void *fib_thread(void *arg)
{
	struct fib_arg *a = arg;
	struct fib_arg left = { a->n - 1, a->cutoff, 0 };
	struct fib_arg right = { a->n - 2, a->cutoff, 0 };
	pthread_t t;

	if (a->n <= a->cutoff) {
		a->result = fib_seq(a->n);
		return NULL;
	}
	spawn(&t, fib_thread, &left);
	fib_thread(&right);
	pthread_join(t, NULL);
	a->result = left.result + right.result;
	return NULL;
}

/* ---- compute ---- */

struct compute_arg {
	uint64_t iters, result;
};

static void *compute_thread(void *arg)
{
	struct compute_arg *a = arg;
	uint64_t s = 0x243f6a8885a308d3ULL ^ a->iters, acc = 0, i;

	for (i = 0; i < a->iters; i++)
		acc += xorshift(&s) >> 60;
	a->result = acc;
	return NULL;
}

/* ---- memory ---- */

struct memory_arg {
	double *a, *b, *c;
	size_t n;
	int passes;
};

static void *memory_thread(void *arg)
{
	struct memory_arg *m = arg;
	size_t i;
	int p;

	for (p = 0; p < m->passes; p++)
		for (i = 0; i < m->n; i++)
			m->a[i] = m->b[i] + 3.0 * m->c[i];
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t t0, result = 0;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: kmlb_work fibo N CUTOFF | compute THREADS ITERS |\n"
			"       memory THREADS MB PASSES\n");
		return 2;
	}
	t0 = now_ns();
	if (!strcmp(argv[1], "fibo")) {
		struct fib_arg a = { atoi(argv[2]), atoi(argv[3]), 0 };

		fib_thread(&a);
		result = a.result;
	} else if (!strcmp(argv[1], "compute")) {
		int n = atoi(argv[2]);
		pthread_t *t = calloc(n, sizeof(*t));
		struct compute_arg *a = calloc(n, sizeof(*a));

		/* unequal shares (1x..2x) so threads finish at different times */
		for (i = 0; i < n; i++) {
			a[i].iters = strtoull(argv[3], NULL, 10) * (n + i) / n;
			spawn(&t[i], compute_thread, &a[i]);
		}
		for (i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			result += a[i].result;
		}
	} else if (!strcmp(argv[1], "memory") && argc >= 5) {
		int n = atoi(argv[2]);
		size_t doubles = (size_t)atoi(argv[3]) * (1 << 20) / 3 / sizeof(double);
		pthread_t *t = calloc(n, sizeof(*t));
		struct memory_arg *m = calloc(n, sizeof(*m));

		for (i = 0; i < n; i++) {
			m[i].n = doubles;
			m[i].passes = atoi(argv[4]);
			m[i].a = map_bytes(doubles * sizeof(double));
			m[i].b = map_bytes(doubles * sizeof(double));
			m[i].c = map_bytes(doubles * sizeof(double));
		}
		t0 = now_ns();	/* the arrays are faulted in: time the passes */
		for (i = 0; i < n; i++)
			spawn(&t[i], memory_thread, &m[i]);
		for (i = 0; i < n; i++) {
			pthread_join(t[i], NULL);
			result += (uint64_t)m[i].a[m[i].n / 2];
		}
	} else {
		fprintf(stderr, "kmlb_work: unknown command %s\n", argv[1]);
		return 2;
	}
	printf("elapsed_ns %llu result %llu\n", (unsigned long long)(now_ns() - t0),
	       (unsigned long long)result);
	return 0;
}
