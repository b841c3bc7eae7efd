// Benchmark-only instrumentation: the executable that links this defines malloc, calloc and
// realloc, which the dynamic linker resolves ahead of libc's, and counts every call before
// forwarding to glibc's own implementation. Not linked into the agent.
#include "malloc_counter.h"
#include <stddef.h>
#include <malloc.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static uint64_t count;

void *malloc(size_t n) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }

uint64_t coop_malloc_count(void) { return __atomic_load_n(&count, __ATOMIC_RELAXED); }

uint64_t coop_malloc_bytes_in_use(void) { return (uint64_t)mallinfo2().uordblks; }
