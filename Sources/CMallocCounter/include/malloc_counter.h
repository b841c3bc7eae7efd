#ifndef COOPEDGE_MALLOC_COUNTER_H
#define COOPEDGE_MALLOC_COUNTER_H
#include <stdint.h>
/// Number of malloc/calloc/realloc calls in this process so far (benchmarks only).
uint64_t coop_malloc_count(void);
#endif
