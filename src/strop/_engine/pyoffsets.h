/* pyoffsets.h: where CPython keeps what the remote reader reads, per version.
 *
 * One row per CPython minor version 3.8 to 3.13: the offsets of the fields
 * remote.c follows from _PyRuntime to a frame's code object, and the layout
 * of the str and bytes objects it reads names and line tables from.  -1 marks
 * a field the version does not have.  Nothing else in strop knows a CPython
 * struct layout.  On 3.13+ the target's own _Py_DebugOffsets (the first field
 * of _PyRuntime) overrides the row, through StropDebugLayout: where each
 * offset sits inside that struct.
 *
 * The numbers come from tests/c/probe_offsets.c compiled against each
 * version's own headers (with Py_BUILD_CORE); tests/test_remote.py checks
 * that this file still says the same (x86-64 Linux, the only platform the
 * reader supports).  Pure C, no Python.h.
 */
#ifndef STROP_PYOFFSETS_H
#define STROP_PYOFFSETS_H

#include <stddef.h>

typedef struct StropPyOffsets {
    int version; /* 0x0308 ... 0x030D */
    int runtime_interpreters_head; /* _PyRuntimeState.interpreters.head */
    int interp_next; /* PyInterpreterState.next */
    int interp_threads_head; /* tstate_head (3.8-3.10), threads.head (3.11+) */
    int tstate_next; /* PyThreadState.next */
    int tstate_thread_id; /* thread_id: the pthread_t, threading's ident */
    int tstate_native_thread_id; /* native_thread_id: the kernel's TID (3.11+) */
    int tstate_frame; /* frame (3.8-3.10), cframe (3.11, 3.12), current_frame (3.13+) */
    int cframe_current_frame; /* _PyCFrame.current_frame (3.11, 3.12) */
    int cframe_previous; /* _PyCFrame.previous (3.11, 3.12): the calling eval loop's */
    int tstate_datastack_chunk; /* datastack_chunk (3.11+), then datastack_top and _limit */
    int frame_size; /* sizeof PyFrameObject (3.8-3.10) or _PyInterpreterFrame */
    int frame_back; /* f_back, previous */
    int frame_code; /* f_code, f_executable (3.13) */
    int frame_instr; /* prev_instr (3.11, 3.12), instr_ptr (3.13+): the instruction running */
    int frame_lasti; /* f_lasti: byte offset (3.8, 3.9), code units (3.10) */
    int frame_owner; /* owner (3.11+); 3 is a C-stack shim frame (3.12+) */
    int code_size; /* sizeof PyCodeObject */
    int code_filename; /* co_filename */
    int code_name; /* co_name */
    int code_qualname; /* co_qualname (3.11+) */
    int code_adaptive; /* co_code_adaptive: the instructions (3.11+) */
    int code_firstlineno; /* co_firstlineno (int) */
    int code_framesize; /* co_framesize: a frame's words on the data stack (3.12+) */
    /* 3.11: a frame's words on the data stack are co_nlocalsplus + co_stacksize
     * + FRAME_SPECIALS_SIZE (frame_specials) */
    int code_nlocalsplus, code_stacksize, frame_specials;
    int code_linetable; /* co_lnotab (3.8, 3.9), co_linetable (3.10+) */
    int object_type; /* PyObject.ob_type */
    int type_name; /* PyTypeObject.tp_name */
    int var_size; /* PyVarObject.ob_size */
    int bytes_data; /* PyBytesObject.ob_sval */
    int unicode_length; /* PyASCIIObject.length */
    int unicode_state; /* PyASCIIObject.state */
    int unicode_ascii_size; /* sizeof PyASCIIObject: where compact ASCII data starts */
    int unicode_compact_size; /* sizeof PyCompactUnicodeObject: where other compact data starts */
    int unicode_state_ascii; /* state's first byte for a compact ASCII str of kind 1 */
    int unicode_state_kind2; /* state's first byte for a compact str of kind 2 */
    /* Thread names (remote_names.c): sys.modules -> threading._active ->
     * each Thread's _name.  Fields the headers of 3.8 to 3.10 do not show are
     * checked on the running interpreter (tests/helpers/probe_layout.py). */
    int interp_modules; /* modules (3.8-3.11), imports.modules (3.12+) */
    int module_dict; /* PyModuleObject.md_dict */
    int dict_keys; /* PyDictObject.ma_keys */
    int dict_values; /* PyDictObject.ma_values: NULL unless split */
    int dictkeys_size; /* dk_size (Py_ssize_t, 3.8-3.10), dk_log2_size (uint8_t, 3.11+) */
    int dictkeys_log2_index_bytes; /* dk_log2_index_bytes (3.11+) */
    int dictkeys_kind; /* dk_kind (3.11+): 0 general, else unicode entries */
    int dictkeys_nentries; /* dk_nentries (Py_ssize_t) */
    int dictkeys_indices; /* dk_indices: the index table, then the entries */
    int dictkeys_general_entry; /* sizeof PyDictKeyEntry {hash, key, value} */
    int dictkeys_unicode_entry; /* sizeof PyDictUnicodeEntry {key, value} (3.11+) */
    int dictvalues_values; /* PyDictValues.values (3.11+); 0: ma_values is the array */
    int dictvalues_valid; /* PyDictValues.valid (3.13+) */
    int long_size; /* ob_size (3.8-3.11), long_value.lv_tag (3.12+) */
    int long_digits; /* ob_digit */
    int long_shift; /* PyLong_SHIFT: bits per digit */
    int long_non_size_bits; /* _PyLong_NON_SIZE_BITS: lv_tag's sign bits below the count (3.12+) */
    int type_basicsize; /* PyTypeObject.tp_basicsize */
    int type_flags; /* PyTypeObject.tp_flags */
    int type_dictoffset; /* PyTypeObject.tp_dictoffset (3.8-3.10) */
    int heaptype_cached_keys; /* PyHeapTypeObject.ht_cached_keys: a split dict's keys */
    int tpflags_managed_dict; /* Py_TPFLAGS_MANAGED_DICT (3.11+) */
    int object_dict_before; /* bytes before an object: its dict, or dict-or-values (3.12) */
    int tpflags_inline_values; /* Py_TPFLAGS_INLINE_VALUES (3.13+): values at tp_basicsize */
    int object_values_before; /* bytes before an object: its values pointer (3.11) */
    /* The GIL (struct _gil_runtime_state), whose condition variable and mutex
     * a thread waiting for it sleeps on: the futex address in its system call
     * falls inside it (sampler: the <waiting: GIL> leaf). */
    int runtime_gil; /* _PyRuntimeState.ceval.gil, the struct itself (3.8-3.11) */
    int interp_gil; /* PyInterpreterState.ceval.gil, a pointer to it (3.12+) */
    int gil_size; /* sizeof struct _gil_runtime_state */
    /* The collector's lists (remote_heap.c): struct _gc_runtime_state sits
     * in _PyRuntimeState (3.8) or in PyInterpreterState (3.9+); in it
     * gc_n_generations struct gc_generation (whose first field is the list's
     * PyGC_Head), then the permanent generation (gc.freeze()).  3.13 has the
     * generational collector still (the incremental one is 3.14's). */
    int runtime_gc; /* _PyRuntimeState.gc (3.8) */
    int interp_gc; /* PyInterpreterState.gc (3.9+) */
    int gc_generations; /* _gc_runtime_state.generations */
    int gc_permanent; /* _gc_runtime_state.permanent_generation */
    int gc_generation_size; /* sizeof struct gc_generation */
    int gc_n_generations; /* NUM_GENERATIONS */
    int gc_collecting; /* _gc_runtime_state.collecting: 1 while a collection runs */
    int gc_head_size; /* sizeof PyGC_Head: {_gc_next, _gc_prev}, before the object */
    int type_itemsize; /* PyTypeObject.tp_itemsize */
    int list_allocated; /* PyListObject.allocated: slots of its item buffer */
    /* tp_flags bits (unsigned long in CPython, hence long here). */
    long tpflags_have_gc; /* Py_TPFLAGS_HAVE_GC */
    long tpflags_list_subclass; /* Py_TPFLAGS_LIST_SUBCLASS: list's __sizeof__ */
    long tpflags_dict_subclass; /* Py_TPFLAGS_DICT_SUBCLASS: dict's __sizeof__ */
    long tpflags_type_subclass; /* Py_TPFLAGS_TYPE_SUBCLASS: set on type and metaclasses */
    long tpflags_long_subclass; /* Py_TPFLAGS_LONG_SUBCLASS: int's __sizeof__, no ob_size (3.12+) */
    long tpflags_unicode_subclass; /* Py_TPFLAGS_UNICODE_SUBCLASS: str's __sizeof__ */
    /* A class's name as strop.heap() gives it, "module.qualname": */
    long tpflags_heaptype; /* Py_TPFLAGS_HEAPTYPE: a class made at run time */
    int type_dict; /* PyTypeObject.tp_dict: its __module__ */
    int heaptype_qualname; /* PyHeapTypeObject.ht_qualname */
    /* The flags whose objects carry two more pointers before their
     * PyGC_Head, counted by sys.getsizeof (_PyType_PreHeaderSize):
     * Py_TPFLAGS_MANAGED_DICT (3.11), Py_TPFLAGS_PREHEADER (3.12+). */
    long tpflags_preheader;
} StropPyOffsets;

/* Rows in version order; strop_pyoffsets_find() picks one. */
static const StropPyOffsets strop_pyoffsets_table[] = {
    {
        .version = 0x0308, .runtime_interpreters_head = 32, .interp_next = 0,
        .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
        .tstate_native_thread_id = -1, .tstate_frame = 24, .cframe_current_frame = -1,
        .cframe_previous = -1, .tstate_datastack_chunk = -1,
        .frame_size = 368, .frame_back = 24, .frame_code = 32, .frame_instr = -1,
        .frame_lasti = 104, .frame_owner = -1, .code_size = 176, .code_filename = 104,
        .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_framesize = -1,
        .code_nlocalsplus = -1, .code_stacksize = -1, .frame_specials = -1,
        .code_firstlineno = 40,
        .code_linetable = 120, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
        .unicode_compact_size = 72, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 56, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = -1, .dictkeys_kind = -1,
        .dictkeys_nentries = 32, .dictkeys_indices = 40, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = -1, .dictvalues_values = 0, .dictvalues_valid = -1,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = -1, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 872,
        .tpflags_managed_dict = -1, .object_dict_before = -1, .tpflags_inline_values = -1,
        .object_values_before = -1,
        .runtime_gil = 1152, .interp_gil = -1, .gil_size = 208,
        .runtime_gc = 344, .interp_gc = -1, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 864,
        .tpflags_preheader = -1,
    },
    {
        .version = 0x0309, .runtime_interpreters_head = 32, .interp_next = 0,
        .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
        .tstate_native_thread_id = -1, .tstate_frame = 24, .cframe_current_frame = -1,
        .cframe_previous = -1, .tstate_datastack_chunk = -1,
        .frame_size = 368, .frame_back = 24, .frame_code = 32, .frame_instr = -1,
        .frame_lasti = 104, .frame_owner = -1, .code_size = 176, .code_filename = 104,
        .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_framesize = -1,
        .code_nlocalsplus = -1, .code_stacksize = -1, .frame_specials = -1,
        .code_firstlineno = 40,
        .code_linetable = 120, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
        .unicode_compact_size = 72, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 856, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = -1, .dictkeys_kind = -1,
        .dictkeys_nentries = 32, .dictkeys_indices = 40, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = -1, .dictvalues_values = 0, .dictvalues_valid = -1,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = -1, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 864,
        .tpflags_managed_dict = -1, .object_dict_before = -1, .tpflags_inline_values = -1,
        .object_values_before = -1,
        .runtime_gil = 352, .interp_gil = -1, .gil_size = 208,
        .runtime_gc = -1, .interp_gc = 616, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 856,
        .tpflags_preheader = -1,
    },
    {
        .version = 0x030A, .runtime_interpreters_head = 32, .interp_next = 0,
        .interp_threads_head = 8, .tstate_next = 8, .tstate_thread_id = 176,
        .tstate_native_thread_id = -1, .tstate_frame = 24, .cframe_current_frame = -1,
        .cframe_previous = -1, .tstate_datastack_chunk = -1,
        .frame_size = 360, .frame_back = 24, .frame_code = 32, .frame_instr = -1,
        .frame_lasti = 96, .frame_owner = -1, .code_size = 176, .code_filename = 104,
        .code_name = 112, .code_qualname = -1, .code_adaptive = -1, .code_framesize = -1,
        .code_nlocalsplus = -1, .code_stacksize = -1, .frame_specials = -1,
        .code_firstlineno = 40,
        .code_linetable = 120, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
        .unicode_compact_size = 72, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 856, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = -1, .dictkeys_kind = -1,
        .dictkeys_nentries = 32, .dictkeys_indices = 40, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = -1, .dictvalues_values = 0, .dictvalues_valid = -1,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = -1, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 872,
        .tpflags_managed_dict = -1, .object_dict_before = -1, .tpflags_inline_values = -1,
        .object_values_before = -1,
        .runtime_gil = 352, .interp_gil = -1, .gil_size = 208,
        .runtime_gc = -1, .interp_gc = 616, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 864,
        .tpflags_preheader = -1,
    },
    {
        .version = 0x030B, .runtime_interpreters_head = 40, .interp_next = 0,
        .interp_threads_head = 16, .tstate_next = 8, .tstate_thread_id = 152,
        .tstate_native_thread_id = 160, .tstate_frame = 56, .cframe_current_frame = 8,
        .cframe_previous = 16, .tstate_datastack_chunk = 296,
        .frame_size = 80, .frame_back = 48, .frame_code = 32, .frame_instr = 56,
        .frame_lasti = -1, .frame_owner = 69, .code_size = 192, .code_filename = 112,
        .code_name = 120, .code_qualname = 128, .code_adaptive = 184, .code_framesize = -1,
        .code_nlocalsplus = 76, .code_stacksize = 68, .frame_specials = 9,
        .code_firstlineno = 72,
        .code_linetable = 136, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 48,
        .unicode_compact_size = 72, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 888, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = 9, .dictkeys_kind = 10,
        .dictkeys_nentries = 24, .dictkeys_indices = 32, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = 16, .dictvalues_values = 0, .dictvalues_valid = -1,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = -1, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 872,
        .tpflags_managed_dict = 16, .object_dict_before = 24, .tpflags_inline_values = -1,
        .object_values_before = 32,
        .runtime_gil = 360, .interp_gil = -1, .gil_size = 208,
        .runtime_gc = -1, .interp_gc = 648, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 864,
        .tpflags_preheader = 16,
    },
    {
        .version = 0x030C, .runtime_interpreters_head = 40, .interp_next = 0,
        .interp_threads_head = 72, .tstate_next = 8, .tstate_thread_id = 136,
        .tstate_native_thread_id = 144, .tstate_frame = 56, .cframe_current_frame = 0,
        .cframe_previous = 8, .tstate_datastack_chunk = 232,
        .frame_size = 80, .frame_back = 8, .frame_code = 0, .frame_instr = 56,
        .frame_lasti = -1, .frame_owner = 70, .code_size = 200, .code_filename = 112,
        .code_name = 120, .code_qualname = 128, .code_adaptive = 192, .code_framesize = 76,
        .code_nlocalsplus = -1, .code_stacksize = -1, .frame_specials = -1,
        .code_firstlineno = 68,
        .code_linetable = 136, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
        .unicode_compact_size = 56, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 944, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = 9, .dictkeys_kind = 10,
        .dictkeys_nentries = 24, .dictkeys_indices = 32, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = 16, .dictvalues_values = 0, .dictvalues_valid = -1,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = 3, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 880,
        .tpflags_managed_dict = 16, .object_dict_before = 24, .tpflags_inline_values = -1,
        .object_values_before = -1,
        .runtime_gil = -1, .interp_gil = 384, .gil_size = 208,
        .runtime_gc = -1, .interp_gc = 112, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 872,
        .tpflags_preheader = 24,
    },
    {
        .version = 0x030D, .runtime_interpreters_head = 632, .interp_next = 7264,
        .interp_threads_head = 7344, .tstate_next = 8, .tstate_thread_id = 152,
        .tstate_native_thread_id = 160, .tstate_frame = 72, .cframe_current_frame = -1,
        .cframe_previous = -1, .tstate_datastack_chunk = 232,
        .frame_size = 80, .frame_back = 8, .frame_code = 0, .frame_instr = 56,
        .frame_lasti = -1, .frame_owner = 70, .code_size = 208, .code_filename = 112,
        .code_name = 120, .code_qualname = 128, .code_adaptive = 200, .code_framesize = 76,
        .code_nlocalsplus = -1, .code_stacksize = -1, .frame_specials = -1,
        .code_firstlineno = 68,
        .code_linetable = 136, .object_type = 8, .type_name = 24, .var_size = 16,
        .bytes_data = 32, .unicode_length = 16, .unicode_state = 32, .unicode_ascii_size = 40,
        .unicode_compact_size = 56, .unicode_state_ascii = 100, .unicode_state_kind2 = 40,
        .interp_modules = 7656, .module_dict = 16, .dict_keys = 32, .dict_values = 40,
        .dictkeys_size = 8, .dictkeys_log2_index_bytes = 9, .dictkeys_kind = 10,
        .dictkeys_nentries = 24, .dictkeys_indices = 32, .dictkeys_general_entry = 24,
        .dictkeys_unicode_entry = 16, .dictvalues_values = 8, .dictvalues_valid = 3,
        .long_size = 16, .long_digits = 24, .long_shift = 30,
        .long_non_size_bits = 3, .type_basicsize = 32, .type_flags = 168,
        .type_dictoffset = 288, .heaptype_cached_keys = 880,
        .tpflags_managed_dict = 16, .object_dict_before = 24, .tpflags_inline_values = 4,
        .object_values_before = -1,
        .runtime_gil = -1, .interp_gil = 16, .gil_size = 208,
        .runtime_gc = -1, .interp_gc = 7400, .gc_generations = 24, .gc_permanent = 104,
        .gc_generation_size = 24, .gc_n_generations = 3, .gc_collecting = 200,
        .gc_head_size = 16, .type_itemsize = 40, .list_allocated = 32,
        .tpflags_have_gc = 1L << 14, .tpflags_list_subclass = 1L << 25,
        .tpflags_dict_subclass = 1L << 29, .tpflags_type_subclass = 1L << 31,
        .tpflags_long_subclass = 1L << 24, .tpflags_unicode_subclass = 1L << 28,
        .tpflags_heaptype = 1L << 9, .type_dict = 264, .heaptype_qualname = 872,
        .tpflags_preheader = 24,
    },
};

#define STROP_PYOFFSETS_COUNT (sizeof strop_pyoffsets_table / sizeof strop_pyoffsets_table[0])

/* The row of version 0xMMmm, or NULL when unsupported. */
static inline const StropPyOffsets *
strop_pyoffsets_find(int version)
{
    for (size_t i = 0; i < STROP_PYOFFSETS_COUNT; i++) {
        if (strop_pyoffsets_table[i].version == version)
            return &strop_pyoffsets_table[i];
    }
    return NULL;
}

/* Where each offset the reader takes from the target sits inside 3.13's
 * _Py_DebugOffsets (every field of it is a uint64_t), and the struct's size. */
typedef struct StropDebugLayout {
    int cookie;
    int version;
    int runtime_interpreters_head;
    int interp_next;
    int interp_threads_head;
    int tstate_next;
    int tstate_current_frame;
    int tstate_thread_id;
    int tstate_native_thread_id;
    int tstate_datastack_chunk;
    int frame_size;
    int frame_previous;
    int frame_executable;
    int frame_instr_ptr;
    int frame_owner;
    int code_size;
    int code_filename;
    int code_name;
    int code_qualname;
    int code_linetable;
    int code_firstlineno;
    int code_adaptive;
    int object_type;
    int type_name;
    int bytes_size;
    int bytes_data;
    int unicode_state;
    int unicode_length;
    int unicode_ascii_size;
    int struct_size;
    int interp_modules; /* interpreter_state.imports_modules */
    int interp_gc;      /* interpreter_state.gc */
    int gc_collecting;  /* gc.collecting */
} StropDebugLayout;

static const StropDebugLayout strop_debug_layout_313 = {
    .cookie = 0, .version = 8, .runtime_interpreters_head = 40, .interp_next = 64,
    .interp_threads_head = 72, .tstate_next = 168, .tstate_current_frame = 184,
    .tstate_thread_id = 192, .tstate_native_thread_id = 200,
    .tstate_datastack_chunk = 208, .frame_size = 224,
    .frame_previous = 232, .frame_executable = 240, .frame_instr_ptr = 248,
    .frame_owner = 264, .code_size = 272, .code_filename = 280, .code_name = 288,
    .code_qualname = 296, .code_linetable = 304, .code_firstlineno = 312,
    .code_adaptive = 344, .object_type = 360, .type_name = 376, .bytes_size = 520,
    .bytes_data = 528, .unicode_state = 544, .unicode_length = 552,
    .unicode_ascii_size = 560, .struct_size = 584, .interp_modules = 88,
    .interp_gc = 80, .gc_collecting = 576,
};

#define STROP_DEBUG_COOKIE "xdebugpy"

#endif /* STROP_PYOFFSETS_H */
