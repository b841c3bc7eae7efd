#ifndef COOPEDGE_MALLOC_COUNTER_H
#define COOPEDGE_MALLOC_COUNTER_H
#include <stdint.h>
/// Number of malloc/calloc/realloc calls in this process so far (benchmarks only).
uint64_t coop_malloc_count(void);
/// Bytes in use in malloc'd blocks (glibc mallinfo2().uordblks), for memory-per-structure figures.
uint64_t coop_malloc_bytes_in_use(void);
#endif
