/* remote_heapobj.c: strop._engine.heap_remote() (see remote_heapobj.h).
 *
 * Attaches, runs the census of remote_heap.c without the GIL, then turns
 * its table of types into Python rows, sorted here so that the Python layer
 * only prints them.
 */
#include "remote_heapobj.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "remote.h"
#include "remote_heap.h"
#include "sampler.h"

/* Largest bytes first, then largest count, then by name: a stable table. */
static int
by_bytes(const void *a, const void *b)
{
    const StropHeapType *x = *(const StropHeapType *const *)a;
    const StropHeapType *y = *(const StropHeapType *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* The rows of `c` as a new list of tuples, or NULL with an exception set. */
static PyObject *
rows_of(const StropHeapCensus *c)
{
    const StropHeapType **order = NULL;
    PyObject *rows = NULL, *row;
    size_t n = 0;
    if (c->n_types > 0) {
        order = strop_malloc(c->n_types * sizeof *order);
        if (order == NULL)
            return PyErr_NoMemory();
    }
    for (size_t i = 0; c->types && i <= c->mask; i++) {
        if (c->types[i].addr != 0 && c->types[i].count > 0)
            order[n++] = &c->types[i];
    }
    if (n > 1)
        qsort(order, n, sizeof *order, by_bytes);
    rows = PyList_New((Py_ssize_t)n);
    if (rows == NULL)
        goto error;
    for (size_t i = 0; i < n; i++) {
        row = Py_BuildValue("(sKKO)", order[i]->name, (unsigned long long)order[i]->count,
                            (unsigned long long)order[i]->bytes,
                            order[i]->approx ? Py_True : Py_False);
        if (row == NULL)
            goto error;
        PyList_SET_ITEM(rows, (Py_ssize_t)i, row);
    }
    strop_free(order);
    return rows;
error:
    strop_free(order);
    Py_XDECREF(rows);
    return NULL;
}

PyObject *
strop_heap_remote(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"pid", "max_objects", NULL};
    int pid, rc;
    unsigned long long max_objects = 1ull << 26;
    char err[512] = "";
    StropRemote *remote = NULL;
    StropHeapCensus census;
    PyObject *rows = NULL, *result = NULL;
    double start, seconds;
    int version = 0;
    (void)module;
    memset(&census, 0, sizeof census);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|K:heap_remote", kwlist, &pid,
                                     &max_objects))
        return NULL;
    start = (double)strop_clock_mono_ns() / 1e9;
    Py_BEGIN_ALLOW_THREADS
    rc = strop_remote_attach((pid_t)pid, &remote, err, sizeof err);
    if (rc == STROP_REMOTE_OK)
        rc = strop_heap_remote_census(remote, &census, max_objects);
    Py_END_ALLOW_THREADS
    seconds = (double)strop_clock_mono_ns() / 1e9 - start;
    if (remote != NULL)
        version = strop_remote_version(remote);
    strop_remote_free(remote);
    if (rc != STROP_REMOTE_OK) {
        if (version == 0)
            strop_sampler_attach_error(rc, err);
        else if (rc == STROP_REMOTE_ENOMEM)
            PyErr_NoMemory();
        else if (rc == STROP_REMOTE_ENOPROC)
            PyErr_Format(PyExc_ProcessLookupError, "process %d exited", pid);
        else
            PyErr_Format(PyExc_OSError,
                         "process %d: its collector's state cannot be read (Python %d.%d)", pid,
                         version >> 8, version & 0xFF);
        goto error;
    }
    rows = rows_of(&census);
    if (rows == NULL)
        goto error;
    result = Py_BuildValue(
        "{s:O,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:N}", "rows", rows,
        "objects", (unsigned long long)census.objects,
        "permanent", (unsigned long long)census.permanent,
        "lists", (unsigned long long)census.lists,
        "lists_torn", (unsigned long long)census.lists_torn,
        "rewalks", (unsigned long long)census.rewalks,
        "read_errors", (unsigned long long)census.read_errors,
        "collecting_waits", (unsigned long long)census.collecting,
        "reads", (unsigned long long)census.reads, "seconds", seconds, "version",
        PyUnicode_FromFormat("%d.%d", version >> 8, version & 0xFF));
error:
    Py_XDECREF(rows);
    strop_heap_remote_census_free(&census);
    return result;
}
