/* compat.h: every CPython version difference strop's engine meets, in one place.
 *
 * The rest of the engine never tests PY_VERSION_HEX itself: it calls the small
 * inline functions below, each of which says whether it returns a new or a
 * borrowed reference.  Supported: CPython 3.8 to 3.13.
 *
 * Mechanisms chosen per version (see tracer.c):
 *   STROP_HAVE_MONITORING  3.12+: sys.monitoring is the default hook, and fast
 *                          mode's (Python events only).
 *   STROP_HAVE_EVALFRAME   3.9+:  a PEP 523 frame-evaluation hook exists.
 *   STROP_FAST_EVALFRAME   3.9-3.11: fast mode (no builtins) uses that hook.
 *
 * Why fast mode leaves the frame-evaluation hook on 3.12 and 3.13:
 *   - every call that the interpreter would have inlined re-enters
 *     _PyEval_EvalFrameDefault, which costs PY_EVAL_C_STACK_UNITS (2) of the C
 *     recursion budget (1500 on 3.12): plain recursion 790 deep raised
 *     RecursionError;
 *   - 3.13.0's CALL_ALLOC_AND_ENTER_INIT pushes a class's __init__ frame
 *     without checking for a PEP 523 hook, so a specialized `Shape(w, h)` is
 *     never seen by it (1 call recorded of 400).
 * sys.monitoring's PY_START fires for every frame however it starts and costs
 * no C stack.  A new version is one line here once checked against both.
 */
#ifndef STROP_COMPAT_H
#define STROP_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX >= 0x030C0000
#define STROP_HAVE_MONITORING 1
#else
#define STROP_HAVE_MONITORING 0
#endif

#if PY_VERSION_HEX >= 0x03090000
#define STROP_HAVE_EVALFRAME 1
#else
#define STROP_HAVE_EVALFRAME 0
#endif

#if STROP_HAVE_EVALFRAME && !STROP_HAVE_MONITORING
#define STROP_FAST_EVALFRAME 1
#else
#define STROP_FAST_EVALFRAME 0
#endif

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
strop_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) strop_NewRef((PyObject *)(o))
static inline PyObject *
strop_XNewRef(PyObject *o)
{
    Py_XINCREF(o);
    return o;
}
#define Py_XNewRef(o) strop_XNewRef((PyObject *)(o))
#endif

/* How this Python's marshal lays out a code object (pstats.h's
 * STROP_PSTATS_CODE_*: 1 for 3.8 to 3.10, 2 from 3.11 on), for the pstats
 * reader, which reads the name, file and line of one where `python -m
 * profile` names an entry by it, and skips the rest. */
#if PY_VERSION_HEX >= 0x030B0000
#define STROP_MARSHAL_CODE_LAYOUT 2
#else
#define STROP_MARSHAL_CODE_LAYOUT 1
#endif

/* The code object a frame runs.  Borrowed: the frame holds it. */
static inline PyCodeObject *
strop_frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *code = PyFrame_GetCode(frame);
    Py_DECREF(code);
    return code;
#else
    return frame->f_code;
#endif
}

/* The running thread state; never NULL while the GIL is held. */
static inline PyThreadState *
strop_tstate(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#elif PY_VERSION_HEX >= 0x030C0000
    return _PyThreadState_UncheckedGet();
#else
    return PyThreadState_Get();
#endif
}

/* The running interpreter. */
static inline PyInterpreterState *
strop_interp(void)
{
#if PY_VERSION_HEX >= 0x03090000
    return PyThreadState_GetInterpreter(PyThreadState_Get());
#else
    return PyThreadState_Get()->interp;
#endif
}

/* Installs (or, with NULL, removes) a C profile function on every thread of
 * the running interpreter. */
static inline void
strop_set_profile_all(Py_tracefunc func, PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyEval_SetProfileAllThreads(func, obj);
#else
    PyInterpreterState *interp = strop_interp();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
#if PY_VERSION_HEX >= 0x03090000
        if (_PyEval_SetProfile(ts, func, obj) < 0)
            PyErr_WriteUnraisable(NULL);
#else
        /* 3.8 has no per-thread setter: the fields are public there. */
        PyObject *old = ts->c_profileobj;
        Py_XINCREF(obj);
        ts->c_profilefunc = func;
        ts->c_profileobj = obj;
        ts->use_tracing = (func != NULL) || (ts->c_tracefunc != NULL);
        Py_XDECREF(old);
#endif
    }
#endif
}

/* The profile function and its object installed on a thread (borrowed). */
static inline Py_tracefunc
strop_get_profile(PyThreadState *tstate, PyObject **obj)
{
    /* Public fields of PyThreadState in every version 3.8 to 3.13. */
    *obj = tstate->c_profileobj;
    return tstate->c_profilefunc;
}

/* The exception in flight, taken out so that hook work can call the C API;
 * strop_err_restore() puts it back.  The saved references are owned. */
typedef struct StropErr {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} StropErr;

static inline void
strop_err_save(StropErr *err)
{
#if PY_VERSION_HEX >= 0x030C0000
    err->exc = PyErr_GetRaisedException();
#else
    PyErr_Fetch(&err->type, &err->value, &err->tb);
#endif
}

/* Drops any exception raised since strop_err_save() and restores the saved one. */
static inline void
strop_err_restore(StropErr *err)
{
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(err->exc);
#else
    PyErr_Restore(err->type, err->value, err->tb);
#endif
}

/* Appends `item` (a new reference, or NULL after a failed build) to `list`
 * and drops the reference.  Returns 0, or -1 with an exception set. */
static inline int
strop_list_append_steal(PyObject *list, PyObject *item)
{
    int rc = item == NULL ? -1 : PyList_Append(list, item);
    Py_XDECREF(item);
    return rc;
}

#if STROP_HAVE_EVALFRAME
#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame StropEvalFrame;
#else
typedef PyFrameObject StropEvalFrame;
#endif
typedef PyObject *(*StropEvalFunc)(PyThreadState *, StropEvalFrame *, int);

/* The code object of a frame being evaluated, or NULL when the frame runs
 * something else (3.13 shim frames).  Borrowed.  The layouts copied here are
 * the first fields of each version's _PyInterpreterFrame. */
static inline PyObject *
strop_evalframe_code(StropEvalFrame *frame)
{
#if PY_VERSION_HEX >= 0x030C0000
    /* 3.12 f_code, 3.13 f_executable: the first field. */
    PyObject *code = *(PyObject **)frame;
#elif PY_VERSION_HEX >= 0x030B0000
    /* 3.11: f_func, f_globals, f_builtins, f_locals, then f_code. */
    PyObject *code = ((PyObject **)frame)[4];
#else
    PyObject *code = (PyObject *)frame->f_code;
#endif
    return (code != NULL && PyCode_Check(code)) ? code : NULL;
}

static inline StropEvalFunc
strop_get_evalframe(PyInterpreterState *interp)
{
    return (StropEvalFunc)_PyInterpreterState_GetEvalFrameFunc(interp);
}

/* Installs `func`; NULL restores the default evaluator. */
static inline void
strop_set_evalframe(PyInterpreterState *interp, StropEvalFunc func)
{
#if PY_VERSION_HEX < 0x030B0000
    /* 3.9 and 3.10 call interp->eval_frame unconditionally: never NULL. */
    if (func == NULL)
        func = (StropEvalFunc)_PyEval_EvalFrameDefault;
#else
    /* 3.11+ inlines Python-to-Python calls only while eval_frame is NULL. */
    if (func == (StropEvalFunc)_PyEval_EvalFrameDefault)
        func = NULL;
#endif
    _PyInterpreterState_SetEvalFrameFunc(interp, (_PyFrameEvalFunction)func);
}
#endif /* STROP_HAVE_EVALFRAME */

/* ---- Heap walk (heap.c) ------------------------------------------------ */

/* Bytes that sys.getsizeof adds to __sizeof__: what sits before the object.
 * 3.8-3.10 add the GC header when the object is collected (tp_is_gc); 3.11+
 * add it when the type has Py_TPFLAGS_HAVE_GC, plus two words when the type
 * keeps its dict (3.11) or its dict and weakrefs (3.12+) before the object.
 * PyGC_Head is two words on every supported version (3.8+) and is not in the
 * public headers after 3.8, hence the constant. */
#define STROP_GC_HEAD_SIZE (2 * (Py_ssize_t)sizeof(void *))
static inline Py_ssize_t
strop_preheader_size(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030C0000
    unsigned long flags = Py_TYPE(o)->tp_flags;
#if PY_VERSION_HEX >= 0x030D0000
    /* 3.13 adds nothing for a static type (one not allocated). */
    if (Py_TYPE(o) == &PyType_Type && !(((PyTypeObject *)o)->tp_flags & Py_TPFLAGS_HEAPTYPE))
        return 0;
#endif
    return ((flags & Py_TPFLAGS_HAVE_GC) ? STROP_GC_HEAD_SIZE : 0) +
           ((flags & (Py_TPFLAGS_MANAGED_DICT | Py_TPFLAGS_MANAGED_WEAKREF)) ? 2 * (Py_ssize_t)sizeof(void *) : 0);
#elif PY_VERSION_HEX >= 0x030B0000
    unsigned long flags = Py_TYPE(o)->tp_flags;
    return ((flags & Py_TPFLAGS_HAVE_GC) ? STROP_GC_HEAD_SIZE : 0) +
           ((flags & Py_TPFLAGS_MANAGED_DICT) ? 2 * (Py_ssize_t)sizeof(void *) : 0);
#else
    return PyObject_IS_GC(o) ? STROP_GC_HEAD_SIZE : 0;
#endif
}

/* How far before `o` its memory block starts (what the object allocator
 * returned): the pre-header of every object of its type.  (Static types
 * are not allocated and never freed: what this says of them does not
 * matter.) */
static inline Py_ssize_t
strop_block_offset(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030B0000
    return strop_preheader_size(o);
#else
    return PyType_IS_GC(Py_TYPE(o)) ? STROP_GC_HEAD_SIZE : 0;
#endif
}

/* On 3.11+ a running frame keeps its locals out of the collector's sight
 * (frame_traverse visits them only once the frame has finished), so a heap
 * census adds them as roots.  STROP_FRAMES_HIDE_LOCALS says so. */
#if PY_VERSION_HEX >= 0x030B0000
#define STROP_FRAMES_HIDE_LOCALS 1
#else
#define STROP_FRAMES_HIDE_LOCALS 0
#endif

#if STROP_FRAMES_HIDE_LOCALS
/* Calls visit(value, arg) for each local variable (and cell) of the running
 * frame `f` that has a value.  3.12+ read each through PyFrame_GetVar,
 * which creates nothing; 3.11 has only PyFrame_GetLocals, which fills a
 * function frame's locals dict: that dict is stored in *made (borrowed: the
 * frame holds it) so the census can leave it out (a dict the program got
 * from locals() in that frame is the same one, and is left out too).
 * Never raises. */
static inline void
strop_visit_frame_locals(PyFrameObject *f, visitproc visit, void *arg, PyObject **made)
{
    *made = NULL;
#if PY_VERSION_HEX >= 0x030C0000
    PyCodeObject *code = PyFrame_GetCode(f);
    PyObject *names = code->co_localsplusnames;
    for (Py_ssize_t i = 0; names != NULL && i < PyTuple_GET_SIZE(names); i++) {
        PyObject *value = PyFrame_GetVar(f, PyTuple_GET_ITEM(names, i));
        if (value == NULL) {
            PyErr_Clear();
            continue;
        }
        visit(value, arg);
        Py_DECREF(value);
    }
    Py_DECREF(code);
#else
    PyObject *locals = PyFrame_GetLocals(f);
    if (locals == NULL) {
        PyErr_Clear();
        return;
    }
    if (PyDict_Check(locals)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(locals, &pos, &key, &value))
            visit(value, arg);
        /* A function's dict is made for the asking; a module's or a class
         * body's is the program's own namespace. */
        PyCodeObject *code = PyFrame_GetCode(f);
        if (code->co_flags & CO_OPTIMIZED)
            *made = locals;
        Py_DECREF(code);
    }
    Py_DECREF(locals);
#endif
}
#endif

/* The instance dict of `o` if a real dict object exists, else NULL.
 * Borrowed.  Never creates one: on 3.11+ an instance whose type has
 * Py_TPFLAGS_MANAGED_DICT keeps its attributes in inline values until
 * something asks for __dict__, and _PyObject_GetDictPtr would materialise
 * it, so the managed slot (three words before the object) is read instead:
 * 3.11 a dict pointer, 3.12 a dict pointer or values tagged with bit 0,
 * 3.13 a dict pointer.  For other types _PyObject_GetDictPtr only computes
 * the slot's address (tp_dictoffset, negative for variable-size objects). */
static inline PyObject *
strop_instance_dict(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    PyObject *dict;
#if PY_VERSION_HEX >= 0x030B0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        uintptr_t slot = *(uintptr_t *)((char *)o - 3 * (Py_ssize_t)sizeof(void *));
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
        if (slot & 1)
            return NULL;
#endif
        dict = (PyObject *)slot;
        return (dict != NULL && PyDict_Check(dict)) ? dict : NULL;
    }
#endif
    if (tp->tp_dictoffset == 0)
        return NULL;
    PyObject **slot = _PyObject_GetDictPtr(o);
    dict = slot ? *slot : NULL;
    return (dict != NULL && PyDict_Check(dict)) ? dict : NULL;
}

/* The running Python frame when it is an object the collector lists, so the
 * census can leave out its own caller's frame; NULL on 3.11+, where asking
 * for it would create the frame object.  Borrowed. */
static inline PyObject *
strop_own_frame_object(void)
{
#if PY_VERSION_HEX < 0x030B0000
    return (PyObject *)PyEval_GetFrame();
#else
    return NULL;
#endif
}

/* 1 if `o` is one whose reference count means nothing: immortal on 3.12+
 * (None, True, small ints, interned constants, static types), so that its
 * count neither rises nor falls with the references to it.  Before 3.12 the
 * singletons and the small ints are shared by everything and their counts
 * move with every frame that touches them: they count as immortal here too. */
static inline int
strop_refcount_meaningless(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030C0000
    return _Py_IsImmortal(o);
#else
    if (o == Py_None || o == Py_True || o == Py_False || o == Py_Ellipsis ||
        o == Py_NotImplemented)
        return 1;
    if (PyLong_CheckExact(o)) {
        int overflow = 0;
        long v = PyLong_AsLongAndOverflow(o, &overflow);
        return !overflow && v >= -5 && v <= 256;
    }
    return 0;
#endif
}

/* The file descriptor of a `_socket.socket` object (or of a subclass's
 * instance), read from its struct without calling Python: in
 * Modules/socketmodule.h, PySocketSockObject's first field after the object
 * header is `SOCKET_T sock_fd`, an int on POSIX, the same on 3.8 to 3.13.
 * The caller checks the type first (tracer.c's classify_wait). */
static inline int
strop_socket_fd(PyObject *sock)
{
    int fd;
    memcpy(&fd, (const char *)sock + sizeof(PyObject), sizeof fd);
    return fd;
}

#endif /* STROP_COMPAT_H */
