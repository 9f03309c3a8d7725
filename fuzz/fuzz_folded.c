/* fuzz_folded.c: libFuzzer harness of the folded-stacks reader
 * (readers.h's strop_load_folded). */
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
    if (strop_load_folded(&prof, (const char *)data, size, 0.01) == STROP_LOAD_OK)
        fuzz_use(&prof);
    strop_load_free(&prof);
    return 0;
}
