/*
 * Timing and order statistics shared by the C benchmark tools.
 * bench_now_ms: a monotonic clock in milliseconds (only differences mean
 * anything).  bench_sort_ms sorts `n` values ascending in place.
 * No allocation, no state.
 */
#ifndef CONCIERGE_BENCH_STATS_H
#define CONCIERGE_BENCH_STATS_H

#include <stddef.h>

double bench_now_ms(void);
void bench_sort_ms(double *values, size_t n);

#endif
