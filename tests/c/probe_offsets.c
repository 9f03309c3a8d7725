/* probe_offsets.c: prints, from a CPython's own headers, the offset of every
 * field strop's remote reader uses (src/strop/_engine/pyoffsets.h).
 *
 * Built by tests/test_remote.py against each installed Python with
 * -DPy_BUILD_CORE and its include/internal folder; its output must equal
 * print_offsets.c's print of the committed table for that version, so a wrong
 * offset cannot land.  Output: one "name value" line per field, -1 for a
 * field the version does not have.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#include "internal/pycore_pystate.h"
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#endif
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_runtime.h"
#endif
#if PY_VERSION_HEX >= 0x030A0000
#include "internal/pycore_moduleobject.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"
#endif

#define P(name, value) printf("%s %ld\n", name, (long)(value))

/* The byte of PyASCIIObject.state holding kind, compact and ascii. */
static unsigned
state_byte(int kind, int compact, int ascii)
{
    PyASCIIObject o;
    unsigned char b[sizeof o.state];
    memset(&o, 0, sizeof o);
    o.state.kind = (unsigned)kind;
    o.state.compact = (unsigned)compact;
    o.state.ascii = (unsigned)ascii;
    memcpy(b, &o.state, sizeof b);
    return b[0];
}

#if PY_VERSION_HEX >= 0x030B0000
/* How many bytes before an object of a managed-dict type the header's own
 * accessors put its dict (or dict-or-values) pointer and, on 3.11, its values
 * pointer: computed by calling them on a fake object. */
static PyTypeObject fake_type;
static union {
    PyObject *words[8];
    char bytes[64];
} fake_memory;

static PyObject *
fake_object(void)
{
    PyObject *o = (PyObject *)&fake_memory.words[4];
    fake_type.tp_flags = Py_TPFLAGS_MANAGED_DICT;
    fake_type.tp_basicsize = sizeof(PyObject);
    Py_SET_TYPE(o, &fake_type);
    return o;
}

static long
dict_before(void)
{
    PyObject *o = fake_object();
#if PY_VERSION_HEX >= 0x030D0000
    return (long)((char *)o - (char *)_PyObject_ManagedDictPointer(o));
#elif PY_VERSION_HEX >= 0x030C0000
    return (long)((char *)o - (char *)_PyObject_DictOrValuesPointer(o));
#else
    return (long)((char *)o - (char *)_PyObject_ManagedDictPointer(o));
#endif
}
#endif

int
main(void)
{
    P("version", PY_VERSION_HEX >> 16);
    P("runtime_interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
    P("interp_next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX >= 0x030B0000
    P("interp_threads_head", offsetof(PyInterpreterState, threads.head));
#else
    P("interp_threads_head", offsetof(PyInterpreterState, tstate_head));
#endif
    P("tstate_next", offsetof(PyThreadState, next));
    P("tstate_thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030B0000
    P("tstate_native_thread_id", offsetof(PyThreadState, native_thread_id));
#else
    P("tstate_native_thread_id", -1);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("tstate_frame", offsetof(PyThreadState, current_frame));
    P("cframe_current_frame", -1);
#elif PY_VERSION_HEX >= 0x030B0000
    P("tstate_frame", offsetof(PyThreadState, cframe));
    P("cframe_current_frame", offsetof(_PyCFrame, current_frame));
#else
    P("tstate_frame", offsetof(PyThreadState, frame));
    P("cframe_current_frame", -1);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
    P("cframe_previous", offsetof(_PyCFrame, previous));
#else
    P("cframe_previous", -1);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    P("tstate_datastack_chunk", offsetof(PyThreadState, datastack_chunk));
#else
    P("tstate_datastack_chunk", -1);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    P("frame_size", sizeof(_PyInterpreterFrame));
    P("frame_back", offsetof(_PyInterpreterFrame, previous));
#if PY_VERSION_HEX >= 0x030D0000
    P("frame_code", offsetof(_PyInterpreterFrame, f_executable));
    P("frame_instr", offsetof(_PyInterpreterFrame, instr_ptr));
#else
    P("frame_code", offsetof(_PyInterpreterFrame, f_code));
    P("frame_instr", offsetof(_PyInterpreterFrame, prev_instr));
#endif
    P("frame_lasti", -1);
    P("frame_owner", offsetof(_PyInterpreterFrame, owner));
#else
    P("frame_size", sizeof(PyFrameObject));
    P("frame_back", offsetof(PyFrameObject, f_back));
    P("frame_code", offsetof(PyFrameObject, f_code));
    P("frame_instr", -1);
    P("frame_lasti", offsetof(PyFrameObject, f_lasti));
    P("frame_owner", -1);
#endif
    P("code_size", sizeof(PyCodeObject));
    P("code_filename", offsetof(PyCodeObject, co_filename));
    P("code_name", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030B0000
    P("code_qualname", offsetof(PyCodeObject, co_qualname));
    P("code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
#else
    P("code_qualname", -1);
    P("code_adaptive", -1);
#endif
    P("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX >= 0x030C0000
    P("code_framesize", offsetof(PyCodeObject, co_framesize));
    P("code_nlocalsplus", -1);
    P("code_stacksize", -1);
    P("frame_specials", -1);
#elif PY_VERSION_HEX >= 0x030B0000
    P("code_framesize", -1);
    P("code_nlocalsplus", offsetof(PyCodeObject, co_nlocalsplus));
    P("code_stacksize", offsetof(PyCodeObject, co_stacksize));
    P("frame_specials", FRAME_SPECIALS_SIZE);
#else
    P("code_framesize", -1);
    P("code_nlocalsplus", -1);
    P("code_stacksize", -1);
    P("frame_specials", -1);
#endif
#if PY_VERSION_HEX >= 0x030A0000
    P("code_linetable", offsetof(PyCodeObject, co_linetable));
#else
    P("code_linetable", offsetof(PyCodeObject, co_lnotab));
#endif
    P("object_type", offsetof(PyObject, ob_type));
    P("type_name", offsetof(PyTypeObject, tp_name));
    P("var_size", offsetof(PyVarObject, ob_size));
    P("bytes_data", offsetof(PyBytesObject, ob_sval));
    P("unicode_length", offsetof(PyASCIIObject, length));
    P("unicode_state", offsetof(PyASCIIObject, state));
    P("unicode_ascii_size", sizeof(PyASCIIObject));
    P("unicode_compact_size", sizeof(PyCompactUnicodeObject));
    P("unicode_state_ascii", state_byte(1, 1, 1));
    P("unicode_state_kind2", state_byte(2, 1, 0));
    /* Thread names: sys.modules -> threading -> _active -> Thread.__dict__.
     * Fields the installed headers of 3.8 to 3.10 do not show (the module
     * object before 3.10, the dict key table before 3.11) are left out here
     * and checked on the running interpreter by tests/helpers/probe_layout.py. */
#if PY_VERSION_HEX >= 0x030C0000
    P("interp_modules", offsetof(PyInterpreterState, imports.modules));
#else
    P("interp_modules", offsetof(PyInterpreterState, modules));
#endif
#if PY_VERSION_HEX >= 0x030A0000
    P("module_dict", offsetof(PyModuleObject, md_dict));
#endif
    P("dict_keys", offsetof(PyDictObject, ma_keys));
    P("dict_values", offsetof(PyDictObject, ma_values));
#if PY_VERSION_HEX >= 0x030B0000
    P("dictkeys_size", offsetof(PyDictKeysObject, dk_log2_size));
    P("dictkeys_log2_index_bytes", offsetof(PyDictKeysObject, dk_log2_index_bytes));
    P("dictkeys_kind", offsetof(PyDictKeysObject, dk_kind));
    P("dictkeys_nentries", offsetof(PyDictKeysObject, dk_nentries));
    P("dictkeys_indices", offsetof(PyDictKeysObject, dk_indices));
    P("dictkeys_general_entry", sizeof(PyDictKeyEntry));
    P("dictkeys_unicode_entry", sizeof(PyDictUnicodeEntry));
    P("dictvalues_values", offsetof(PyDictValues, values));
#else
    P("dictkeys_log2_index_bytes", -1);
    P("dictkeys_kind", -1);
    P("dictkeys_unicode_entry", -1);
    P("dictvalues_values", 0); /* ma_values is the PyObject *[] itself */
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("dictvalues_valid", offsetof(PyDictValues, valid));
#else
    P("dictvalues_valid", -1);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    P("long_size", offsetof(PyLongObject, long_value.lv_tag));
    P("long_digits", offsetof(PyLongObject, long_value.ob_digit));
#else
    P("long_size", offsetof(PyLongObject, ob_base.ob_size));
    P("long_digits", offsetof(PyLongObject, ob_digit));
#endif
    P("long_shift", PyLong_SHIFT);
#ifdef _PyLong_NON_SIZE_BITS
    P("long_non_size_bits", _PyLong_NON_SIZE_BITS);
#else
    P("long_non_size_bits", -1);
#endif
    P("type_basicsize", offsetof(PyTypeObject, tp_basicsize));
    P("type_flags", offsetof(PyTypeObject, tp_flags));
    P("type_dictoffset", offsetof(PyTypeObject, tp_dictoffset));
    P("heaptype_cached_keys", offsetof(PyHeapTypeObject, ht_cached_keys));
#if PY_VERSION_HEX >= 0x030B0000
    P("tpflags_managed_dict", Py_TPFLAGS_MANAGED_DICT);
    P("object_dict_before", dict_before());
#else
    P("tpflags_managed_dict", -1);
    P("object_dict_before", -1);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("tpflags_inline_values", Py_TPFLAGS_INLINE_VALUES);
#else
    P("tpflags_inline_values", -1);
#endif
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
    {
        PyObject *o = fake_object();
        P("object_values_before", (char *)o - (char *)_PyObject_ValuesPointer(o));
    }
#else
    P("object_values_before", -1);
#endif
#if PY_VERSION_HEX >= 0x030C0000
    P("runtime_gil", -1);
    P("interp_gil", offsetof(PyInterpreterState, ceval.gil));
#elif PY_VERSION_HEX >= 0x03090000
    P("runtime_gil", offsetof(_PyRuntimeState, ceval.gil));
    P("interp_gil", -1);
#else
    P("runtime_gil", offsetof(_PyRuntimeState, ceval.gil));
    P("interp_gil", -1);
#endif
    P("gil_size", sizeof(struct _gil_runtime_state));
    /* The collector's lists (remote_heap.c): each generation's list head,
     * the permanent generation, and what sys.getsizeof adds to an object. */
#if PY_VERSION_HEX >= 0x03090000
    P("runtime_gc", -1);
    P("interp_gc", offsetof(PyInterpreterState, gc));
#else
    P("runtime_gc", offsetof(_PyRuntimeState, gc));
    P("interp_gc", -1);
#endif
    P("gc_generations", offsetof(struct _gc_runtime_state, generations));
    P("gc_permanent", offsetof(struct _gc_runtime_state, permanent_generation));
    P("gc_generation_size", sizeof(struct gc_generation));
    P("gc_n_generations", NUM_GENERATIONS);
    P("gc_collecting", offsetof(struct _gc_runtime_state, collecting));
    P("gc_head_size", sizeof(PyGC_Head));
    P("type_itemsize", offsetof(PyTypeObject, tp_itemsize));
    P("list_allocated", offsetof(PyListObject, allocated));
    P("tpflags_have_gc", Py_TPFLAGS_HAVE_GC);
    P("tpflags_list_subclass", Py_TPFLAGS_LIST_SUBCLASS);
    P("tpflags_dict_subclass", Py_TPFLAGS_DICT_SUBCLASS);
    P("tpflags_type_subclass", Py_TPFLAGS_TYPE_SUBCLASS);
    P("tpflags_long_subclass", Py_TPFLAGS_LONG_SUBCLASS);
    P("tpflags_unicode_subclass", Py_TPFLAGS_UNICODE_SUBCLASS);
    P("tpflags_heaptype", Py_TPFLAGS_HEAPTYPE);
    P("type_dict", offsetof(PyTypeObject, tp_dict));
    P("heaptype_qualname", offsetof(PyHeapTypeObject, ht_qualname));
#if PY_VERSION_HEX >= 0x030C0000
    P("tpflags_preheader", Py_TPFLAGS_PREHEADER);
#elif PY_VERSION_HEX >= 0x030B0000
    P("tpflags_preheader", Py_TPFLAGS_MANAGED_DICT);
#else
    P("tpflags_preheader", -1);
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("debug_cookie", offsetof(_Py_DebugOffsets, cookie));
    P("debug_version", offsetof(_Py_DebugOffsets, version));
    P("debug_runtime_interpreters_head", offsetof(_Py_DebugOffsets, runtime_state.interpreters_head));
    P("debug_interp_next", offsetof(_Py_DebugOffsets, interpreter_state.next));
    P("debug_interp_threads_head", offsetof(_Py_DebugOffsets, interpreter_state.threads_head));
    P("debug_tstate_next", offsetof(_Py_DebugOffsets, thread_state.next));
    P("debug_tstate_current_frame", offsetof(_Py_DebugOffsets, thread_state.current_frame));
    P("debug_tstate_thread_id", offsetof(_Py_DebugOffsets, thread_state.thread_id));
    P("debug_tstate_native_thread_id", offsetof(_Py_DebugOffsets, thread_state.native_thread_id));
    P("debug_frame_size", offsetof(_Py_DebugOffsets, interpreter_frame.size));
    P("debug_frame_previous", offsetof(_Py_DebugOffsets, interpreter_frame.previous));
    P("debug_frame_executable", offsetof(_Py_DebugOffsets, interpreter_frame.executable));
    P("debug_frame_instr_ptr", offsetof(_Py_DebugOffsets, interpreter_frame.instr_ptr));
    P("debug_frame_owner", offsetof(_Py_DebugOffsets, interpreter_frame.owner));
    P("debug_code_size", offsetof(_Py_DebugOffsets, code_object.size));
    P("debug_code_filename", offsetof(_Py_DebugOffsets, code_object.filename));
    P("debug_code_name", offsetof(_Py_DebugOffsets, code_object.name));
    P("debug_code_qualname", offsetof(_Py_DebugOffsets, code_object.qualname));
    P("debug_code_linetable", offsetof(_Py_DebugOffsets, code_object.linetable));
    P("debug_code_firstlineno", offsetof(_Py_DebugOffsets, code_object.firstlineno));
    P("debug_code_adaptive", offsetof(_Py_DebugOffsets, code_object.co_code_adaptive));
    P("debug_object_type", offsetof(_Py_DebugOffsets, pyobject.ob_type));
    P("debug_type_name", offsetof(_Py_DebugOffsets, type_object.tp_name));
    P("debug_bytes_size", offsetof(_Py_DebugOffsets, bytes_object.ob_size));
    P("debug_bytes_data", offsetof(_Py_DebugOffsets, bytes_object.ob_sval));
    P("debug_unicode_state", offsetof(_Py_DebugOffsets, unicode_object.state));
    P("debug_unicode_length", offsetof(_Py_DebugOffsets, unicode_object.length));
    P("debug_unicode_ascii_size", offsetof(_Py_DebugOffsets, unicode_object.asciiobject_size));
    P("debug_struct_size", sizeof(_Py_DebugOffsets));
    P("debug_interp_modules", offsetof(_Py_DebugOffsets, interpreter_state.imports_modules));
    P("debug_tstate_datastack_chunk", offsetof(_Py_DebugOffsets, thread_state.datastack_chunk));
    P("debug_interp_gc", offsetof(_Py_DebugOffsets, interpreter_state.gc));
    P("debug_gc_collecting", offsetof(_Py_DebugOffsets, gc.collecting));
#endif
    return 0;
}
