// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kmlb_mul128_test - kmlb_ge_mul128() against the compiler's __int128 on
 * edge values and 2,000,000 seeded random triples. Exit 0 ok, 1 mismatch.
 */
#include <limits.h>
#include <stdio.h>
#include "kmlb_mul128.h"

__extension__ typedef __int128 i128; /* a GNU C extension, the kernel's own choice */

static int reference(long long avg, long long key, long long load)
{
	if (load < 0)
		load = 0;
	return (i128)avg >= (i128)key * load;
}

static unsigned long long state = 0x9e3779b97f4a7c15ULL;

static unsigned long long next(void) /* xorshift64* */
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dULL;
}

/* random value of a random magnitude: small, 32-bit, or full 64-bit */
static long long draw(void)
{
	unsigned long long v = next();

	switch (next() % 4) {
	case 0:
		return (long long)(v % 2048) - 1024;
	case 1:
		return (long long)(int)v;
	default:
		return (long long)v;
	}
}

int main(void)
{
	static const long long edge[] = {
		0, 1, -1, 2, -2, 1024, 1048576, 0xffffffffLL, -0xffffffffLL, 0x100000000LL,
		LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1, 1LL << 62, -(1LL << 62),
	};
	const int n = sizeof(edge) / sizeof(edge[0]);
	long long bad = 0, checked = 0;
	int a, k, l;
	long i;

	for (a = 0; a < n; a++)
		for (k = 0; k < n; k++)
			for (l = 0; l < n; l++, checked++)
				if (kmlb_ge_mul128(edge[a], edge[k], edge[l]) !=
				    reference(edge[a], edge[k], edge[l])) {
					if (bad++ < 5)
						printf("mismatch: avg=%lld key=%lld load=%lld\n", edge[a],
						       edge[k], edge[l]);
				}
	for (i = 0; i < 2000000; i++, checked++) {
		long long av = draw(), ke = draw(), lo = draw();

		/* also the exact boundary avg == key * load when it fits */
		if (i % 3 == 0 && ke > -(1LL << 31) && ke < (1LL << 31) && lo >= 0 && lo < (1LL << 31))
			av = ke * lo;
		if (kmlb_ge_mul128(av, ke, lo) != reference(av, ke, lo) && bad++ < 5)
			printf("mismatch: avg=%lld key=%lld load=%lld\n", av, ke, lo);
	}
	printf("kmlb_mul128_test: %lld cases, %lld mismatches\n", checked, bad);
	return bad != 0;
}
