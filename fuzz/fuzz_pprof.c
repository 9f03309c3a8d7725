/* fuzz_pprof.c: libFuzzer harness of the pprof reader, gzip layer included
 * (readers.h's strop_load_pprof).  The gzip cap is 64 MiB here so that the
 * harness's RSS limit tests the cap's bookkeeping, not the machine. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StropLoaded prof;
    if (strop_load_init(&prof) != STROP_LOAD_OK)
        return 0;
    prof.max_inflated = (size_t)64 << 20;
    if (strop_load_pprof(&prof, data, size) == STROP_LOAD_OK)
        fuzz_use(&prof);
    strop_load_free(&prof);
    return 0;
}
