/* mem.h: the one allocation wrapper for the engine's own memory.
 *
 * Every allocation of engine data (trees, stacks, buffers) goes through these,
 * so that a test can make the Nth one fail and prove that running out of
 * memory is survived.  Pure C; not thread-safe for the fault switch, which
 * tests set while nothing else runs.
 */
#ifndef STROP_MEM_H
#define STROP_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc/free.  They return NULL when out of memory, or
 * when the fault switch says so.  strop_free(NULL) does nothing. */
void *strop_malloc(size_t size);
void *strop_calloc(size_t count, size_t size);
void *strop_realloc(void *ptr, size_t size);
void strop_free(void *ptr);

/* Makes the allocation `n` calls from now fail (1 = the next one), and every
 * one after it while `sticky`; 0 switches faults off. */
void strop_mem_fail_after(long n, int sticky);

/* How many allocations the fault switch has failed since it was last set. */
long strop_mem_failures(void);

#endif /* STROP_MEM_H */
