/* healthobj.c: strop._engine.Health, the Python face of health.h.
 *
 * Health(pid=0, interval=1.0) starts recording at once; stop() takes the last
 * reading; text() is (section, [warnings]); readings() the time series as
 * dicts.  The recorder's thread never takes the GIL.
 */
#include "healthobj.h"

#include "health.h"

typedef struct {
    PyObject_HEAD
    StropHealthRec *rec;
} Health;

static int
Health_init(Health *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pid", "interval", NULL};
    int pid = 0;
    double interval = 1.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|id", kwlist, &pid, &interval))
        return -1;
    if (self->rec != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Health is already recording");
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    self->rec = strop_health_start(pid, interval);
    Py_END_ALLOW_THREADS
    if (self->rec == NULL) {
        PyErr_Format(PyExc_ProcessLookupError, "cannot read /proc/%d: no such process", pid);
        return -1;
    }
    return 0;
}

static void
Health_dealloc(Health *self)
{
    PyTypeObject *type = Py_TYPE(self);
    if (self->rec != NULL) {
        Py_BEGIN_ALLOW_THREADS
        strop_health_free(self->rec);
        Py_END_ALLOW_THREADS
    }
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static int
check(Health *self)
{
    if (self->rec == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Health.__init__ was not called");
        return -1;
    }
    return 0;
}

static PyObject *
Health_stop(Health *self, PyObject *Py_UNUSED(ignored))
{
    if (check(self) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    strop_health_stop(self->rec);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
Health_text(Health *self, PyObject *Py_UNUSED(ignored))
{
    StropBuf section = {0}, warnings = {0};
    PyObject *text = NULL, *lines = NULL, *result = NULL;
    if (check(self) < 0)
        return NULL;
    if (strop_health_text(self->rec, &section, &warnings) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    text = PyUnicode_DecodeUTF8(section.data ? section.data : "", (Py_ssize_t)section.len,
                                "replace");
    lines = PyUnicode_DecodeUTF8(warnings.data ? warnings.data : "", (Py_ssize_t)warnings.len,
                                 "replace");
    if (text == NULL || lines == NULL)
        goto done;
    {
        PyObject *split = PyUnicode_Splitlines(lines, 0);
        if (split == NULL)
            goto done;
        result = Py_BuildValue("(ON)", text, split);
    }
done:
    Py_XDECREF(text);
    Py_XDECREF(lines);
    strop_buf_free(&section);
    strop_buf_free(&warnings);
    return result;
}

static PyObject *
Health_readings(Health *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *list;
    size_t n;
    if (check(self) < 0)
        return NULL;
    n = strop_health_count(self->rec);
    list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        StropHealthSnap s;
        PyObject *d;
        if (strop_health_at(self->rec, i, &s) < 0)
            break;
        d = Py_BuildValue(
            "{s:d,s:d,s:d,s:d,s:d,s:d,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}",
            "t", s.t, "cpu", (double)s.cpu_ns * 1e-9, "user", (double)s.user_ns * 1e-9, "system",
            (double)s.system_ns * 1e-9, "cpu_run", (double)s.run_ns * 1e-9, "cpu_wait",
            (double)s.wait_ns * 1e-9,
            "ctx_voluntary", (unsigned long long)s.ctx_voluntary, "ctx_involuntary",
            (unsigned long long)s.ctx_involuntary, "minor_faults",
            (unsigned long long)s.minor_faults, "major_faults",
            (unsigned long long)s.major_faults, "rss", (unsigned long long)s.rss, "rss_peak",
            (unsigned long long)s.rss_peak, "rss_private", (unsigned long long)s.rss_private,
            "swap", (unsigned long long)s.swap, "read_bytes", (unsigned long long)s.read_bytes,
            "write_bytes", (unsigned long long)s.write_bytes, "psi_cpu_us",
            (unsigned long long)s.psi_cpu_us, "psi_memory_us", (unsigned long long)s.psi_mem_us,
            "psi_io_us", (unsigned long long)s.psi_io_us, "swap_ins",
            (unsigned long long)s.swap_ins, "have",
            (unsigned long long)(s.have_sched | s.have_io << 1 | s.have_psi << 2 |
                                 s.have_vmstat << 3));
        if (strop_list_append_steal(list, d) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

static PyObject *
Health_filesystems(Health *self, PyObject *Py_UNUSED(ignored))
{
    StropHealthFs fs[STROP_HEALTH_MAX_FS];
    size_t n;
    PyObject *list;
    if (check(self) < 0)
        return NULL;
    n = strop_health_filesystems(self->rec, fs, STROP_HEALTH_MAX_FS);
    list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *d = Py_BuildValue("{s:s,s:K,s:K,s:K,s:K}", "path", fs[i].path, "total",
                                    (unsigned long long)fs[i].total, "avail",
                                    (unsigned long long)fs[i].avail, "files",
                                    (unsigned long long)fs[i].files, "files_avail",
                                    (unsigned long long)fs[i].files_avail);
        if (strop_list_append_steal(list, d) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

StropHealthRec *
strop_health_rec_of(PyObject *obj)
{
    /* Health is a heap type made per module: known by its destructor. */
    if (Py_TYPE(obj)->tp_dealloc != (destructor)Health_dealloc) {
        PyErr_Format(PyExc_TypeError, "expected a Health recorder, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (check((Health *)obj) < 0)
        return NULL;
    return ((Health *)obj)->rec;
}

static PyMethodDef Health_methods[] = {
    {"stop", (PyCFunction)Health_stop, METH_NOARGS, "Take the last reading and stop."},
    {"text", (PyCFunction)Health_text, METH_NOARGS,
     "(section, warnings): the report's lines for a terminal, and one line per likely "
     "culprit."},
    {"readings", (PyCFunction)Health_readings, METH_NOARGS, "The readings, as dicts."},
    {"filesystems", (PyCFunction)Health_filesystems, METH_NOARGS,
     "The filesystems the process had files open for writing on, with their space."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Health_slots[] = {
    {Py_tp_doc, "Health(pid=0, interval=1.0): the machine and one process (0: this one), read "
                "from /proc at once, every `interval` seconds on a thread of its own, and at "
                "stop()."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Health_init},
    {Py_tp_dealloc, Health_dealloc},
    {Py_tp_methods, Health_methods},
    {0, NULL},
};

static PyType_Spec Health_spec = {
    .name = "strop._engine.Health",
    .basicsize = sizeof(Health),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Health_slots,
};

int
strop_health_add_type(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&Health_spec);
    if (type == NULL)
        return -1;
    if (PyModule_AddObject(module, "Health", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
