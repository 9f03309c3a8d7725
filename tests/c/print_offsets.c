/* print_offsets.c: prints the committed table (src/strop/_engine/pyoffsets.h)
 * for one version, "name value" a line, in probe_offsets.c's order, so that
 * tests/test_remote.py can compare the two outputs.  Usage: print_offsets 3.11
 */
#include <stdio.h>
#include <stdlib.h>

#include "pyoffsets.h"

#define P(field) printf("%s %ld\n", #field, (long)row->field)
#define D(field) printf("debug_%s %ld\n", #field, (long)strop_debug_layout_313.field)

int
main(int argc, char **argv)
{
    int major, minor;
    const StropPyOffsets *row;
    if (argc != 2 || sscanf(argv[1], "%d.%d", &major, &minor) != 2)
        return 2;
    row = strop_pyoffsets_find(major << 8 | minor);
    if (row == NULL)
        return 1;
    printf("version %d\n", row->version);
    P(runtime_interpreters_head);
    P(interp_next);
    P(interp_threads_head);
    P(tstate_next);
    P(tstate_thread_id);
    P(tstate_native_thread_id);
    P(tstate_frame);
    P(cframe_current_frame);
    P(cframe_previous);
    P(tstate_datastack_chunk);
    P(frame_size);
    P(frame_back);
    P(frame_code);
    P(frame_instr);
    P(frame_lasti);
    P(frame_owner);
    P(code_size);
    P(code_filename);
    P(code_name);
    P(code_qualname);
    P(code_adaptive);
    P(code_firstlineno);
    P(code_framesize);
    P(code_nlocalsplus);
    P(code_stacksize);
    P(frame_specials);
    P(code_linetable);
    P(object_type);
    P(type_name);
    P(var_size);
    P(bytes_data);
    P(unicode_length);
    P(unicode_state);
    P(unicode_ascii_size);
    P(unicode_compact_size);
    P(unicode_state_ascii);
    P(unicode_state_kind2);
    P(interp_modules);
    P(module_dict);
    P(dict_keys);
    P(dict_values);
    P(dictkeys_size);
    P(dictkeys_log2_index_bytes);
    P(dictkeys_kind);
    P(dictkeys_nentries);
    P(dictkeys_indices);
    P(dictkeys_general_entry);
    P(dictkeys_unicode_entry);
    P(dictvalues_values);
    P(dictvalues_valid);
    P(long_size);
    P(long_digits);
    P(long_shift);
    P(long_non_size_bits);
    P(type_basicsize);
    P(type_flags);
    P(type_dictoffset);
    P(heaptype_cached_keys);
    P(tpflags_managed_dict);
    P(object_dict_before);
    P(tpflags_inline_values);
    P(object_values_before);
    P(runtime_gil);
    P(interp_gil);
    P(gil_size);
    P(runtime_gc);
    P(interp_gc);
    P(gc_generations);
    P(gc_permanent);
    P(gc_generation_size);
    P(gc_n_generations);
    P(gc_collecting);
    P(gc_head_size);
    P(type_itemsize);
    P(list_allocated);
    P(tpflags_have_gc);
    P(tpflags_list_subclass);
    P(tpflags_dict_subclass);
    P(tpflags_type_subclass);
    P(tpflags_long_subclass);
    P(tpflags_unicode_subclass);
    P(tpflags_heaptype);
    P(type_dict);
    P(heaptype_qualname);
    P(tpflags_preheader);
    if (row->version >= 0x030D) {
        D(cookie);
        D(version);
        D(runtime_interpreters_head);
        D(interp_next);
        D(interp_threads_head);
        D(tstate_next);
        D(tstate_current_frame);
        D(tstate_thread_id);
        D(tstate_native_thread_id);
        D(frame_size);
        D(frame_previous);
        D(frame_executable);
        D(frame_instr_ptr);
        D(frame_owner);
        D(code_size);
        D(code_filename);
        D(code_name);
        D(code_qualname);
        D(code_linetable);
        D(code_firstlineno);
        D(code_adaptive);
        D(object_type);
        D(type_name);
        D(bytes_size);
        D(bytes_data);
        D(unicode_state);
        D(unicode_length);
        D(unicode_ascii_size);
        D(struct_size);
        D(interp_modules);
        D(tstate_datastack_chunk);
        D(interp_gc);
        D(gc_collecting);
    }
    return 0;
}
