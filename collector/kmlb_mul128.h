/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kmlb_mul128.h - avg >= key * load with the product in 128 bits, as the
 * kernel's vruntime_eligible() computes it (avg >= (__int128)key * load),
 * for the BPF side, which has no 128-bit arithmetic: four 32 x 32 partial
 * products. load >= 0 (a sum of weights); a negative load counts as 0.
 * Tested against __int128 by kmlb_mul128_test.c (make -C collector test).
 */
#ifndef __KMLB_MUL128_H
#define __KMLB_MUL128_H

static inline __attribute__((always_inline)) int kmlb_ge_mul128(long long avg, long long key,
								long long load)
{
	unsigned long long k = key < 0 ? -(unsigned long long)key : (unsigned long long)key;
	unsigned long long l = load < 0 ? 0 : (unsigned long long)load;
	unsigned long long kl = k & 0xffffffffULL, kh = k >> 32;
	unsigned long long ll = l & 0xffffffffULL, lh = l >> 32;
	unsigned long long p0 = kl * ll, p1 = kl * lh, p2 = kh * ll, p3 = kh * lh;
	unsigned long long mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
	unsigned long long lo = (p0 & 0xffffffffULL) | (mid << 32);
	unsigned long long hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
	long long avg_hi = avg < 0 ? -1 : 0;

	if (key < 0) { /* two's complement negation of hi:lo */
		lo = ~lo + 1;
		hi = ~hi + (lo == 0);
	}
	if ((long long)hi != avg_hi)
		return avg_hi > (long long)hi;
	return (unsigned long long)avg >= lo;
}

#endif /* __KMLB_MUL128_H */
