/* tracer.c: the deterministic profiler (see tracer.h).
 *
 * The hot path, whatever the mechanism, is enter() and leave(): read the
 * cheap clock once, find the child node of the current one by key (one
 * pointer compare in the common case), push or pop a frame of the thread's
 * own stack.  Nothing is allocated per call: stacks grow by doubling, nodes
 * come from the tree's array.  The first call of a function names it: that is
 * the only place hooks call the Python C API, with any exception in flight
 * saved around it.
 *
 * Time is per thread: each thread keeps a virtual clock that advances by the
 * ticks between two of its events, less the measured cost of one event (so
 * the profiler's own cost is not charged to the program).  In CPU mode a gap
 * longer than CPU_SYNC_NS is checked against the thread's CPU clock, and only
 * the CPU time it really used is added: reading that clock costs a system
 * call, so it is read only when a thread may have slept or waited.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* syscall(SYS_gettid) under -std=c11; as pyconfig.h says it */
#endif
#include "tracer.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "callwaits.h"
#include "cct.h"
#include "clock.h"
#include "dumpfile.h"
#include "mem.h"
#include "memview.h"
#include "pstats.h"
#include "textbuf.h"
#include "timeline.h"
#include "writers.h"

#define CPU_SYNC_NS 20000.0
#define KIND_PY 0
#define KIND_C 1
#define KIND_THREAD 2 /* a thread's root: the key is its StropThread, obj its label */

typedef struct StropFrame {
    uintptr_t key;
    uint32_t node;
    uint64_t start;     /* virtual ticks at the call */
    uint64_t child;     /* virtual ticks spent in finished callees */
    uint64_t raw_start; /* real ticks at the call, for the timeline */
    int wait_fd;        /* waits=True, a socket's or file's call: its file descriptor */
    uint8_t wait;       /* waits=True: the BLOCK_* kind of a call that may block, or 0 */
} StropFrame;

/* The calls that may block, as waits=True classifies them (classify_wait). */
enum { BLOCK_NONE = 0, BLOCK_SOCKET, BLOCK_SLEEP, BLOCK_SELECT, BLOCK_LOCK, BLOCK_FILE };

typedef struct StropThread {
    PyThreadState *tstate; /* identity only, never dereferenced after exit */
    unsigned long ident;     /* threading's ident: reused by a later thread */
    unsigned long native_id; /* the OS thread id (0: unknown): names and timelines */
    StropFrame *stack;
    uint32_t depth, cap;
    uint32_t generation; /* bumped when the stack is flushed */
    uint64_t events;     /* events seen on this thread */
    uint64_t last_ticks; /* raw ticks at the thread's last event */
    uint64_t virt;       /* the thread's virtual clock, in ticks */
    uint64_t cpu_sync_ns, virt_at_sync;
    uintptr_t stack_floor; /* evalframe: lowest C stack address we go to */
    int ignored;           /* this thread is no longer recorded */
    uint32_t index;        /* order of first sight: the timeline's thread */
    uint32_t root; /* parent of the thread's first frame: STROP_ROOT, or with
                    * threads=True its `<thread NAME>` node */
    struct StropThread *next;
} StropThread;

typedef enum { MECH_NONE, MECH_SETPROFILE, MECH_MONITORING, MECH_EVALFRAME } Mechanism;

typedef struct Tracer {
    PyObject_HEAD
    StropTree tree;
    int builtins, cpu;
    int threads_mode; /* a root node per thread (threads=True) */
    unsigned long main_ident; /* threading.main_thread().ident at __init__ */
    Mechanism want;   /* chosen at __init__ */
    Mechanism mech;   /* while enabled */
    int enabled;
    int stopped;      /* a fault stopped the recording: hooks do nothing */
    int warned_cap;   /* the node cap was reported */
    StropThread *threads;
    uint32_t n_threads;
    StropSpan *spans;     /* timeline: one per completed call, or NULL */
    size_t n_spans, max_spans;
    uint64_t dropped_spans;
    uint64_t event_cost; /* ticks of one event of our own work */
    uint64_t sync_ticks; /* CPU mode: gaps above this are checked */
    PyObject *labels;      /* list, index = function: (file, line, name) or None */
    PyObject *label_index; /* dict: label -> function index */
    PyObject *keep;        /* list of keys' objects kept alive (code objects) */
    PyObject *warnings;    /* list of str: what strop could not see */
    PyObject *hide;        /* str: a folder ending in a separator whose code is strop's
                            * own, left out of the profile (hide=); or NULL */
    uint8_t *own;          /* own[f]: function f is strop's own (is_own), never recorded */
    uint32_t own_cap;      /* entries of `own` */
    PyObject *saved_threading_profile;
    PyObject *bootstrap;   /* what we gave threading.setprofile() */
    struct Tracer *paused; /* the tracer this one paused at enable() */
    int tool_id;
    uint64_t enable_ticks, recorded_ticks;
    uint64_t start_unix_ns; /* wall-clock time of the first enable() */
    uint64_t origin_ticks;  /* raw ticks at the first enable(): the timeline's 0 */
    StropMemTrace *mem;     /* memory=True: the allocations charged to the tree, or NULL */
    StropCallWaits *call_waits; /* waits=True: blocking calls by endpoint, or NULL */
    uint8_t *wait_kind;     /* wait_kind[f]: function f's BLOCK_* kind (waits=True) */
    /* waits=True: where a buffered file object keeps its raw file, and a
     * text one its buffer (bytes from the object's start, found at init by
     * looking for them in real ones: io_file_offsets), or -1. */
    Py_ssize_t io_raw_off, io_buffer_off;
    uint32_t wait_cap;      /* entries of `wait_kind` */
    int mem_view;           /* what dump() writes: -1 time, else a StropMemView */
} Tracer;

/* The tracer that records now, or NULL.  Protected by the GIL. */
static Tracer *active = NULL;
/* Bumped at every enable and disable: an evalframe hook that started under an
 * older epoch leaves no mark when it returns.  Protected by the GIL. */
static uint64_t epoch = 0;
#if STROP_FAST_EVALFRAME
/* The frame evaluator we chained to (NULL: the default).  GIL. */
static StropEvalFunc chained_eval = NULL;
#endif

static void warn_once(Tracer *self, const char *message);
static void flush_thread(Tracer *self, StropThread *th);
static uint32_t thread_root(Tracer *self, StropThread *th);

/* ---- threads and time ------------------------------------------------- */

/* The OS id of the calling thread; 0 where there is none. */
static unsigned long
current_native_id(void)
{
#if defined(__linux__)
    return (unsigned long)syscall(SYS_gettid);
#else
    return 0;
#endif
}

static StropThread *
thread_new(Tracer *self, PyThreadState *tstate)
{
    StropThread *th = strop_calloc(1, sizeof *th);
    if (th == NULL)
        return NULL;
    th->cap = 64;
    th->stack = strop_malloc(th->cap * sizeof *th->stack);
    if (th->stack == NULL) {
        strop_free(th);
        return NULL;
    }
    th->tstate = tstate;
    th->ident = (unsigned long)tstate->thread_id;
    th->native_id = current_native_id(); /* created on the thread itself */
    th->last_ticks = strop_clock_ticks();
    th->cpu_sync_ns = self->cpu ? strop_clock_thread_cpu_ns() : 0;
    {
        /* The floor under which the evalframe hook stops recursing. */
        pthread_attr_t attr;
        void *addr;
        size_t size;
        th->stack_floor = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
                size_t margin = size / 4 > (256u << 10) ? (256u << 10) : size / 4;
                th->stack_floor = (uintptr_t)addr + margin;
                if (size > (1u << 20))
                    th->stack_floor = (uintptr_t)addr + (512u << 10);
            }
            pthread_attr_destroy(&attr);
        }
    }
    th->index = self->n_threads++;
    th->next = self->threads;
    self->threads = th;
    return th;
}

/* The running thread's record, cached per OS thread for the epoch it was
 * found in.  Initial-exec TLS is a single %fs-relative load: cheaper than
 * asking libpython for the thread state, which monitoring callbacks are not
 * given (a call and a dynamic TLS lookup per event, 4% of a call-heavy run).
 * An epoch ends at every enable, disable and clear, so a cached record is
 * never a freed one. */
#if defined(__GNUC__)
#define STROP_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define STROP_TLS_FAST
#endif
static _Thread_local StropThread *tls_thread STROP_TLS_FAST;
static _Thread_local uint64_t tls_epoch STROP_TLS_FAST; /* epoch + 1; 0: none */

/* thread_of()'s slow path, once per OS thread and epoch. */
static StropThread *
thread_find(Tracer *self, PyThreadState *tstate)
{
    unsigned long native_id = current_native_id();
    StropThread *th;
    for (th = self->threads; th != NULL; th = th->next) {
        if (th->tstate != tstate)
            continue;
        if (th->native_id == native_id)
            break;
        /* A finished thread's record: its thread state's memory (and often
         * its ident) now belong to this new thread, which gets its own. */
        th->tstate = NULL;
    }
    if (th == NULL) {
        th = thread_new(self, tstate);
        if (th == NULL) {
            self->stopped = 1;
            warn_once(self, "out of memory for a thread's stack: recording stopped");
            return NULL;
        }
        if (self->threads_mode) {
            strop_alloc_suspended++;
            th->root = thread_root(self, th);
            strop_alloc_suspended--;
            if (th->root == STROP_NONE)
                return NULL;
        }
    }
    tls_thread = th;
    tls_epoch = epoch + 1;
    return th->ignored ? NULL : th;
}

/* The record of the running thread (whose state is `tstate`), created on
 * first sight; NULL when it is not recorded or out of memory (the tracer is
 * then stopped). */
static inline StropThread *
thread_of(Tracer *self, PyThreadState *tstate)
{
    StropThread *th = tls_thread;
    if (tls_epoch == epoch + 1 && th->tstate == tstate)
        return th->ignored ? NULL : th;
    return thread_find(self, tstate);
}

/* Advances and returns the thread's virtual clock to the time stamp `t`,
 * read by the caller: one per event.  Callers read it first thing, so that
 * the slow time-stamp read overlaps with their checks and lookups. */
static inline uint64_t
thread_now(Tracer *self, StropThread *th, uint64_t t)
{
    uint64_t raw = t > th->last_ticks ? t - th->last_ticks : 0;
    uint64_t d = raw > self->event_cost ? raw - self->event_cost : 0;
    th->last_ticks = t;
    th->events++;
    if (self->cpu && raw > self->sync_ticks) {
        uint64_t cpu = strop_clock_thread_cpu_ns();
        double used = (double)(cpu - th->cpu_sync_ns) / strop_clock_ns_per_tick;
        double given = (double)(th->virt - th->virt_at_sync);
        double add = used - given;
        if (add < 0)
            add = 0;
        if (add < (double)d)
            d = (uint64_t)add;
        th->virt += d;
        th->cpu_sync_ns = cpu;
        th->virt_at_sync = th->virt;
        return th->virt;
    }
    th->virt += d;
    return th->virt;
}

/* ---- naming functions (the slow path of a first call) ------------------ */

/* cProfile's name of a C function, so that both tools' files agree:
 * "<built-in method builtins.len>", "<method 'append' of 'list' objects>".
 * Returns a new reference or NULL with an exception set. */
static PyObject *
c_function_name(PyMethodDef *ml, PyObject *self_obj, PyObject *module)
{
    if (self_obj == NULL) {
        PyObject *modname = NULL;
        if (module != NULL && PyUnicode_Check(module)) {
            modname = Py_NewRef(module);
        }
        else if (module != NULL && PyModule_Check(module)) {
            modname = PyModule_GetNameObject(module);
            if (modname == NULL)
                PyErr_Clear();
        }
        if (modname != NULL) {
            if (PyUnicode_CompareWithASCIIString(modname, "builtins") != 0) {
                PyObject *r = PyUnicode_FromFormat("<%U.%s>", modname, ml->ml_name);
                Py_DECREF(modname);
                return r;
            }
            Py_DECREF(modname);
        }
        return PyUnicode_FromFormat("<%s>", ml->ml_name);
    }
    {
        PyObject *name = PyUnicode_FromString(ml->ml_name);
        if (name != NULL) {
            PyObject *found = _PyType_Lookup(Py_TYPE(self_obj), name); /* borrowed */
            Py_DECREF(name);
            if (found != NULL) {
                PyObject *r;
                Py_INCREF(found);
                r = PyObject_Repr(found);
                Py_DECREF(found);
                if (r != NULL)
                    return r;
            }
        }
        PyErr_Clear();
        if (module != NULL && PyUnicode_Check(module))
            return PyUnicode_FromFormat("<built-in method %S.%s>", module, ml->ml_name);
        return PyUnicode_FromFormat("<built-in method %s>", ml->ml_name);
    }
}

/* The (file, line, name) label of a key's function.  `obj` is the code object
 * (KIND_PY) or the PyCFunction / bound self (KIND_C, see enter_c()).  New
 * reference or NULL with an exception set. */
static PyObject *
make_label(int kind, PyObject *obj, PyMethodDef *ml, PyObject *c_self, PyObject *c_module)
{
    if (kind == KIND_THREAD) {
        Py_INCREF(obj);
        return obj;
    }
    if (kind == KIND_PY) {
        PyCodeObject *code = (PyCodeObject *)obj;
        return Py_BuildValue("(OiO)", code->co_filename, code->co_firstlineno, code->co_name);
    }
    {
        PyObject *name = c_function_name(ml, c_self, c_module), *label;
        if (name == NULL)
            return NULL;
        label = Py_BuildValue("(siN)", "~", 0, name);
        return label;
    }
}

/* Whether a function is strop's own, to be left out of every profile: a C
 * function of strop's engine (a method of one of its types, such as
 * Tracer.disable, or of the module), or Python code in the folder `hide`. */
static int
is_own(Tracer *self, int kind, PyObject *obj, PyObject *c_self, PyObject *c_module)
{
    static const char engine[] = "strop._engine";
    if (kind == KIND_C) {
        const char *module = NULL;
        if (c_self != NULL && !PyModule_Check(c_self)) {
            const char *type = Py_TYPE(c_self)->tp_name;
            if (strncmp(type, engine, sizeof engine - 1) == 0 && type[sizeof engine - 1] == '.')
                return 1;
        }
        if (c_self != NULL && PyModule_Check(c_self))
            module = PyModule_GetName(c_self); /* NULL with an exception: not ours */
        else if (c_module != NULL && PyUnicode_Check(c_module))
            module = PyUnicode_AsUTF8(c_module);
        return module != NULL && strcmp(module, engine) == 0;
    }
    if (kind == KIND_PY && self->hide != NULL) {
        PyObject *file = ((PyCodeObject *)obj)->co_filename;
        return PyUnicode_Check(file) &&
               PyUnicode_Tailmatch(file, self->hide, 0, PY_SSIZE_T_MAX, -1) == 1;
    }
    return 0;
}

/* Whether function f is strop's own: enter() records no call of it, so its
 * time is its caller's, as for code that is not profiled. */
static inline int
own_function(const Tracer *self, uint32_t f)
{
    return f < self->own_cap && self->own[f];
}

/* Marks function f as strop's own.  Returns 0, or -1 when out of memory. */
static int
mark_own(Tracer *self, uint32_t f)
{
    if (f >= self->own_cap) {
        uint32_t cap = self->own_cap ? self->own_cap : 16;
        uint8_t *own;
        while (cap <= f)
            cap *= 2;
        own = strop_realloc(self->own, cap);
        if (own == NULL)
            return -1;
        memset(own + self->own_cap, 0, cap - self->own_cap);
        self->own = own;
        self->own_cap = cap;
    }
    self->own[f] = 1;
    return 0;
}

/* Finds or makes the function of a key seen for the first time.  Returns its
 * index; on a fault the tracer is stopped and STROP_NONE returned.  strop's
 * own functions (is_own) are marked so (own_function) and get no label. */
static uint32_t
new_function(Tracer *self, uintptr_t key, int kind, PyObject *obj, PyMethodDef *ml,
             PyObject *c_self, PyObject *c_module)
{
    StropErr err;
    PyObject *label = NULL, *found;
    uint32_t canon = STROP_NONE, f;

    if (self->tree.n_funcs >= self->tree.max_funcs) {
        warn_once(self, "the program ran more distinct functions than strop keeps apart: the "
                        "rest are counted as '<strop: functions beyond the cap>'");
        return strop_tree_func_add(&self->tree, key, STROP_NONE);
    }
    strop_err_save(&err);
    if (is_own(self, kind, obj, c_self, c_module)) {
        PyErr_Clear(); /* PyModule_GetName's, if any: it only means "not ours" */
        f = strop_tree_func_add(&self->tree, key, STROP_NONE);
        if (f == STROP_NONE || (f != STROP_OVERFLOW_FUNC &&
                                ((kind == KIND_PY && PyList_Append(self->keep, obj) < 0) ||
                                 mark_own(self, f) < 0)))
            goto fail;
        strop_err_restore(&err);
        return f;
    }
    PyErr_Clear();
    label = make_label(kind, obj, ml, c_self, c_module);
    if (label == NULL)
        goto fail;
    found = PyDict_GetItemWithError(self->label_index, label); /* borrowed */
    if (found != NULL) {
        canon = (uint32_t)PyLong_AsUnsignedLong(found);
    }
    else if (PyErr_Occurred()) {
        goto fail;
    }
    f = strop_tree_func_add(&self->tree, key, canon);
    if (f == STROP_NONE)
        goto fail;
    if (f != STROP_OVERFLOW_FUNC) {
        /* Keep the key's object alive: a freed code object's address could be
         * reused by another function, which would then be counted as this. */
        if (kind == KIND_PY && PyList_Append(self->keep, obj) < 0)
            goto fail;
        if (canon == STROP_NONE) {
            PyObject *index = PyLong_FromUnsignedLong(f);
            int rc;
            if (index == NULL)
                goto fail;
            rc = PyDict_SetItem(self->label_index, label, index);
            Py_DECREF(index);
            if (rc < 0)
                goto fail;
            while (PyList_GET_SIZE(self->labels) <= (Py_ssize_t)f) {
                if (PyList_Append(self->labels, Py_None) < 0)
                    goto fail;
            }
            Py_INCREF(label);
            PyList_SetItem(self->labels, f, label);
        }
    }
    Py_DECREF(label);
    strop_err_restore(&err);
    return f;
fail:
    Py_XDECREF(label);
    strop_err_restore(&err);
    self->stopped = 1;
    warn_once(self, "out of memory while naming a function: recording stopped");
    return STROP_NONE;
}

/* The `<thread NAME>` node under the root for a thread seen for the first
 * time (threads=True), keyed by its record: 'MainThread' or 'Thread IDENT'
 * until _name_threads() names it.  Returns the node; on a fault the tracer
 * is stopped and STROP_NONE returned. */
static uint32_t
thread_root(Tracer *self, StropThread *th)
{
    StropErr err;
    PyObject *label;
    uint32_t f, node;
    strop_err_save(&err);
    if (th->ident == self->main_ident)
        label = Py_BuildValue("(sis)", "~", 0, "<thread MainThread>");
    else
        /* Unique until _name_threads() names it: functions of one label are
         * one function, and a finished thread's ident is often the next's. */
        label = PyUnicode_FromFormat("<thread Thread %lu>",
                                     th->native_id ? th->native_id : th->ident);
    if (label != NULL && th->ident != self->main_ident)
        label = Py_BuildValue("(siN)", "~", 0, label);
    strop_err_restore(&err);
    if (label == NULL) {
        self->stopped = 1;
        warn_once(self, "out of memory while naming a thread: recording stopped");
        return STROP_NONE;
    }
    f = new_function(self, (uintptr_t)th, KIND_THREAD, label, NULL, NULL, NULL);
    Py_DECREF(label);
    if (f == STROP_NONE)
        return STROP_NONE;
    node = strop_tree_child_add(&self->tree, STROP_ROOT, (uintptr_t)th, f);
    if (node == STROP_NONE) {
        self->stopped = 1;
        warn_once(self, "out of memory for the call tree: recording stopped");
    }
    return node;
}

/* ---- waits=True: which C functions may block -------------------------- */

static int
name_in(const char *name, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strcmp(name, *names) == 0)
            return 1;
    return 0;
}

/* The BLOCK_* kind of a C function seen for the first time: a socket's
 * blocking methods, time.sleep, select.select and the poll objects' poll,
 * a lock's acquire.  Known by the type's or module's C name (a subclass of
 * socket.socket is one by its base), never by calling Python. */
static uint8_t
classify_wait(PyMethodDef *ml, PyObject *c_self)
{
    static const char *const socket_calls[] = {
        "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "recvmsg_into", "send",
        "sendall", "sendto", "sendmsg", "connect", "connect_ex", "_accept", NULL};
    static const char *const lock_calls[] = {"acquire", "acquire_lock", "__enter__", NULL};
    static const char *const file_calls[] = {"read",  "read1",     "readinto", "readinto1",
                                             "readall", "readline", "readlines", "peek",
                                             "write", "writelines", "flush", NULL};
    const char *name = ml->ml_name;
    if (c_self == NULL || name == NULL)
        return BLOCK_NONE;
    if (PyModule_Check(c_self)) {
        PyObject *module = PyModule_GetNameObject(c_self);
        uint8_t kind = BLOCK_NONE;
        if (module == NULL) {
            PyErr_Clear();
            return BLOCK_NONE;
        }
        if (PyUnicode_CompareWithASCIIString(module, "time") == 0 && strcmp(name, "sleep") == 0)
            kind = BLOCK_SLEEP;
        else if (PyUnicode_CompareWithASCIIString(module, "select") == 0 &&
                 strcmp(name, "select") == 0)
            kind = BLOCK_SELECT;
        Py_DECREF(module);
        return kind;
    }
    for (PyTypeObject *t = Py_TYPE(c_self); t != NULL; t = t->tp_base) {
        if (strcmp(t->tp_name, "_socket.socket") == 0)
            return name_in(name, socket_calls) ? BLOCK_SOCKET : BLOCK_NONE;
        if (strcmp(t->tp_name, "_thread.lock") == 0 || strcmp(t->tp_name, "_thread.RLock") == 0)
            return name_in(name, lock_calls) ? BLOCK_LOCK : BLOCK_NONE;
        if (strcmp(t->tp_name, "select.poll") == 0 || strcmp(t->tp_name, "select.epoll") == 0 ||
            strcmp(t->tp_name, "select.devpoll") == 0)
            return strcmp(name, "poll") == 0 ? BLOCK_SELECT : BLOCK_NONE;
        if (strcmp(t->tp_name, "_io.FileIO") == 0 || strcmp(t->tp_name, "_io.BufferedReader") == 0 ||
            strcmp(t->tp_name, "_io.BufferedWriter") == 0 ||
            strcmp(t->tp_name, "_io.BufferedRandom") == 0 ||
            strcmp(t->tp_name, "_io.TextIOWrapper") == 0)
            return name_in(name, file_calls) ? BLOCK_FILE : BLOCK_NONE;
    }
    return BLOCK_NONE;
}

/* Whether `tp` is the _io type named `name`, or a subclass of it. */
static int
io_type_is(PyTypeObject *tp, const char *name)
{
    for (; tp != NULL; tp = tp->tp_base)
        if (strcmp(tp->tp_name, name) == 0)
            return 1;
    return 0;
}

/* The file descriptor under a file object of the io module: a FileIO's own
 * (an int just after the object's header, 3.8 to 3.13), through a buffered
 * file's raw file and a text file's buffer (at the offsets found at init).
 * -1 when it is none of these.  Reads memory only. */
static int
io_file_fd(const Tracer *self, PyObject *o)
{
    for (int hops = 0; hops < 3 && o != NULL; hops++) {
        PyTypeObject *tp = Py_TYPE(o);
        if (io_type_is(tp, "_io.FileIO"))
            return strop_socket_fd(o); /* the same place: an int after the header */
        if (self->io_raw_off > 0 &&
            (io_type_is(tp, "_io.BufferedReader") || io_type_is(tp, "_io.BufferedWriter") ||
             io_type_is(tp, "_io.BufferedRandom")))
            memcpy(&o, (const char *)o + self->io_raw_off, sizeof o);
        else if (self->io_buffer_off > 0 && io_type_is(tp, "_io.TextIOWrapper"))
            memcpy(&o, (const char *)o + self->io_buffer_off, sizeof o);
        else
            return -1;
    }
    return -1;
}

/* The offset in `obj` (within its basic size) of a pointer to `target`, or -1. */
static Py_ssize_t
pointer_offset(PyObject *obj, PyObject *target)
{
    Py_ssize_t end = Py_TYPE(obj)->tp_basicsize;
    for (Py_ssize_t off = (Py_ssize_t)sizeof(PyObject); off + (Py_ssize_t)sizeof(void *) <= end;
         off += (Py_ssize_t)sizeof(void *)) {
        PyObject *p;
        memcpy(&p, (const char *)obj + off, sizeof p);
        if (p == target)
            return off;
    }
    return -1;
}

/* Finds where buffered and text files keep their raw file and buffer, in
 * real ones opened on /dev/null (the structs are private to the io module).
 * Leaves -1 where it cannot tell; never raises. */
static void
io_file_offsets(Tracer *self)
{
    PyObject *io = PyImport_ImportModule("io"), *binary = NULL, *text = NULL, *inner = NULL;
    self->io_raw_off = self->io_buffer_off = -1;
    if (io == NULL)
        goto done;
    binary = PyObject_CallMethod(io, "open", "ss", "/dev/null", "rb");
    text = PyObject_CallMethod(io, "open", "ss", "/dev/null", "r");
    if (binary != NULL && (inner = PyObject_GetAttrString(binary, "raw")) != NULL)
        self->io_raw_off = pointer_offset(binary, inner);
    Py_CLEAR(inner);
    if (text != NULL && (inner = PyObject_GetAttrString(text, "buffer")) != NULL)
        self->io_buffer_off = pointer_offset(text, inner);
    Py_CLEAR(inner);
done:
    PyErr_Clear();
    if (binary != NULL && PyObject_CallMethod(binary, "close", NULL) == NULL)
        PyErr_Clear();
    if (text != NULL && PyObject_CallMethod(text, "close", NULL) == NULL)
        PyErr_Clear();
    Py_XDECREF(binary);
    Py_XDECREF(text);
    Py_XDECREF(io);
}

/* Records function f's BLOCK_* kind.  Returns 0, or -1 when out of memory. */
static int
set_wait_kind(Tracer *self, uint32_t f, uint8_t kind)
{
    if (f >= self->wait_cap) {
        uint32_t cap = self->wait_cap ? self->wait_cap : 64;
        uint8_t *kinds;
        while (cap <= f)
            cap *= 2;
        kinds = strop_realloc(self->wait_kind, cap);
        if (kinds == NULL)
            return -1;
        memset(kinds + self->wait_cap, 0, cap - self->wait_cap);
        self->wait_kind = kinds;
        self->wait_cap = cap;
    }
    self->wait_kind[f] = kind;
    return 0;
}

/* A blocking call ends: `ticks` of it go to its endpoint, with the function
 * that made it (the frame below, if any).  Runs in the hook: allocates
 * nothing, calls no Python; a socket's endpoint is read from the kernel. */
static void
count_wait(Tracer *self, StropThread *th, const StropFrame *frame, uint64_t ticks)
{
    char endpoint[168];
    uint32_t caller = th->depth ? self->tree.nodes[th->stack[th->depth - 1].node].func
                                : UINT32_MAX;
    switch (frame->wait) {
    case BLOCK_SOCKET:
        strop_callwaits_socket_endpoint(frame->wait_fd, endpoint, sizeof endpoint);
        break;
    case BLOCK_SLEEP:
        snprintf(endpoint, sizeof endpoint, "sleep");
        break;
    case BLOCK_SELECT:
        snprintf(endpoint, sizeof endpoint, "select/poll/epoll over several fds");
        break;
    case BLOCK_FILE:
        strop_callwaits_file_endpoint(frame->wait_fd, endpoint, sizeof endpoint);
        break;
    default:
        snprintf(endpoint, sizeof endpoint, "lock");
        break;
    }
    if (strop_callwaits_add(self->call_waits, endpoint,
                            (uint64_t)((double)ticks * strop_clock_ns_per_tick), caller) < 0)
        warn_once(self, "the program waited on more endpoints than strop keeps apart: the "
                        "rest are left out of the waits table");
}

/* ---- the hot path ---------------------------------------------------- */

/* A call of function `key` on thread `th`.  `obj`, `ml`, `c_self`, `c_module`
 * serve only to name a function seen for the first time. */
static inline __attribute__((always_inline)) void
enter(Tracer *self, StropThread *th, uint64_t t, uintptr_t key, int kind, PyObject *obj,
      PyMethodDef *ml, PyObject *c_self, PyObject *c_module)
{
    uint64_t now = thread_now(self, th, t);
    uint32_t parent = th->depth ? th->stack[th->depth - 1].node : th->root;
    uint32_t child = strop_tree_child_find(&self->tree, parent, key);
    StropFrame *frame;

    if (child == STROP_NONE) {
        uint32_t f = strop_tree_func_find(&self->tree, key);
        if (f == STROP_NONE) {
            strop_alloc_suspended++; /* naming is strop's work, not the program's */
            f = new_function(self, key, kind, obj, ml, c_self, c_module);
            if (f != STROP_NONE && self->call_waits != NULL && kind == KIND_C &&
                f != STROP_OVERFLOW_FUNC) {
                StropErr err;
                uint8_t wait;
                strop_err_save(&err);
                wait = classify_wait(ml, c_self);
                strop_err_restore(&err);
                if (wait != BLOCK_NONE && set_wait_kind(self, f, wait) < 0) {
                    self->stopped = 1;
                    warn_once(self, "out of memory for the waits table: recording stopped");
                    f = STROP_NONE;
                }
            }
            strop_alloc_suspended--;
            if (f == STROP_NONE)
                return;
        }
        if (own_function(self, f))
            return; /* never a node: the call is not pushed */
        child = strop_tree_child_add(&self->tree, parent, key, f);
        if (child == STROP_NONE) {
            self->stopped = 1;
            warn_once(self, "out of memory for the call tree: recording stopped");
            return;
        }
        if (child == STROP_OVERFLOW_NODE && !self->warned_cap) {
            self->warned_cap = 1;
            warn_once(self, "the call tree reached its size cap: further new call paths are "
                            "counted as '<strop: functions beyond the cap>'");
        }
    }
    if (th->depth == th->cap) {
        StropFrame *stack = strop_realloc(th->stack, 2 * (size_t)th->cap * sizeof *stack);
        if (stack == NULL) {
            self->stopped = 1;
            warn_once(self, "out of memory for a thread's stack: recording stopped");
            return;
        }
        th->stack = stack;
        th->cap *= 2;
    }
    frame = &th->stack[th->depth++];
    frame->key = key;
    frame->node = child;
    frame->start = now;
    frame->child = 0;
    frame->raw_start = th->last_ticks;
    frame->wait = BLOCK_NONE;
    if (self->wait_kind != NULL && kind == KIND_C) {
        uint32_t f = self->tree.nodes[child].func;
        if (f < self->wait_cap && (frame->wait = self->wait_kind[f]) == BLOCK_SOCKET)
            frame->wait_fd = c_self != NULL ? strop_socket_fd(c_self) : -1;
        else if (f < self->wait_cap && frame->wait == BLOCK_FILE)
            frame->wait_fd = c_self != NULL ? io_file_fd(self, c_self) : -1;
    }
}

/* Closes the top frame at virtual time `now`. */
static inline __attribute__((always_inline)) void
pop_frame(Tracer *self, StropThread *th, uint64_t now)
{
    StropFrame *frame = &th->stack[--th->depth];
    StropNode *node = &self->tree.nodes[frame->node];
    uint64_t elapsed = now > frame->start ? now - frame->start : 0;
    node->calls++;
    node->total_ticks += elapsed;
    node->self_ticks += elapsed > frame->child ? elapsed - frame->child : 0;
    if (th->depth)
        th->stack[th->depth - 1].child += elapsed;
    if (frame->wait != BLOCK_NONE && self->call_waits != NULL)
        count_wait(self, th, frame, elapsed);
    if (self->spans != NULL) {
        if (self->n_spans < self->max_spans) {
            StropSpan *span = &self->spans[self->n_spans++];
            span->func = node->func;
            span->thread = th->index;
            span->start = frame->raw_start;
            span->end = th->last_ticks;
        }
        else if (self->dropped_spans++ == 0) {
            warn_once(self, "the timeline is full: later calls are counted in the profile "
                            "but not drawn in the timeline (keep more with timeline=N)");
        }
    }
}

/* A return from function `key`.  Events the tracer missed (a hook that was
 * replaced for a while, a tracer enabled mid-call) must not corrupt the tree:
 * a return of a function that is not on the stack is ignored, and frames
 * above the one returning are closed with it. */
static inline void
leave(Tracer *self, StropThread *th, uint64_t t, uintptr_t key)
{
    uint64_t now = thread_now(self, th, t);
    uint32_t d = th->depth;
    if (d == 0)
        return;
    if (th->stack[d - 1].key != key) {
        while (d > 0 && th->stack[d - 1].key != key)
            d--;
        if (d == 0)
            return;
        while (th->depth > d)
            pop_frame(self, th, now);
    }
    pop_frame(self, th, now);
}

static void
flush_thread(Tracer *self, StropThread *th)
{
    if (th->depth) {
        uint64_t now = thread_now(self, th, strop_clock_ticks());
        while (th->depth)
            pop_frame(self, th, now);
    }
    th->generation++;
}

/* ---- for the allocation hooks (tracer.h) ------------------------------ */

uint32_t
strop_tracer_site(const void *owner, uint16_t *stamp)
{
    StropThread *th;
    *stamp = 0;
    if (active == NULL || (const void *)active != owner || tls_epoch != epoch + 1)
        return STROP_ROOT;
    th = tls_thread;
    if (th->depth == 0)
        return th->root;
    *stamp = (uint16_t)th->stack[th->depth - 1].raw_start;
    return th->stack[th->depth - 1].node;
}

int
strop_tracer_site_running(const void *owner, uint32_t node, uint16_t stamp)
{
    Tracer *self = active;
    StropThread *th;
    uint32_t depth, i;
    if (self == NULL || (const void *)self != owner || tls_epoch != epoch + 1 ||
        node <= STROP_OVERFLOW_NODE || node >= self->tree.n_nodes)
        return 0;
    th = tls_thread;
    depth = self->tree.nodes[node].depth; /* the root's children are at depth 1 */
    if (th->root != STROP_ROOT)
        depth--; /* under the thread's `<thread NAME>` node */
    if (depth == 0)
        return 0;
    i = depth - 1;
    return i < th->depth && th->stack[i].node == node &&
           (uint16_t)th->stack[i].raw_start == stamp;
}

/* ---- mechanism 1: the C profile hook (3.8 to 3.11) ------------------- */

static int
profile_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    Tracer *self = (Tracer *)obj;
    uint64_t t = strop_clock_ticks();
    StropThread *th;
    if (self->stopped || self != active)
        return 0;
    th = thread_of(self, PyThreadState_Get());
    if (th == NULL)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = strop_frame_code(frame);
        enter(self, th, t, (uintptr_t)code, KIND_PY, (PyObject *)code, NULL, NULL, NULL);
        break;
    }
    case PyTrace_RETURN:
        leave(self, th, t, (uintptr_t)strop_frame_code(frame));
        break;
    case PyTrace_C_CALL:
        if (self->builtins && PyCFunction_Check(arg)) {
            PyCFunctionObject *fn = (PyCFunctionObject *)arg;
            enter(self, th, t, (uintptr_t)fn->m_ml, KIND_C, arg, fn->m_ml, fn->m_self,
                  fn->m_module);
        }
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (self->builtins && PyCFunction_Check(arg))
            leave(self, th, t, (uintptr_t)((PyCFunctionObject *)arg)->m_ml);
        break;
    default:
        break;
    }
    return 0;
}

/* threading.setprofile() target: the first event of a thread started while
 * recording installs the C hook on that thread, then counts as a call. */
static PyObject *
Tracer_thread_bootstrap(Tracer *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 3 && self == active && !self->stopped && PyFrame_Check(args[0])) {
        PyEval_SetProfile(profile_hook, (PyObject *)self);
        if (PyUnicode_Check(args[1]) && PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
            profile_hook((PyObject *)self, (PyFrameObject *)args[0], PyTrace_CALL, Py_None);
    }
    Py_RETURN_NONE;
}

static PyObject *
threading_module_call(const char *name, PyObject *arg)
{
    PyObject *threading = PyImport_ImportModule("threading"), *r;
    if (threading == NULL)
        return NULL;
    r = PyObject_CallMethod(threading, name, arg ? "(O)" : "()", arg);
    Py_DECREF(threading);
    return r;
}

static int
setprofile_enable(Tracer *self)
{
    PyObject *boot, *r, *previous;
    /* Threads started from now on install the hook on their first event. */
    {
        PyObject *threading = PyImport_ImportModule("threading");
        if (threading == NULL)
            return -1;
        previous = PyObject_GetAttrString(threading, "_profile_hook");
        Py_DECREF(threading);
        if (previous == NULL) {
            PyErr_Clear();
            previous = Py_NewRef(Py_None);
        }
    }
    Py_XSETREF(self->saved_threading_profile, previous);
    boot = PyObject_GetAttrString((PyObject *)self, "_thread_bootstrap");
    if (boot == NULL)
        return -1;
    Py_XSETREF(self->bootstrap, boot);
    r = threading_module_call("setprofile", boot);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    strop_set_profile_all(profile_hook, (PyObject *)self);
    return 0;
}

static void
setprofile_disable(Tracer *self)
{
    PyInterpreterState *interp = strop_interp();
    int lost = 0;
    PyObject *r;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        PyObject *obj;
        if (strop_get_profile(ts, &obj) != profile_hook)
            lost = 1;
    }
    strop_set_profile_all(NULL, NULL);
    if (lost)
        warn_once(self, "another profiler (cProfile, sys.setprofile) replaced strop's hook on "
                        "a thread: calls made after that on it are missing");
    {
        /* Give threading back its hook, unless the program set one of its own. */
        PyObject *threading = PyImport_ImportModule("threading"), *current = NULL;
        if (threading != NULL)
            current = PyObject_GetAttrString(threading, "_profile_hook");
        Py_XDECREF(threading);
        if (current == NULL) {
            PyErr_Clear();
        }
        else if (current == self->bootstrap) {
            r = threading_module_call("setprofile", self->saved_threading_profile
                                                        ? self->saved_threading_profile
                                                        : Py_None);
            if (r == NULL)
                PyErr_WriteUnraisable((PyObject *)self);
            Py_XDECREF(r);
        }
        else {
            warn_once(self, "the program replaced threading.setprofile(): threads it started "
                            "after that are not profiled");
        }
        Py_XDECREF(current);
    }
    Py_CLEAR(self->saved_threading_profile);
    Py_CLEAR(self->bootstrap);
}

/* ---- mechanism 2: sys.monitoring (3.12+) ------------------------------ */

#if STROP_HAVE_MONITORING
static PyObject *monitoring_missing = NULL; /* sys.monitoring.MISSING; GIL */

static inline Tracer *
monitored(PyObject *self_obj, StropThread **th)
{
    Tracer *self = (Tracer *)self_obj;
    if (self->stopped || self != active || self->mech != MECH_MONITORING)
        return NULL;
    if (tls_epoch == epoch + 1) { /* no thread state to compare: see thread_of() */
        *th = tls_thread;
        return (*th)->ignored ? NULL : self;
    }
    *th = thread_find(self, strop_tstate());
    return *th ? self : NULL;
}

static PyObject *
mon_py_start(PyObject *self_obj, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t t = strop_clock_ticks();
    StropThread *th;
    Tracer *self = monitored(self_obj, &th);
    if (self != NULL && nargs >= 1)
        enter(self, th, t, (uintptr_t)args[0], KIND_PY, args[0], NULL, NULL, NULL);
    Py_RETURN_NONE;
}

static PyObject *
mon_py_return(PyObject *self_obj, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t t = strop_clock_ticks();
    StropThread *th;
    Tracer *self = monitored(self_obj, &th);
    if (self != NULL && nargs >= 1)
        leave(self, th, t, (uintptr_t)args[0]);
    Py_RETURN_NONE;
}

/* The PyMethodDef a CALL event runs in C, as cProfile sees it: a builtin
 * function, or a method descriptor called with its self.  NULL otherwise.
 * *c_self and *c_module are borrowed. */
static inline PyMethodDef *
called_c_function(PyObject *callable, PyObject *arg0, PyObject **c_self, PyObject **c_module)
{
    /* CALL fires for every call: dismiss Python functions and methods, the
     * common case, before PyCFunction_Check's walk of the type's MRO. */
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyFunction_Type || type == &PyMethod_Type)
        return NULL;
    if (PyCFunction_Check(callable)) {
        PyCFunctionObject *fn = (PyCFunctionObject *)callable;
        *c_self = fn->m_self;
        *c_module = fn->m_module;
        return fn->m_ml;
    }
    if (type == &PyMethodDescr_Type && arg0 != monitoring_missing) {
        PyMethodDescrObject *descr = (PyMethodDescrObject *)callable;
        if (!PyObject_TypeCheck(arg0, descr->d_common.d_type))
            return NULL;
        *c_self = arg0;
        *c_module = NULL;
        return descr->d_method;
    }
    return NULL;
}

/* CALL (`call` = 1) and C_RETURN / C_RAISE (0) of a C function.  CALL fires
 * for every call, Python functions included: those are dismissed first
 * (PY_START records them), before the tracer's own checks. */
static inline PyObject *
mon_c_event(PyObject *self_obj, PyObject *const *args, Py_ssize_t nargs, int call)
{
    PyObject *c_self, *c_module;
    PyMethodDef *ml;
    StropThread *th;
    Tracer *self;
    uint64_t t;
    if (nargs < 4 || (ml = called_c_function(args[2], args[3], &c_self, &c_module)) == NULL)
        Py_RETURN_NONE;
    t = strop_clock_ticks();
    self = monitored(self_obj, &th);
    if (self != NULL && call)
        enter(self, th, t, (uintptr_t)ml, KIND_C, args[2], ml, c_self, c_module);
    else if (self != NULL)
        leave(self, th, t, (uintptr_t)ml);
    Py_RETURN_NONE;
}

static PyObject *
mon_call(PyObject *self_obj, PyObject *const *args, Py_ssize_t nargs)
{
    return mon_c_event(self_obj, args, nargs, 1);
}

static PyObject *
mon_c_return(PyObject *self_obj, PyObject *const *args, Py_ssize_t nargs)
{
    return mon_c_event(self_obj, args, nargs, 0);
}

static PyMethodDef mon_defs[] = {
    {"_py_start", (PyCFunction)(void (*)(void))mon_py_start, METH_FASTCALL, NULL},
    {"_py_return", (PyCFunction)(void (*)(void))mon_py_return, METH_FASTCALL, NULL},
    {"_call", (PyCFunction)(void (*)(void))mon_call, METH_FASTCALL, NULL},
    {"_c_return", (PyCFunction)(void (*)(void))mon_c_return, METH_FASTCALL, NULL},
};

/* event name -> index in mon_defs */
static const struct {
    const char *event;
    int def;
    int c_only;  /* only when builtins are counted */
    int in_mask; /* C_RETURN and C_RAISE are switched on with CALL, not alone */
} mon_events[] = {
    {"PY_START", 0, 0, 1},  {"PY_RESUME", 0, 0, 1}, {"PY_THROW", 0, 0, 1},
    {"PY_RETURN", 1, 0, 1}, {"PY_YIELD", 1, 0, 1},  {"PY_UNWIND", 1, 0, 1},
    {"CALL", 2, 1, 1},      {"C_RETURN", 3, 1, 0},  {"C_RAISE", 3, 1, 0},
};

static int
monitoring_enable(Tracer *self)
{
    PyObject *mon = NULL, *events = NULL, *r = NULL, *cb = NULL;
    long mask = 0;
    int status = -1;

    mon = PySys_GetObject("monitoring"); /* borrowed */
    if (mon == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing");
        goto done;
    }
    Py_INCREF(mon);
    if (monitoring_missing == NULL) {
        monitoring_missing = PyObject_GetAttrString(mon, "MISSING");
        if (monitoring_missing == NULL)
            goto done;
    }
    /* A free tool id of our own: 2 is cProfile's, 0 debuggers', 1 coverage's. */
    self->tool_id = -1;
    for (int id = 3; id <= 4 && self->tool_id < 0; id++) {
        r = PyObject_CallMethod(mon, "get_tool", "i", id);
        if (r == NULL)
            goto done;
        if (r == Py_None)
            self->tool_id = id;
        Py_CLEAR(r);
    }
    if (self->tool_id < 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "sys.monitoring tool ids 3 and 4 are both taken: strop cannot "
                        "profile beside the tools that hold them");
        goto done;
    }
    r = PyObject_CallMethod(mon, "use_tool_id", "is", self->tool_id, "strop");
    if (r == NULL)
        goto done;
    Py_CLEAR(r);
    events = PyObject_GetAttrString(mon, "events");
    if (events == NULL)
        goto done;
    for (size_t i = 0; i < sizeof mon_events / sizeof mon_events[0]; i++) {
        PyObject *bit;
        long value;
        if (mon_events[i].c_only && !self->builtins)
            continue;
        bit = PyObject_GetAttrString(events, mon_events[i].event);
        if (bit == NULL)
            goto done;
        value = PyLong_AsLong(bit);
        Py_DECREF(bit);
        if (value == -1 && PyErr_Occurred())
            goto done;
        cb = PyCFunction_New(&mon_defs[mon_events[i].def], (PyObject *)self);
        if (cb == NULL)
            goto done;
        r = PyObject_CallMethod(mon, "register_callback", "ilO", self->tool_id, value, cb);
        Py_CLEAR(cb);
        if (r == NULL)
            goto done;
        Py_CLEAR(r);
        if (mon_events[i].in_mask)
            mask |= value;
    }
    r = PyObject_CallMethod(mon, "set_events", "il", self->tool_id, mask);
    if (r == NULL)
        goto done;
    status = 0;
done:
    if (status < 0 && self->tool_id >= 0 && mon != NULL) {
        StropErr err;
        strop_err_save(&err);
        Py_XDECREF(PyObject_CallMethod(mon, "free_tool_id", "i", self->tool_id));
        strop_err_restore(&err);
        self->tool_id = -1;
    }
    Py_XDECREF(r);
    Py_XDECREF(cb);
    Py_XDECREF(events);
    Py_XDECREF(mon);
    return status;
}

static void
monitoring_disable(Tracer *self)
{
    PyObject *mon = PySys_GetObject("monitoring"), *r; /* borrowed */
    if (mon == NULL)
        goto fail;
    Py_INCREF(mon);
    r = PyObject_CallMethod(mon, "set_events", "ii", self->tool_id, 0);
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    for (size_t i = 0; i < sizeof mon_events / sizeof mon_events[0]; i++) {
        PyObject *events = PyObject_GetAttrString(mon, "events"), *bit;
        if (events == NULL)
            goto fail;
        bit = PyObject_GetAttrString(events, mon_events[i].event);
        Py_DECREF(events);
        if (bit == NULL)
            goto fail;
        r = PyObject_CallMethod(mon, "register_callback", "iOO", self->tool_id, bit, Py_None);
        Py_DECREF(bit);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
    }
    r = PyObject_CallMethod(mon, "free_tool_id", "i", self->tool_id);
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    Py_DECREF(mon);
    self->tool_id = -1;
    return;
fail:
    Py_XDECREF(mon);
    PyErr_WriteUnraisable((PyObject *)self);
    self->tool_id = -1;
}
#endif /* STROP_HAVE_MONITORING */

/* ---- mechanism 3: the frame-evaluation hook (3.9+) ------------------- */

#if STROP_FAST_EVALFRAME
static PyObject *evalframe_hook(PyThreadState *tstate, StropEvalFrame *frame, int throwflag);

static inline PyObject *
eval_next(PyThreadState *tstate, StropEvalFrame *frame, int throwflag)
{
    if (chained_eval != NULL)
        return chained_eval(tstate, frame, throwflag);
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}

static void
evalframe_uninstall(void)
{
    PyInterpreterState *interp = strop_interp();
    if (strop_get_evalframe(interp) == evalframe_hook)
        strop_set_evalframe(interp, chained_eval);
    chained_eval = NULL;
}

/* Whether this evaluation of `code` only made the generator (or coroutine)
 * `result`: since 3.11 a generator function's frame is evaluated once to run
 * RETURN_GENERATOR, which no profile hook reports as a call. */
static inline int
creates_generator(PyObject *code, PyObject *result)
{
#if PY_VERSION_HEX >= 0x030B0000
    static const char *attrs[] = {"gi_code", "cr_code", "ag_code"};
    int kind;
    if (result == NULL ||
        !(((PyCodeObject *)code)->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)))
        return 0;
    if (PyGen_CheckExact(result))
        kind = 0;
    else if (PyCoro_CheckExact(result))
        kind = 1;
    else if (PyAsyncGen_CheckExact(result))
        kind = 2;
    else
        return 0;
    {
        StropErr err;
        PyObject *its_code;
        int same;
        strop_err_save(&err);
        its_code = PyObject_GetAttrString(result, attrs[kind]);
        same = its_code == code;
        Py_XDECREF(its_code);
        strop_err_restore(&err);
        return same;
    }
#else
    (void)code;
    (void)result;
    return 0;
#endif
}

static PyObject *
evalframe_hook(PyThreadState *tstate, StropEvalFrame *frame, int throwflag)
{
    Tracer *self = active;
    PyObject *code, *result;
    StropThread *th;
    uint64_t my_epoch;
    uint32_t depth, generation;
    uint64_t t;
    char here;

    if (self == NULL || self->stopped || self->mech != MECH_EVALFRAME)
        return eval_next(tstate, frame, throwflag);
    t = strop_clock_ticks();
    code = strop_evalframe_code(frame);
    if (code == NULL)
        return eval_next(tstate, frame, throwflag);
    th = thread_of(self, tstate);
    if (th == NULL)
        return eval_next(tstate, frame, throwflag);
    /* Every call now nests on the C stack (3.11 would have inlined it): stop
     * before the stack runs out. */
    if ((uintptr_t)&here < th->stack_floor) {
        self->stopped = 1;
        warn_once(self, "recursion too deep for fast mode (--no-builtins): recording stopped "
                        "there; profile with builtins counted to see deeper");
        evalframe_uninstall();
        return eval_next(tstate, frame, throwflag);
    }
    depth = th->depth;
    enter(self, th, t, (uintptr_t)code, KIND_PY, code, NULL, NULL, NULL);
    if (th->depth != depth + 1) /* not pushed: strop's own code, or a fault */
        return eval_next(tstate, frame, throwflag);
    depth = th->depth;
    generation = th->generation;
    my_epoch = epoch;
    result = eval_next(tstate, frame, throwflag);
    t = strop_clock_ticks();
    /* The tracer may have been disabled, cleared or freed meanwhile. */
    if (epoch == my_epoch && active == self && th->generation == generation && th->depth == depth) {
        if (creates_generator(code, result))
            th->depth--; /* not a call for cProfile: its time stays the caller's */
        else
            pop_frame(self, th, thread_now(self, th, t));
    }
    return result;
}

static int
evalframe_enable(Tracer *self)
{
    PyInterpreterState *interp = strop_interp();
    StropEvalFunc current = strop_get_evalframe(interp);
    (void)self;
    if (current == evalframe_hook)
        return 0;
    /* Chain to a frame evaluator that is already there (a debugger, a JIT). */
    chained_eval = current == (StropEvalFunc)_PyEval_EvalFrameDefault ? NULL : current;
    strop_set_evalframe(interp, evalframe_hook);
    return 0;
}
#endif /* STROP_FAST_EVALFRAME */

/* ---- calibration ------------------------------------------------------- */

/* Ticks of our own work per event, measured by running enter() and leave()
 * on a scratch tracer; the smallest of a few rounds, so as never to subtract
 * more than the real cost. */
static double
measure_event_cost(void)
{
    enum { N = 4000 };
    static double cost = -1;
    Tracer scratch;
    StropThread th;
    StropFrame stack[4];
    double best = 1e300;
    if (cost >= 0)
        return cost;
    memset(&scratch, 0, sizeof scratch);
    memset(&th, 0, sizeof th);
    if (strop_tree_init(&scratch.tree, 0, 0) < 0)
        return 0;
    th.stack = stack;
    th.cap = 4;
    {
        /* The common case: the child found in one compare. */
        uint32_t f = strop_tree_func_add(&scratch.tree, 1, STROP_NONE);
        strop_tree_child_add(&scratch.tree, STROP_ROOT, 1, f);
    }
    for (int round = 0; round < 7; round++) {
        uint64_t t0 = strop_clock_ticks();
        for (int i = 0; i < N; i++) {
            enter(&scratch, &th, strop_clock_ticks(), 1, KIND_PY, NULL, NULL, NULL, NULL);
            leave(&scratch, &th, strop_clock_ticks(), 1);
        }
        double per = (double)(strop_clock_ticks() - t0) / (2.0 * N);
        if (per < best)
            best = per;
    }
    strop_tree_free(&scratch.tree);
    cost = best;
    return cost;
}

/* ---- the Python type ----------------------------------------------------- */

static void
warn_once(Tracer *self, const char *message)
{
    StropErr err;
    PyObject *s;
    strop_err_save(&err);
    s = PyUnicode_FromString(message);
    if (s != NULL) {
        int seen = PySequence_Contains(self->warnings, s);
        if (seen == 0)
            PyList_Append(self->warnings, s);
        Py_DECREF(s);
    }
    strop_err_restore(&err);
}

static int
Tracer_init(Tracer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"builtins", "timer",    "mechanism", "max_nodes", "max_functions",
                             "timeline", "threads", "hide",      "memory",    "sample_bytes",
                             "waits",    NULL};
    int builtins = 1, threads = 0, memory = 0, waits = 0;
    unsigned long long sample_bytes = 0;
    const char *timer = "wall", *mechanism = "auto";
    unsigned long long max_nodes = 0, max_funcs = 0, timeline = 0;
    PyObject *hide = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|pssKKKpOpKp", kwlist, &builtins, &timer,
                                     &mechanism, &max_nodes, &max_funcs, &timeline, &threads,
                                     &hide, &memory, &sample_bytes, &waits))
        return -1;
    if (waits && (!builtins || strcmp(timer, "wall") != 0)) {
        PyErr_SetString(PyExc_ValueError,
                        "waits=True times the C calls that block: it needs builtins=True and "
                        "timer='wall'");
        return -1;
    }
    if (hide != Py_None && !PyUnicode_Check(hide)) {
        PyErr_SetString(PyExc_TypeError, "hide must be a folder's path (str) or None");
        return -1;
    }
    if (strcmp(timer, "wall") != 0 && strcmp(timer, "cpu") != 0) {
        PyErr_Format(PyExc_ValueError, "timer must be 'wall' or 'cpu', not '%s'", timer);
        return -1;
    }
    if (strcmp(mechanism, "auto") == 0) {
#if STROP_FAST_EVALFRAME
        if (!builtins)
            self->want = MECH_EVALFRAME;
        else
#endif
            self->want = STROP_HAVE_MONITORING ? MECH_MONITORING : MECH_SETPROFILE;
    }
    else if (strcmp(mechanism, "setprofile") == 0) {
        self->want = MECH_SETPROFILE;
    }
    else if (strcmp(mechanism, "monitoring") == 0 && STROP_HAVE_MONITORING) {
        self->want = MECH_MONITORING;
    }
    else if (strcmp(mechanism, "evalframe") == 0 && STROP_FAST_EVALFRAME && !builtins) {
        self->want = MECH_EVALFRAME;
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "mechanism '%s' is not available here (with builtins=%s): choose 'auto', "
                     "'setprofile'%s%s",
                     mechanism, builtins ? "True" : "False",
                     STROP_HAVE_MONITORING ? ", 'monitoring'" : "",
                     STROP_FAST_EVALFRAME && !builtins ? ", 'evalframe'" : "");
        return -1;
    }
    if (self->labels != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Tracer is already initialized");
        return -1;
    }
    self->builtins = builtins;
    self->threads_mode = threads;
    if (waits && self->call_waits == NULL &&
        (self->call_waits = strop_callwaits_new()) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (waits)
        io_file_offsets(self);
    self->mem_view = -1;
    if (memory && (self->mem = strop_memtrace_new((uint64_t)sample_bytes)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (hide != Py_None && PyUnicode_GET_LENGTH(hide) > 0)
        self->hide = Py_NewRef(hide);
    if (threads) {
        /* The main thread is named apart: its ident, once, here. */
        PyObject *main = threading_module_call("main_thread", NULL), *ident;
        if (main == NULL)
            return -1;
        ident = PyObject_GetAttrString(main, "ident");
        Py_DECREF(main);
        if (ident == NULL)
            return -1;
        self->main_ident = ident == Py_None ? 0 : PyLong_AsUnsignedLong(ident);
        Py_DECREF(ident);
        if (PyErr_Occurred())
            return -1;
    }
    self->cpu = strcmp(timer, "cpu") == 0;
    self->tool_id = -1;
    strop_clock_init();
    self->event_cost = (uint64_t)measure_event_cost();
    self->sync_ticks = (uint64_t)(CPU_SYNC_NS / strop_clock_ns_per_tick);
    if (strop_tree_init(&self->tree, (uint32_t)max_nodes, (uint32_t)max_funcs) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (timeline > 0) {
        /* A bounded buffer, taken whole now so that no call allocates. */
        self->max_spans = (size_t)timeline;
        self->spans = strop_malloc(self->max_spans * sizeof *self->spans);
        if (self->spans == NULL) {
            PyErr_Format(PyExc_MemoryError, "no memory for a timeline of %llu calls",
                         timeline);
            return -1;
        }
    }
    self->labels = PyList_New(0);
    self->label_index = PyDict_New();
    self->keep = PyList_New(0);
    self->warnings = PyList_New(0);
    if (!self->labels || !self->label_index || !self->keep || !self->warnings)
        return -1;
    /* Function 0 is the catch-all for what lies beyond the caps. */
    {
        PyObject *label = Py_BuildValue("(sis)", "~", 0, "<strop: functions beyond the cap>");
        if (label == NULL || PyList_Append(self->labels, label) < 0) {
            Py_XDECREF(label);
            return -1;
        }
        Py_DECREF(label);
    }
    return 0;
}

static void
free_threads(Tracer *self)
{
    StropThread *th = self->threads;
    while (th != NULL) {
        StropThread *next = th->next;
        strop_free(th->stack);
        strop_free(th);
        th = next;
    }
    self->threads = NULL;
    epoch++; /* no cached record may outlive its thread's */
}

static int
tracer_disable(Tracer *self)
{
    if (!self->enabled)
        return 0;
    switch (self->mech) {
    case MECH_SETPROFILE:
        setprofile_disable(self);
        break;
#if STROP_HAVE_MONITORING
    case MECH_MONITORING:
        monitoring_disable(self);
        break;
#endif
#if STROP_FAST_EVALFRAME
    case MECH_EVALFRAME:
        evalframe_uninstall();
        break;
#endif
    default:
        break;
    }
    for (StropThread *th = self->threads; th != NULL; th = th->next) {
        flush_thread(self, th);
        th->ignored = 0;
    }
    strop_memtrace_detach(self->mem);
    self->recorded_ticks += strop_clock_ticks() - self->enable_ticks;
    self->enabled = 0;
    self->mech = MECH_NONE;
    epoch++;
    active = NULL;
    if (self->paused != NULL) {
        /* Give the process back to the tracer this one paused. */
        Tracer *paused = self->paused;
        self->paused = NULL;
        warn_once(paused, "another strop profiler ran inside this one: its calls are missing");
        paused->enabled = 0;
        if (PyObject_CallMethod((PyObject *)paused, "enable", NULL) == NULL)
            PyErr_WriteUnraisable((PyObject *)paused);
        Py_DECREF(paused);
    }
    return 0;
}

static PyObject *
Tracer_enable(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    int rc = 0;
    if (self->labels == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Tracer.__init__ was not called");
        return NULL;
    }
    if (self->enabled)
        Py_RETURN_NONE;
    if (self->mem != NULL && strop_memtrace_attach(self->mem, self) < 0)
        return NULL; /* another recording of allocations runs: one at a time */
    if (active != NULL && active != self) {
        /* One recording at a time: pause the outer one until we are done. */
        Tracer *outer = active;
        Py_INCREF(outer);
        tracer_disable(outer);
        outer->enabled = 0;
        self->paused = outer;
    }
    epoch++;
    active = self;
    self->enable_ticks = strop_clock_ticks();
    if (self->start_unix_ns == 0) {
        struct timespec ts;
        self->origin_ticks = self->enable_ticks;
        clock_gettime(CLOCK_REALTIME, &ts);
        self->start_unix_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    self->stopped = 0;
    self->mech = self->want;
    switch (self->want) {
#if STROP_FAST_EVALFRAME
    case MECH_EVALFRAME:
        rc = evalframe_enable(self);
        break;
#endif
#if STROP_HAVE_MONITORING
    case MECH_MONITORING:
        rc = monitoring_enable(self);
        break;
#endif
    default:
        self->mech = MECH_SETPROFILE;
        rc = setprofile_enable(self);
        break;
    }
    if (rc < 0) {
        self->mech = MECH_NONE;
        active = NULL;
        strop_memtrace_detach(self->mem);
        return NULL;
    }
    self->enabled = 1;
    Py_RETURN_NONE;
}

static PyObject *
Tracer_disable(Tracer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"this_thread_only", NULL};
    int this_thread_only = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$p", kwlist, &this_thread_only))
        return NULL;
    if (this_thread_only) {
        /* Stop recording the calling thread only: the others run on. */
        StropThread *th;
        if (!self->enabled)
            Py_RETURN_NONE;
        th = thread_of(self, PyThreadState_Get());
        if (th != NULL) {
            flush_thread(self, th);
            th->ignored = 1;
        }
        Py_RETURN_NONE;
    }
    tracer_disable(self);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* Folds the tree; the caller frees *funcs and *edges with strop_free(). */
static int
aggregate(Tracer *self, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    *funcs = strop_malloc((size_t)self->tree.n_funcs * sizeof **funcs);
    if (*funcs == NULL || strop_tree_aggregate(&self->tree, *funcs, edges, n_edges) < 0) {
        strop_free(*funcs);
        *funcs = NULL;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static double
seconds_per_tick(void)
{
    return strop_clock_ns_per_tick * 1e-9;
}

/* The label of function f, borrowed, or NULL when it is not a named one. */
static PyObject *
label_of(Tracer *self, uint32_t f)
{
    PyObject *label;
    if ((Py_ssize_t)f >= PyList_GET_SIZE(self->labels))
        return NULL;
    label = PyList_GET_ITEM(self->labels, f);
    return label == Py_None ? NULL : label;
}

PyObject *
strop_tracer_node_name(const void *owner, uint32_t node)
{
    Tracer *self = (Tracer *)owner;
    PyObject *label;
    if (self == NULL || node >= self->tree.n_nodes)
        return NULL;
    if (node == STROP_ROOT)
        return PyUnicode_FromString("<outside Python code>");
    label = label_of(self, self->tree.nodes[node].func);
    if (label == NULL)
        return NULL;
    if (!PyTuple_Check(label) || PyTuple_GET_SIZE(label) != 3)
        return PyObject_Str(label);
    if (PyUnicode_Check(PyTuple_GET_ITEM(label, 0)) &&
        PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(label, 0), "~") == 0)
        return Py_NewRef(PyTuple_GET_ITEM(label, 2));
    return PyUnicode_FromFormat("%S:%S(%S)", PyTuple_GET_ITEM(label, 0),
                                PyTuple_GET_ITEM(label, 1), PyTuple_GET_ITEM(label, 2));
}

static PyObject *
Tracer_stats(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    PyObject *result = NULL, **keys = NULL;

    if (self->labels == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Tracer.__init__ was not called");
        return NULL;
    }
    if (aggregate(self, &funcs, &edges, &n_edges) < 0)
        return NULL;
    keys = PyMem_Calloc(self->tree.n_funcs ? self->tree.n_funcs : 1, sizeof *keys);
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t f = 0; f < self->tree.n_funcs; f++)
        keys[f] = funcs[f].nc ? label_of(self, f) : NULL; /* borrowed */
    result = strop_stats_dict(funcs, self->tree.n_funcs, edges, n_edges, keys,
                              seconds_per_tick());
done:
    PyMem_Free(keys);
    strop_free(funcs);
    strop_free(edges);
    return result;
}

/* Points labels[f] at the UTF-8 of each named function's label (borrowed:
 * valid while self->labels is unchanged).  Returns 0, or -1 with an
 * exception set. */
static int
fill_labels(Tracer *self, StropLabel *labels)
{
    for (uint32_t f = 0; f < self->tree.n_funcs; f++) {
        PyObject *label = label_of(self, f);
        Py_ssize_t len;
        if (label == NULL)
            continue;
        labels[f].file = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(label, 0), &len);
        if (labels[f].file == NULL)
            return -1;
        labels[f].file_len = (size_t)len;
        labels[f].line = PyLong_AsLong(PyTuple_GET_ITEM(label, 1));
        labels[f].name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(label, 2), &len);
        if (labels[f].name == NULL)
            return -1;
        labels[f].name_len = (size_t)len;
    }
    return 0;
}

/* dumpfile.h's callbacks: the labels, and pstats totals from aggregate(). */
static StropLabel *
dump_labels(void *owner)
{
    Tracer *self = owner;
    StropLabel *labels = strop_calloc(self->tree.n_funcs ? self->tree.n_funcs : 1,
                                      sizeof *labels);
    if (labels == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (fill_labels(self, labels) < 0) {
        strop_free(labels);
        return NULL;
    }
    return labels;
}

static int
dump_totals(void *owner, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    return aggregate((Tracer *)owner, funcs, edges, n_edges);
}

/* dump_totals() of a memory view: pstats holds times, not bytes. */
static int
dump_memory_totals(void *owner, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    (void)owner;
    (void)funcs;
    (void)edges;
    (void)n_edges;
    PyErr_SetString(PyExc_ValueError, "a memory profile has no pstats form: write pprof "
                                      "(.pb.gz), folded, speedscope or html");
    return -1;
}

/* Tracer.dump() of a memory view (set_memory_view): the same writers, on a
 * copy of the tree whose nodes' samples are the view's bytes. */
static PyObject *
dump_memory(Tracer *self, StropDumpSource *src, PyObject *args, PyObject *kwds)
{
    StropTree view = self->tree;
    uint64_t *heap = NULL;
    PyObject *result;
    view.nodes = strop_memview_nodes(&self->tree, self->mem, (StropMemView)self->mem_view, &heap);
    if (view.nodes == NULL)
        return PyErr_NoMemory();
    src->tree = &view;
    src->info.sampled = 1;
    src->info.period_ns = 1;
    src->info.time_kind = "space";
    src->info.unit = "bytes";
    src->info.heap_values = heap;
    src->pstats_seconds_per_unit = 1.0;
    src->totals = dump_memory_totals;
    result = strop_dump(src, args, kwds);
    strop_free(view.nodes);
    strop_free(heap);
    return result;
}

/* Tracer.dump(path, format='pstats', ...): see dumpfile.h. */
static PyObject *
Tracer_dump(Tracer *self, PyObject *args, PyObject *kwds)
{
    StropDumpSource src;
    if (self->labels == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Tracer.__init__ was not called");
        return NULL;
    }
    memset(&src, 0, sizeof src);
    src.tree = &self->tree;
    src.info.time_kind = self->cpu ? "cpu" : "wall";
    src.info.seconds_per_tick = seconds_per_tick();
    src.info.duration_ns = (uint64_t)((double)self->recorded_ticks * strop_clock_ns_per_tick);
    src.info.start_unix_ns = self->start_unix_ns;
    src.pstats_seconds_per_unit = seconds_per_tick();
    src.owner = self;
    src.labels = dump_labels;
    src.totals = dump_totals;
    if (self->mem != NULL && self->mem_view >= 0)
        return dump_memory(self, &src, args, kwds);
    if (self->threads_mode) {
        /* The writers take threads' ids from here: the labels hold names. */
        PyObject *result;
        uint64_t *ids = strop_calloc(self->tree.n_funcs ? self->tree.n_funcs : 1, sizeof *ids);
        if (ids == NULL)
            return PyErr_NoMemory();
        for (StropThread *th = self->threads; th != NULL; th = th->next) {
            uint32_t f = strop_tree_func_find(&self->tree, (uintptr_t)th);
            if (f != STROP_NONE && f != STROP_OVERFLOW_FUNC && f < self->tree.n_funcs)
                ids[f] = th->ident;
        }
        src.info.thread_ids = ids;
        result = strop_dump(&src, args, kwds);
        strop_free(ids);
        return result;
    }
    return strop_dump(&src, args, kwds);
}

/* The name `names` ({native id or ident: name}, from threading) gives the
 * thread, borrowed; NULL when it has none, or with an exception set.  The OS
 * thread id comes first: a finished thread's ident is often the next one's. */
static PyObject *
name_of_thread(PyObject *names, const StropThread *th)
{
    unsigned long keys[2] = {th->native_id, th->ident};
    for (int i = 0; i < 2; i++) {
        PyObject *key, *name;
        if (keys[i] == 0)
            continue;
        key = PyLong_FromUnsignedLong(keys[i]);
        if (key == NULL)
            return NULL;
        name = PyDict_GetItemWithError(names, key); /* borrowed */
        Py_DECREF(key);
        if (name != NULL || PyErr_Occurred())
            return name;
    }
    return NULL;
}

/* Tracer.dump_timeline(path, thread_names=None, command=None): the timeline as
 * a Chrome trace; thread_names maps thread ids to names. */
static PyObject *
Tracer_dump_timeline(Tracer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "thread_names", "command", NULL};
    PyObject *path_arg, *names = Py_None, *path = NULL, *result = NULL;
    const char *command = NULL;
    StropLabel *labels = NULL;
    StropTimelineThread *threads = NULL;
    StropTimelineInfo info;
    FILE *out;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Oz", kwlist, &path_arg, &names, &command))
        return NULL;
    if (self->labels == NULL || self->spans == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this profile records no timeline: create it with "
                                            "timeline=N (the number of calls to keep)");
        return NULL;
    }
    if (names != Py_None && !PyDict_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "thread_names must be a dict of id -> name");
        return NULL;
    }
    threads = PyMem_Calloc(self->n_threads ? self->n_threads : 1, sizeof *threads);
    if (threads == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    labels = dump_labels(self);
    if (labels == NULL)
        goto done;
    for (StropThread *th = self->threads; th != NULL; th = th->next) {
        threads[th->index].ident = th->native_id ? th->native_id : th->ident;
        if (names != Py_None) {
            PyObject *name = name_of_thread(names, th);
            if (name == NULL && PyErr_Occurred())
                goto done;
            if (name != NULL && PyUnicode_Check(name)) {
                threads[th->index].name = PyUnicode_AsUTF8(name);
                if (threads[th->index].name == NULL)
                    goto done;
            }
        }
    }
    memset(&info, 0, sizeof info);
    info.pid = (long)getpid();
    info.origin = self->origin_ticks;
    info.ns_per_tick = strop_clock_ns_per_tick;
    info.dropped = self->dropped_spans;
    info.command = command;
    if (strop_dump_open(path_arg, &out, &path) < 0)
        goto done;
    if (strop_dump_close(path_arg, out,
                         strop_timeline_write(out, self->spans, self->n_spans, labels,
                                              self->tree.n_funcs, threads, self->n_threads,
                                              &info)) < 0)
        goto done;
    result = Py_NewRef(Py_None);
done:
    strop_free(labels);
    PyMem_Free(threads);
    Py_XDECREF(path);
    return result;
}

/* Tracer._name_threads({native id or ident: name}): relabels the `<thread ...>` node of
 * each recorded thread found in the dict (threads=True; else nothing). */
static PyObject *
Tracer_name_threads(Tracer *self, PyObject *names)
{
    if (!PyDict_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "_name_threads() takes a dict of id -> name");
        return NULL;
    }
    if (!self->threads_mode || self->labels == NULL)
        Py_RETURN_NONE;
    for (StropThread *th = self->threads; th != NULL; th = th->next) {
        PyObject *name = name_of_thread(names, th), *label;
        uint32_t f;
        if (name == NULL && PyErr_Occurred())
            return NULL;
        f = strop_tree_func_find(&self->tree, (uintptr_t)th);
        if (name == NULL || !PyUnicode_Check(name) || f == STROP_NONE ||
            f == STROP_OVERFLOW_FUNC || (Py_ssize_t)f >= PyList_GET_SIZE(self->labels))
            continue;
        label = Py_BuildValue("(siN)", "~", 0, PyUnicode_FromFormat("<thread %U>", name));
        if (label == NULL || PyList_SetItem(self->labels, f, label) < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static int
need_memory(Tracer *self)
{
    if (self->labels == NULL || self->mem == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this profile records no allocations: create it with memory=True");
        return -1;
    }
    return 0;
}

/* The view named by `arg` (str), or -1 with ValueError set. */
static int
memory_view_arg(PyObject *arg)
{
    const char *name = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : NULL;
    int v = name != NULL ? strop_memview_parse(name) : -1;
    if (v < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError,
                     "unknown memory view %R: choose peak, leaks, allocated or temporary", arg);
    }
    return v;
}

/* Tracer.set_memory_view(view): what dump() writes, a memory view or (None)
 * the times. */
/* Tracer.memory_series(): [(seconds, traced bytes, resident bytes, anonymous
 * resident bytes)], memory over time (memseries.h); -1 where /proc could not
 * be read. */
static PyObject *
Tracer_memory_series(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    const StropMemSeries *s;
    PyObject *result;
    if (need_memory(self) < 0)
        return NULL;
    s = &self->mem->series;
    result = PyList_New(s->n);
    if (result == NULL)
        return NULL;
    for (uint32_t i = 0; i < s->n; i++) {
        const StropMemPoint *p = &s->points[i];
        PyObject *item = Py_BuildValue("(dLLL)", (double)p->ns / 1e9, (long long)p->traced,
                                       (long long)p->rss, (long long)p->anon);
        if (item == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, i, item);
    }
    return result;
}

/* Tracer.set_memory_limit(bytes): see StropMemTrace.limit_bytes. */
static PyObject *
Tracer_set_memory_limit(Tracer *self, PyObject *arg)
{
    long long limit;
    if (need_memory(self) < 0)
        return NULL;
    limit = PyLong_AsLongLong(arg);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "the memory limit is a number of bytes, 0 for none");
        return NULL;
    }
    self->mem->limit_bytes = (int64_t)limit;
    self->mem->limit_hit = 0;
    Py_RETURN_NONE;
}

static PyObject *
Tracer_set_memory_view(Tracer *self, PyObject *arg)
{
    int v = -1;
    if (need_memory(self) < 0)
        return NULL;
    if (arg != Py_None && (v = memory_view_arg(arg)) < 0)
        return NULL;
    self->mem_view = v;
    Py_RETURN_NONE;
}

/* Per function (by label), one row of its nodes' own allocations summed:
 * (label, peak bytes, peak blocks, allocated bytes, allocations, live
 * bytes, live blocks, temporary bytes, temporary blocks), sorted by `view`'s
 * bytes, largest first; rows with nothing are left out.  Allocations made
 * outside any recorded Python function (the root) come as the label
 * ('~', 0, '<outside Python code>'). */
static PyObject *
Tracer_memory_table(Tracer *self, PyObject *arg)
{
    enum { NV = 8 };
    uint64_t (*rows)[NV] = NULL;
    uint32_t n_rows, *order = NULL, n_order = 0;
    PyObject *result = NULL, *outside = NULL;
    int v;
    if (need_memory(self) < 0 || (v = memory_view_arg(arg)) < 0)
        return NULL;
    n_rows = self->tree.n_funcs + 1; /* the last row: the root */
    rows = strop_calloc(n_rows, sizeof *rows);
    order = strop_malloc((size_t)n_rows * sizeof *order);
    if (rows == NULL || order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t n = 0; n < self->tree.n_nodes; n++) {
        uint64_t *row = rows[n == STROP_ROOT ? n_rows - 1 : self->tree.nodes[n].func];
        uint64_t b, k;
        for (int view = 0; view < STROP_MEMVIEW_COUNT; view++) {
            strop_memview_node(self->mem, n, (StropMemView)view, &b, &k);
            row[2 * view] += b;
            row[2 * view + 1] += k;
        }
    }
    for (uint32_t f = 0; f < n_rows; f++) {
        int any = 0;
        for (int i = 0; i < NV; i++)
            any |= rows[f][i] != 0;
        if (any && (f == n_rows - 1 || label_of(self, f) != NULL))
            order[n_order++] = f;
    }
    /* Insertion sort by the view's bytes would be quadratic on big programs:
     * a simple shell sort keeps it short and in place. */
    for (uint32_t gap = n_order / 2; gap > 0; gap /= 2)
        for (uint32_t i = gap; i < n_order; i++)
            for (uint32_t j = i; j >= gap && rows[order[j - gap]][2 * v] < rows[order[j]][2 * v];
                 j -= gap) {
                uint32_t t = order[j];
                order[j] = order[j - gap];
                order[j - gap] = t;
            }
    result = PyList_New(n_order);
    outside = Py_BuildValue("(sis)", "~", 0, "<outside Python code>");
    if (result == NULL || outside == NULL) {
        Py_CLEAR(result);
        goto done;
    }
    for (uint32_t i = 0; i < n_order; i++) {
        uint32_t f = order[i];
        uint64_t *r = rows[f];
        /* peak, allocated, leaks (live at the end), temporary */
        PyObject *item = Py_BuildValue("(OKKKKKKKK)", f == n_rows - 1 ? outside : label_of(self, f),
                                       (unsigned long long)r[0], (unsigned long long)r[1],
                                       (unsigned long long)r[4], (unsigned long long)r[5],
                                       (unsigned long long)r[2], (unsigned long long)r[3],
                                       (unsigned long long)r[6], (unsigned long long)r[7]);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);
    }
done:
    Py_XDECREF(outside);
    strop_free(rows);
    strop_free(order);
    return result;
}

/* Tracer.memory_info(): the recording's totals and the tracker's own size. */
static PyObject *
Tracer_memory_info(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    StropMemTrace *t;
    if (need_memory(self) < 0)
        return NULL;
    t = self->mem;
    return Py_BuildValue(
        "{s:L,s:L,s:L,s:L,s:K,s:K,s:i,s:n,s:n,s:K,s:K,s:L,s:L,s:L,s:L,s:i}", "peak_bytes",
        (long long)t->peak_bytes,
        "peak_blocks", (long long)t->peak_blocks, "end_bytes", (long long)t->cur_bytes,
        "end_blocks", (long long)t->cur_blocks, "allocations", (unsigned long long)t->allocations,
        "untracked", (unsigned long long)t->untracked, "failed", t->failed, "table_bytes",
        (Py_ssize_t)strop_memtrace_table_bytes(t), "node_bytes",
        (Py_ssize_t)((size_t)t->cap_nodes * sizeof(StropMemNode)), "sample_bytes",
        (unsigned long long)t->sample_bytes, "samples", (unsigned long long)t->samples,
        "own_bytes", (long long)t->own_bytes, "own_blocks", (long long)t->own_blocks,
        "own_at_peak", (long long)t->own_at_peak, "limit_bytes", (long long)t->limit_bytes,
        "limit_hit", t->limit_hit);
}

static PyObject *
Tracer_info(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    static const char *names[] = {"none", "setprofile", "monitoring", "evalframe"};
    uint64_t events = 0;
    for (StropThread *th = self->threads; th != NULL; th = th->next)
        events += th->events;
    Mechanism mech = self->mech == MECH_NONE ? self->want : self->mech;
    return Py_BuildValue(
        "{s:s,s:s,s:s,s:O,s:d,s:K,s:I,s:I,s:K,s:d,s:i,s:K,s:K}", "mechanism", names[mech], "timer",
        self->cpu ? "cpu" : "wall", "clock", strop_clock_use_tsc ? "tsc" : "monotonic",
        "warnings", self->warnings, "event_cost_ns",
        (double)self->event_cost * strop_clock_ns_per_tick, "events", (unsigned long long)events, "nodes", self->tree.n_nodes, "functions",
        self->tree.n_funcs, "folded_calls", (unsigned long long)self->tree.folded, "seconds",
        (double)(self->recorded_ticks + (self->enabled ? strop_clock_ticks() - self->enable_ticks
                                                       : 0)) *
            seconds_per_tick(),
        "tool_id", self->tool_id, "timeline_calls", (unsigned long long)self->n_spans,
        "timeline_dropped", (unsigned long long)self->dropped_spans);
}

static PyObject *
Tracer_clear(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    uint32_t max_nodes = self->tree.max_nodes, max_funcs = self->tree.max_funcs;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "cannot clear a profile while it records");
        return NULL;
    }
    free_threads(self);
    strop_tree_free(&self->tree);
    if (strop_tree_init(&self->tree, max_nodes, max_funcs) < 0)
        return PyErr_NoMemory();
    if (self->mem != NULL) {
        uint64_t sample_bytes = self->mem->sample_bytes;
        int64_t limit = self->mem->limit_bytes;
        strop_memtrace_free(self->mem);
        if ((self->mem = strop_memtrace_new(sample_bytes)) == NULL)
            return PyErr_NoMemory();
        self->mem->limit_bytes = limit;
    }
    if (PyList_SetSlice(self->labels, 1, PyList_GET_SIZE(self->labels), NULL) < 0 ||
        PyList_SetSlice(self->keep, 0, PyList_GET_SIZE(self->keep), NULL) < 0 ||
        PyList_SetSlice(self->warnings, 0, PyList_GET_SIZE(self->warnings), NULL) < 0)
        return NULL;
    PyDict_Clear(self->label_index);
    if (self->own != NULL)
        memset(self->own, 0, self->own_cap);
    if (self->wait_kind != NULL)
        memset(self->wait_kind, 0, self->wait_cap);
    if (self->call_waits != NULL) {
        strop_callwaits_free(self->call_waits);
        if ((self->call_waits = strop_callwaits_new()) == NULL)
            return PyErr_NoMemory();
    }
    self->recorded_ticks = 0;
    self->start_unix_ns = 0;
    self->n_spans = 0;
    self->dropped_spans = 0;
    self->n_threads = 0;
    self->warned_cap = 0;
    Py_RETURN_NONE;
}

static int
Tracer_traverse(Tracer *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->labels);
    Py_VISIT(self->label_index);
    Py_VISIT(self->keep);
    Py_VISIT(self->warnings);
    Py_VISIT(self->hide);
    Py_VISIT(self->saved_threading_profile);
    Py_VISIT(self->bootstrap);
    Py_VISIT((PyObject *)self->paused);
    return 0;
}

static int
Tracer_clear_refs(Tracer *self)
{
    Py_CLEAR(self->labels);
    Py_CLEAR(self->label_index);
    Py_CLEAR(self->keep);
    Py_CLEAR(self->warnings);
    Py_CLEAR(self->hide);
    Py_CLEAR(self->saved_threading_profile);
    Py_CLEAR(self->bootstrap);
    Py_CLEAR(self->paused);
    return 0;
}

static void
Tracer_dealloc(Tracer *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->enabled && self->labels != NULL) {
        StropErr err;
        strop_err_save(&err);
        tracer_disable(self);
        strop_err_restore(&err);
    }
    if (active == self)
        active = NULL;
    Tracer_clear_refs(self);
    free_threads(self);
    strop_tree_free(&self->tree);
    strop_free(self->spans);
    strop_free(self->own);
    strop_free(self->wait_kind);
    strop_callwaits_free(self->call_waits);
    strop_memtrace_free(self->mem);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* The caller's name as the waits table shows it, "name (file.py:12)", in
 * `out`; "" when unknown.  Needs the GIL. */
static void
caller_text(Tracer *self, uint32_t f, char *out, size_t len)
{
    PyObject *label;
    const char *file, *name, *slash;
    long line;
    out[0] = '\0';
    if (f == UINT32_MAX || (Py_ssize_t)f >= PyList_GET_SIZE(self->labels))
        return;
    label = PyList_GET_ITEM(self->labels, f); /* borrowed: (file, line, name) or None */
    if (!PyTuple_Check(label) || PyTuple_GET_SIZE(label) != 3)
        return;
    file = PyUnicode_AsUTF8(PyTuple_GET_ITEM(label, 0));
    line = PyLong_AsLong(PyTuple_GET_ITEM(label, 1));
    name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(label, 2));
    if (file == NULL || name == NULL || PyErr_Occurred()) {
        PyErr_Clear();
        return;
    }
    slash = strrchr(file, '/');
    snprintf(out, len, "%s (%s:%ld)", name, slash ? slash + 1 : file, line);
}

/* Tracer.endpoints(): the blocking calls by endpoint (waits=True), most
 * time first, as dicts. */
static PyObject *
Tracer_endpoints(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *list = PyList_New(0);
    const StropCallEndpoint *const *ends;
    double wall = (double)self->recorded_ticks * strop_clock_ns_per_tick * 1e-9;
    size_t n = 0;
    if (list == NULL || self->call_waits == NULL)
        return list;
    ends = strop_callwaits_endpoints(self->call_waits, &n);
    for (size_t i = 0; i < n; i++) {
        const StropCallEndpoint *e = ends[i];
        char caller[320];
        PyObject *d;
        int rc;
        caller_text(self, strop_callwaits_top_caller(e), caller, sizeof caller);
        d = Py_BuildValue("{s:s,s:z,s:K,s:d,s:d,s:d,s:z}", "endpoint", e->name, "service",
                          e->service, "calls", (unsigned long long)e->calls, "time",
                          (double)e->total_ns * 1e-9, "longest", (double)e->longest_ns * 1e-9,
                          "share", wall > 0 ? (double)e->total_ns * 1e-9 / wall : 0.0,
                          "caller", caller[0] ? caller : NULL);
        if (d == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        rc = PyList_Append(list, d);
        Py_DECREF(d);
        if (rc < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

/* Tracer.waits_table(): endpoints() as text for the report; "" when none. */
static PyObject *
Tracer_waits_table(Tracer *self, PyObject *Py_UNUSED(ignored))
{
    StropBuf text = {0};
    PyObject *result = NULL;
    const StropCallEndpoint *const *ends;
    double wall = (double)self->recorded_ticks * strop_clock_ns_per_tick * 1e-9;
    size_t n = 0;
    if (self->call_waits == NULL)
        return PyUnicode_FromString("");
    ends = strop_callwaits_endpoints(self->call_waits, &n);
    if (n > 0)
        strop_buf_printf(&text,
                         "\nWaits by endpoint (exact: the blocking calls, share of %.2f s of "
                         "wall time):\n"
                         "   share     calls      time   longest  endpoint (called from)\n",
                         wall);
    for (size_t i = 0; i < n; i++) {
        const StropCallEndpoint *e = ends[i];
        char caller[320];
        caller_text(self, strop_callwaits_top_caller(e), caller, sizeof caller);
        strop_buf_printf(&text, "%7.1f%%  %8llu  %6.3f s  %6.3f s  %s",
                         wall > 0 ? 100.0 * (double)e->total_ns * 1e-9 / wall : 0.0,
                         (unsigned long long)e->calls, (double)e->total_ns * 1e-9,
                         (double)e->longest_ns * 1e-9, e->name);
        if (e->service != NULL)
            strop_buf_printf(&text, " (%s)", e->service);
        if (caller[0])
            strop_buf_printf(&text, "  in %s", caller);
        strop_buf_putc(&text, '\n');
    }
    if (text.failed)
        PyErr_NoMemory();
    else
        result = PyUnicode_DecodeUTF8(text.data ? text.data : "", (Py_ssize_t)text.len,
                                      "replace");
    strop_buf_free(&text);
    return result;
}

static PyMethodDef Tracer_methods[] = {
    {"endpoints", (PyCFunction)Tracer_endpoints, METH_NOARGS,
     "endpoints()\n--\n\nwaits=True: the blocking calls by endpoint, most time first: dicts "
     "of endpoint, service, calls, time and longest (seconds), share of the recorded wall "
     "time, caller."},
    {"waits_table", (PyCFunction)Tracer_waits_table, METH_NOARGS,
     "waits_table()\n--\n\nendpoints() as the report prints them; '' when none."},
    {"enable", (PyCFunction)Tracer_enable, METH_NOARGS,
     "enable()\n--\n\nStart recording calls, on every thread."},
    {"disable", (PyCFunction)(void (*)(void))Tracer_disable, METH_VARARGS | METH_KEYWORDS,
     "disable(*, this_thread_only=False)\n--\n\nStop recording; calls still open are closed "
     "now.  With this_thread_only, only the calling thread stops."},
    {"stats", (PyCFunction)Tracer_stats, METH_NOARGS,
     "stats()\n--\n\nThe pstats dict: (file, line, name) -> (cc, nc, tt, ct, callers)."},
    {"dump_timeline", (PyCFunction)(void (*)(void))Tracer_dump_timeline,
     METH_VARARGS | METH_KEYWORDS,
     "dump_timeline(path, thread_names=None, command=None)\n--\n\nWrite the timeline (every "
     "call as a span, per thread) as a Chrome trace for Perfetto."},
    {"dump", (PyCFunction)(void (*)(void))Tracer_dump, METH_VARARGS | METH_KEYWORDS,
     "dump(path, format='pstats', command=None, node_thres=0.005, edge_thres=0.001)\n--\n\n"
     "Write the profile: pstats, folded, callgrind, pprof, speedscope or dot."},
    {"info", (PyCFunction)Tracer_info, METH_NOARGS,
     "info()\n--\n\nMechanism, clock, counters and warnings of this recording."},
    {"memory_series", (PyCFunction)Tracer_memory_series, METH_NOARGS,
     "memory_series()\n--\n\nWith memory=True: memory over time, [(seconds, traced bytes, "
     "resident bytes, anonymous resident bytes)] at most every 10 ms."},
    {"set_memory_limit", (PyCFunction)Tracer_set_memory_limit, METH_O,
     "set_memory_limit(bytes)\n--\n\nWith memory=True: the first time the traced total "
     "passes `bytes` (0: never), the main thread gets a MemoryError."},
    {"set_memory_view", (PyCFunction)Tracer_set_memory_view, METH_O,
     "set_memory_view(view)\n--\n\nWith memory=True: what dump() writes, the bytes of a "
     "view ('peak', 'leaks', 'allocated', 'temporary') or, None, the times."},
    {"memory_table", (PyCFunction)Tracer_memory_table, METH_O,
     "memory_table(view)\n--\n\nWith memory=True: per function, (label, peak bytes, peak "
     "blocks, allocated bytes, allocations, live bytes, live blocks, temporary bytes, "
     "temporary blocks), largest first in `view`."},
    {"memory_info", (PyCFunction)Tracer_memory_info, METH_NOARGS,
     "memory_info()\n--\n\nWith memory=True: peak and end totals, allocations seen, and "
     "the tracker's own bytes."},
    {"clear", (PyCFunction)Tracer_clear, METH_NOARGS,
     "clear()\n--\n\nForget everything recorded."},
    {"_name_threads", (PyCFunction)Tracer_name_threads, METH_O,
     "_name_threads(names)\n--\n\nWith threads=True: names each thread's root frame "
     "'<thread NAME>' from a dict of thread id -> name."},
    {"_thread_bootstrap", (PyCFunction)(void (*)(void))Tracer_thread_bootstrap, METH_FASTCALL,
     NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Tracer_slots[] = {
    {Py_tp_doc, "Tracer(builtins=True, timer='wall', mechanism='auto', max_nodes=0, max_functions=0, "
                "timeline=0, threads=False, hide=None, memory=False, sample_bytes=0)\n--\n\n"
                "The deterministic profiler's engine: records every call into a "
                "calling-context tree.  threads: each thread's calls under a root frame "
                "'<thread NAME>'.  hide: a folder (ending in a separator) whose Python code "
                "is strop's own; it and the engine's C functions are left out.  memory: also "
                "charge every Python allocation to the tree (alloc.h), one recording at a "
                "time in a process; sample_bytes: track one allocation per that many bytes on "
                "average (Poisson spacing), weighted to unbiased estimates."},
    {Py_tp_init, Tracer_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Tracer_dealloc},
    {Py_tp_traverse, Tracer_traverse},
    {Py_tp_clear, Tracer_clear_refs},
    {Py_tp_methods, Tracer_methods},
    {0, NULL},
};

static PyType_Spec Tracer_spec = {
    .name = "strop._engine.Tracer",
    .basicsize = sizeof(Tracer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .slots = Tracer_slots,
};

PyObject *
strop_tracer_type_new(PyObject *module)
{
    (void)module;
    return PyType_FromSpec(&Tracer_spec);
}
