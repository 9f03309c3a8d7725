/* compat.h: every CPython version difference strop's engine meets, in one place.
 *
 * The rest of the engine never tests PY_VERSION_HEX itself: it calls the small
 * inline functions below, each of which says whether it returns a new or a
 * borrowed reference.  Supported: CPython 3.8 to 3.13.
 *
 * Mechanisms chosen per version (see tracer.c):
 *   STROP_HAVE_MONITORING  3.12+: sys.monitoring is the default hook.
 *   STROP_HAVE_EVALFRAME   3.9+:  a PEP 523 frame-evaluation hook (fast mode).
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

#endif /* STROP_COMPAT_H */
