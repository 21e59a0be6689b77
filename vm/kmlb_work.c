// SPDX-License-Identifier: GPL-2.0
/*
 * kmlb_work - the guest's one workload program (every job: collect,
 * deploy, soak).
 *
 *   kmlb_work load THREADS SECONDS [--procs P] [--private-mb M]
 *                  [--shared-mb M] [--seed S]
 *                                   on/off threads (the balancer's food)
 *   kmlb_work fibo    N CUTOFF          recursive thread-spawning Fibonacci
 *   kmlb_work compute THREADS ITERS     integer hashing, compute-bound
 *   kmlb_work memory  THREADS MB PASSES streaming triad, memory-bound
 *
 * `load` keeps run queues changing: THREADS threads split over P processes
 * (default 1), each working and sleeping with its own duty cycle (25..75 %)
 * and random periods (2..40 ms), touching its own M MB (default 2) and a
 * buffer shared by the threads of its process (default 32 MB): with
 * kernel.numa_balancing on this gives NUMA hinting faults, per task and per
 * NUMA group. Perfectly balanced spinners would give the balancer nothing
 * to decide. Thread i of process p draws from seed (S + p, i): S = 0 and
 * one process are the module job's streams, the collector job runs two
 * processes (two NUMA groups).
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
#include <sys/wait.h>
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

/*
 * Threads get 256 KiB stacks, not glibc's 8 MiB: with transparent huge
 * pages "always" (Debian's default) the first touch of an 8 MiB stack may
 * fault in and clear a whole 2 MiB page, or not, depending on what memory
 * is free at that moment. Under -icount that was about 0.27 M instructions
 * per thread at random (fibo: 20 % spread between repetitions, 2-3 % with
 * small stacks); a stack below 2 MiB, between guard pages, never gets a
 * huge page.
 */
#define STACK_BYTES (256 << 10)

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;

	if (pthread_attr_init(&a) || pthread_attr_setstacksize(&a, STACK_BYTES) ||
	    pthread_create(t, &a, fn, arg)) {
		perror("kmlb_work: pthread_create");
		exit(1);
	}
	pthread_attr_destroy(&a);
}

/* ---- load ---- */

#define PAGE_BYTES 4096

struct loader {
	uint64_t rng, end_ns;
	unsigned char *priv, *shared;
	size_t priv_bytes, shared_bytes;
};

static void *load_thread(void *arg)
{
	struct loader *l = arg;
	double duty = 0.25 + 0.5 * (xorshift(&l->rng) >> 11) / 9007199254740992.0;
	size_t pp = 0, sp = 0;

	while (now_ns() < l->end_ns) {
		uint64_t period = 2000000 + xorshift(&l->rng) % 38000000;
		uint64_t busy = (uint64_t)(period * duty), t = now_ns();
		struct timespec rest = { 0, (long)(period - busy) };

		while (now_ns() - t < busy) {
			int i;

			/* one write per page, private then shared */
			for (i = 0; i < 64; i++) {
				l->priv[pp]++;
				pp = (pp + PAGE_BYTES) % l->priv_bytes;
				l->shared[sp]++;
				sp = (sp + 7 * PAGE_BYTES) % l->shared_bytes;
			}
		}
		nanosleep(&rest, NULL);
	}
	return NULL;
}

struct load_opts {
	int threads, procs;
	double seconds;
	size_t priv_mb, shared_mb;
	uint64_t seed;
};

/* One process of the load: its threads share one buffer. */
static int load_proc(const struct load_opts *o, int threads, uint64_t seed)
{
	pthread_t *t = calloc(threads, sizeof(*t));
	struct loader *l = calloc(threads, sizeof(*l));
	size_t shared_bytes = o->shared_mb << 20;
	unsigned char *shared = map_bytes(shared_bytes);
	uint64_t end = now_ns() + (uint64_t)(o->seconds * 1e9);
	int i;

	if (!t || !l)
		return 1;
	for (i = 0; i < threads; i++) {
		/* seed 0 gives thread i the stream 0x9e37...*(i+1) */
		l[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) ^ seed * 0xbf58476d1ce4e5b9ULL;
		if (!l[i].rng)
			l[i].rng = 1;	/* xorshift's fixed point */
		l[i].end_ns = end;
		l[i].priv_bytes = o->priv_mb << 20;
		l[i].priv = map_bytes(l[i].priv_bytes);
		l[i].shared = shared;
		l[i].shared_bytes = shared_bytes;
		spawn(&t[i], load_thread, &l[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int parse_size(const char *flag, const char *v, size_t *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v < '0' || *v > '9' || *end || n < 1 || n > 4096) {
		fprintf(stderr, "kmlb_work: %s: a size in MB from 1 to 4096, not '%s'\n", flag, v);
		return -1;
	}
	*out = n;
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	struct load_opts o = { .procs = 1, .priv_mb = 2, .shared_mb = 32, .seed = 0 };
	int i, rc = 0;

	o.threads = atoi(argv[2]);
	o.seconds = atof(argv[3]);
	for (i = 4; i < argc; i += 2) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "kmlb_work: %s needs a value\n", f);
			return 2;
		}
		if (!strcmp(f, "--procs"))
			o.procs = atoi(v);
		else if (!strcmp(f, "--private-mb")) {
			if (parse_size(f, v, &o.priv_mb))
				return 2;
		} else if (!strcmp(f, "--shared-mb")) {
			if (parse_size(f, v, &o.shared_mb))
				return 2;
		} else if (!strcmp(f, "--seed"))
			o.seed = strtoull(v, NULL, 10);
		else {
			fprintf(stderr, "kmlb_work: load: unknown option %s\n", f);
			return 2;
		}
	}
	if (o.threads < 1 || o.procs < 1 || o.seconds <= 0) {
		fprintf(stderr, "kmlb_work: load: THREADS >= 1, SECONDS > 0, --procs >= 1\n");
		return 2;
	}
	if (o.procs == 1)
		return load_proc(&o, o.threads, o.seed);
	if (o.procs > o.threads)
		o.procs = o.threads;
	for (i = 0; i < o.procs; i++) {
		int n = o.threads / o.procs + (i < o.threads % o.procs);
		pid_t pid = fork();

		if (pid < 0) {
			perror("kmlb_work: fork");
			return 1;
		}
		if (pid == 0)
			_exit(load_proc(&o, n, o.seed + i));
	}
	for (i = 0; i < o.procs; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	}
	return rc;
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
		fprintf(stderr, "usage: kmlb_work load THREADS SECONDS [--procs P] [--private-mb M]\n"
			"                      [--shared-mb M] [--seed S] |\n"
			"       fibo N CUTOFF | compute THREADS ITERS | memory THREADS MB PASSES\n");
		return 2;
	}
	if (!strcmp(argv[1], "load"))
		return cmd_load(argc, argv);
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
