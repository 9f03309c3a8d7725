/* fuzz_pstats.c: libFuzzer harness of the pstats reader (pstats.h's
 * strop_pstats_read), and of what strop convert does with what it read:
 * rebuilding an approximate call tree from the totals (strop_load_pstats).
 * Keys are matched by their content here as the Python dict matches them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_string(const StropPstatsFile *f, const uint8_t *data, uint32_t a, uint32_t b)
{
    const StropPstatsString *x = &f->strings[a], *y = &f->strings[b];
    return x->len == y->len && memcmp(data + x->offset, data + y->offset, x->len) == 0;
}

/* The entry whose key equals key `k`, or UINT32_MAX (a linear search: inputs
 * are small here). */
static uint32_t
entry_of(const StropPstatsFile *f, const uint8_t *data, uint32_t k)
{
    const StropPstatsKey *key = &f->keys[k];
    for (size_t e = 0; e < f->n_entries && e < 4096; e++) {
        const StropPstatsKey *o = &f->keys[f->entries[e].key];
        if (o->name == UINT32_MAX || key->name == UINT32_MAX) {
            if (o == key)
                return (uint32_t)e;
            continue;
        }
        if (o->line == key->line && same_string(f, data, o->file, key->file) &&
            same_string(f, data, o->name, key->name))
            return (uint32_t)e;
    }
    return UINT32_MAX;
}

static double
number(const StropPstatsNum *num, unsigned floats, int k)
{
    return (floats >> k) & 1 ? num[k].f : (double)num[k].i;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StropPstatsFile file = {.code_layout = STROP_PSTATS_CODE_311};
    char error[200];
    StropPstatsFunc *funcs = NULL;
    StropPstatsEdge *edges = NULL;
    size_t n_edges = 0;
    int rc = strop_pstats_read(&file, data, size, error, sizeof error);
    if (rc == STROP_PSTATS_FORMAT && strncmp(error, "byte ", 5) != 0)
        abort(); /* every error names its byte */
    if (rc != STROP_PSTATS_OK || file.n_entries > 4096)
        goto done;
    for (uint32_t i = 0; i < file.n_strings; i++)
        if (file.strings[i].offset + file.strings[i].len > size)
            abort();
    funcs = strop_calloc(file.n_entries + 1, sizeof *funcs);
    edges = strop_calloc(file.n_callers + 1, sizeof *edges);
    if (funcs == NULL || edges == NULL)
        goto done;
    for (size_t e = 0; e < file.n_entries; e++) {
        const StropPstatsEntry *entry = &file.entries[e];
        const StropPstatsKey *key = &file.keys[entry->key];
        uint32_t name = key->name;
        if (name == UINT32_MAX) { /* a code object's: its co_name */
            if (key->code >= file.n_codes)
                abort();
            name = file.codes[key->code].name;
        }
        funcs[e].label.file = (const char *)data + file.strings[key->file].offset;
        funcs[e].label.file_len = file.strings[key->file].len;
        funcs[e].label.name = (const char *)data + file.strings[name].offset;
        funcs[e].label.name_len = file.strings[name].len;
        funcs[e].label.line = (long)key->line;
        funcs[e].nc = entry->floats & 2 ? 0 : (uint64_t)entry->num[1].i;
        funcs[e].tt = number(entry->num, entry->floats, 2);
        funcs[e].ct = number(entry->num, entry->floats, 3);
        for (size_t c = entry->first_caller; c < entry->first_caller + entry->n_callers; c++) {
            const StropPstatsCaller *caller = &file.callers[c];
            uint32_t from = entry_of(&file, data, caller->key);
            if (from == UINT32_MAX || caller->bare)
                continue;
            edges[n_edges].caller = from;
            edges[n_edges].callee = (uint32_t)e;
            edges[n_edges].nc = caller->floats & 1 ? 0 : (uint64_t)caller->num[0].i;
            edges[n_edges].ct = number(caller->num, caller->floats, 3);
            n_edges++;
        }
    }
    {
        StropLoaded prof;
        if (strop_load_init(&prof) == STROP_LOAD_OK) {
            if (strop_load_pstats(&prof, funcs, (uint32_t)file.n_entries, edges, n_edges) ==
                STROP_LOAD_OK)
                fuzz_use(&prof);
            strop_load_free(&prof);
        }
    }
done:
    strop_free(funcs);
    strop_free(edges);
    strop_pstats_file_free(&file);
    return 0;
}
