/* loaded.c: strop._engine.LoadedProfile, a profile read from a file.
 *
 * load_profile(path) reads folded stacks or gzipped pprof through readers.c;
 * read_pstats(path) reads a pstats file through pstats.h's bounded reader
 * into the dict marshal would give (strop.Stats uses it instead of
 * marshal.loads, which trusts every length in the file; a code object that
 * python -m profile puts in a key becomes a string of its repr);
 * load_stats(dict) rebuilds an approximate call tree from a pstats dict.  The
 * object holds the tree and the function names, and writes every format
 * through dumpfile.h's strop_dump as the tracer and the sampler do; stats()
 * gives the pstats dict for strop.Stats.  A file of the wrong kind raises
 * strop._engine.FormatError (a ValueError) with one line:
 * "<path>: not a <kind> file (found ...)".  Needs the GIL.
 */
#include "loaded.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dumpfile.h"
#include "mem.h"
#include "readers.h"

typedef struct LoadedProfile {
    PyObject_HEAD
    StropLoaded prof;
    int ready;
} LoadedProfile;

static PyObject *
format_error_type(PyObject *module)
{
    return PyObject_GetAttrString(module, "FormatError"); /* new reference */
}

static LoadedProfile *
new_loaded(PyObject *module)
{
    PyObject *type = PyObject_GetAttrString(module, "LoadedProfile");
    LoadedProfile *self;
    if (type == NULL)
        return NULL;
    self = (LoadedProfile *)PyObject_CallObject(type, NULL);
    Py_DECREF(type);
    if (self == NULL)
        return NULL;
    if (strop_load_init(&self->prof) != STROP_LOAD_OK) {
        Py_DECREF(self);
        PyErr_NoMemory();
        return NULL;
    }
    self->ready = 1;
    return self;
}

/* Reads the whole file into *data (strop_malloc'd).  0, or -1 with OSError. */
static int
read_file(PyObject *path, char **data, size_t *len)
{
    PyObject *encoded = NULL;
    FILE *f = NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = NULL;
    *data = NULL;
    if (!PyUnicode_FSConverter(path, &encoded))
        return -1;
    errno = 0;
    f = fopen(PyBytes_AS_STRING(encoded), "rb");
    Py_DECREF(encoded);
    if (f == NULL)
        goto oserror;
    buf = strop_malloc(cap);
    if (buf == NULL)
        goto nomem;
    for (;;) {
        size_t got;
        if (n == cap) {
            char *grown = strop_realloc(buf, cap * 2);
            if (grown == NULL)
                goto nomem;
            buf = grown;
            cap *= 2;
        }
        errno = 0;
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                goto oserror;
            break;
        }
    }
    fclose(f);
    *data = buf;
    *len = n;
    return 0;
nomem:
    if (f)
        fclose(f);
    strop_free(buf);
    PyErr_NoMemory();
    return -1;
oserror:
    if (errno == 0)
        errno = EIO;
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
    if (f)
        fclose(f);
    strop_free(buf);
    return -1;
}

/* FormatError "<path>: not a <kind> file (found <found>)", or "(<detail>)"
 * when `found` is NULL. */
static void
raise_format(PyObject *module, PyObject *path, const char *kind, const char *found,
             const char *detail)
{
    PyObject *type = format_error_type(module), *name = PyOS_FSPath(path);
    if (type != NULL && name != NULL && found != NULL)
        PyErr_Format(type, "%S: not a %s file (found %s)", name, kind, found);
    else if (type != NULL && name != NULL)
        PyErr_Format(type, "%S: not a %s file (%s)", name, kind, detail);
    Py_XDECREF(type);
    Py_XDECREF(name);
}

PyObject *
strop_loaded_load_profile(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "kind", "period", "max_inflated", NULL};
    PyObject *path;
    const char *kind = NULL;
    double period = 0.01;
    Py_ssize_t max_inflated = 0;
    char *data = NULL;
    size_t len = 0;
    int rc;
    LoadedProfile *self = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|zdn", kwlist, &path, &kind, &period,
                                     &max_inflated))
        return NULL;
    if (max_inflated < 0) {
        PyErr_SetString(PyExc_ValueError, "max_inflated must be >= 0 (0: the default, 1 GiB)");
        return NULL;
    }
    if (kind != NULL && strcmp(kind, "folded") != 0 && strcmp(kind, "pprof") != 0) {
        PyErr_Format(PyExc_ValueError, "kind must be 'folded', 'pprof' or None, not '%s'", kind);
        return NULL;
    }
    if (read_file(path, &data, &len) < 0)
        return NULL;
    if (kind == NULL) {
        if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
            kind = "pprof";
        else if (len >= 1 && ((unsigned char)data[0] == '{' || (unsigned char)data[0] == 0xfb))
            kind = "pstats";
        else
            kind = "folded";
    }
    if (strcmp(kind, "pstats") == 0) {
        raise_format(module, path, "folded or pprof", "marshal data, a pstats file?", NULL);
        goto done;
    }
    self = new_loaded(module);
    if (self == NULL)
        goto done;
    self->prof.max_inflated = (size_t)max_inflated;
    if (strcmp(kind, "pprof") == 0)
        rc = strop_load_pprof(&self->prof, (const unsigned char *)data, len);
    else
        rc = strop_load_folded(&self->prof, data, len, period);
    if (rc == STROP_LOAD_NOMEM) {
        PyErr_NoMemory();
        Py_CLEAR(self);
    }
    else if (rc == STROP_LOAD_FORMAT) {
        /* "(byte N: ...)" when the reader says where, else "(found ...)" */
        int at_byte = strncmp(self->prof.found, "byte ", 5) == 0;
        raise_format(module, path, strcmp(kind, "pprof") == 0 ? "pprof" : "folded stacks",
                     at_byte ? NULL : self->prof.found, self->prof.found);
        Py_CLEAR(self);
    }
done:
    strop_free(data);
    return (PyObject *)self;
}

/* ---- read_pstats: a pstats file into its dict, bounded ---------------------- */

static PyObject *
pstats_number(const StropPstatsNum *num, int is_float)
{
    return is_float ? PyFloat_FromDouble(num->f) : PyLong_FromLongLong((long long)num->i);
}

/* A tuple of the four numbers num[0..3] (floats: which are floats), plus
 * `last` (stolen, may be NULL) as a fifth item.  New reference. */
static PyObject *
pstats_tuple(const StropPstatsNum *num, unsigned floats, PyObject *last)
{
    PyObject *t = PyTuple_New(last != NULL ? 5 : 4);
    if (t == NULL) {
        Py_XDECREF(last);
        return NULL;
    }
    if (last != NULL)
        PyTuple_SET_ITEM(t, 4, last);
    for (int k = 0; k < 4; k++) {
        PyObject *item = pstats_number(&num[k], (floats >> k) & 1);
        if (item == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, item);
    }
    return t;
}

/* The str of string `i`, made once and kept in strings[i].  Borrowed. */
static PyObject *
pstats_string(const StropPstatsFile *file, const unsigned char *data, PyObject **strings,
              uint32_t i)
{
    if (strings[i] == NULL) {
        const StropPstatsString *s = &file->strings[i];
        const char *p = (const char *)data + s->offset;
        strings[i] = s->latin1 ? PyUnicode_DecodeLatin1(p, s->len, NULL)
                               : PyUnicode_DecodeUTF8(p, s->len, "surrogatepass");
    }
    return strings[i];
}

/* The (file, line, name) tuple of key `i`, made once.  Borrowed. */
static PyObject *
pstats_key(const StropPstatsFile *file, const unsigned char *data, PyObject **strings,
           PyObject **keys, uint32_t i)
{
    if (keys[i] == NULL) {
        const StropPstatsKey *k = &file->keys[i];
        PyObject *name = pstats_string(file, data, strings, k->file), *func;
        if (name == NULL)
            return NULL;
        if (k->name == UINT32_MAX) {
            /* python -m profile's entry, named by a code object: its repr,
             * less the address, and no code object built from the file. */
            const StropPstatsCode *code = &file->codes[k->code];
            PyObject *co_name = pstats_string(file, data, strings, code->name), *co_file;
            if (co_name == NULL)
                return NULL;
            co_file = pstats_string(file, data, strings, code->file);
            if (co_file == NULL)
                return NULL;
            PyObject *line = PyLong_FromLongLong((long long)k->line);
            func = PyUnicode_FromFormat("<code object %U, file \"%U\", line %lld>", co_name,
                                        co_file, (long long)code->line);
            if (line != NULL && func != NULL)
                keys[i] = PyTuple_Pack(3, name, line, func);
            Py_XDECREF(line);
            Py_XDECREF(func);
            return keys[i];
        }
        func = pstats_string(file, data, strings, k->name);
        if (func == NULL)
            return NULL;
        PyObject *key = PyTuple_New(3), *line = PyLong_FromLongLong((long long)k->line);
        if (key == NULL || line == NULL) {
            Py_XDECREF(key);
            Py_XDECREF(line);
            return NULL;
        }
        PyTuple_SET_ITEM(key, 0, Py_NewRef(name));
        PyTuple_SET_ITEM(key, 1, line);
        PyTuple_SET_ITEM(key, 2, Py_NewRef(func));
        keys[i] = key;
    }
    return keys[i];
}

/* The dict marshal.loads would give for a checked file. */
static PyObject *
pstats_dict(const StropPstatsFile *file, const unsigned char *data)
{
    PyObject **strings = PyMem_Calloc(file->n_strings + 1, sizeof *strings);
    PyObject **keys = PyMem_Calloc(file->n_keys + 1, sizeof *keys);
    PyObject *stats = PyDict_New(), *result = NULL, *value = NULL, *callers = NULL;
    if (strings == NULL || keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (stats == NULL)
        goto done;
    for (size_t e = 0; e < file->n_entries; e++) {
        const StropPstatsEntry *entry = &file->entries[e];
        PyObject *key = pstats_key(file, data, strings, keys, entry->key);
        if (key == NULL || (callers = PyDict_New()) == NULL)
            goto done;
        for (size_t c = entry->first_caller; c < entry->first_caller + entry->n_callers; c++) {
            const StropPstatsCaller *caller = &file->callers[c];
            PyObject *caller_key = pstats_key(file, data, strings, keys, caller->key), *v;
            if (caller_key == NULL)
                goto done;
            if (caller->bare)
                v = PyLong_FromLongLong((long long)caller->num[0].i);
            else
                v = pstats_tuple(caller->num, caller->floats, NULL);
            if (v == NULL)
                goto done;
            if (PyDict_SetItem(callers, caller_key, v) < 0) {
                Py_DECREF(v);
                goto done;
            }
            Py_DECREF(v);
        }
        value = pstats_tuple(entry->num, entry->floats, callers);
        callers = NULL; /* stolen, even on failure */
        if (value == NULL || PyDict_SetItem(stats, key, value) < 0)
            goto done;
        Py_CLEAR(value);
    }
    result = stats;
    stats = NULL;
done:
    Py_XDECREF(value);
    Py_XDECREF(callers);
    Py_XDECREF(stats);
    if (strings != NULL)
        for (uint32_t i = 0; i < file->n_strings; i++)
            Py_XDECREF(strings[i]);
    if (keys != NULL)
        for (uint32_t i = 0; i < file->n_keys; i++)
            Py_XDECREF(keys[i]);
    PyMem_Free(strings);
    PyMem_Free(keys);
    return result;
}

/* Which string's bytes failed to decode, for the error: the first one that
 * does not decode. */
static size_t
bad_string_offset(const StropPstatsFile *file, const unsigned char *data)
{
    for (uint32_t i = 0; i < file->n_strings; i++) {
        const StropPstatsString *s = &file->strings[i];
        PyObject *o;
        if (s->latin1)
            continue;
        o = PyUnicode_DecodeUTF8((const char *)data + s->offset, s->len, "surrogatepass");
        if (o == NULL) {
            PyErr_Clear();
            return s->offset;
        }
        Py_DECREF(o);
    }
    return 0;
}

PyObject *
strop_loaded_read_pstats(PyObject *module, PyObject *path)
{
    StropPstatsFile file;
    char *data = NULL, error[200];
    size_t len = 0;
    PyObject *result = NULL;
    int rc;
    memset(&file, 0, sizeof file);
    if (read_file(path, &data, &len) < 0)
        return NULL;
    file.code_layout = STROP_MARSHAL_CODE_LAYOUT;
    rc = strop_pstats_read(&file, (const unsigned char *)data, len, error, sizeof error);
    if (rc == STROP_PSTATS_NOMEM) {
        PyErr_NoMemory();
    }
    else if (rc == STROP_PSTATS_FORMAT) {
        raise_format(module, path, "pstats", NULL, error);
    }
    else {
        result = pstats_dict(&file, (const unsigned char *)data);
        if (result == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            /* A UTF-8 string's type byte and length come 5 bytes before it. */
            snprintf(error, sizeof error, "byte %zu: a string that is not UTF-8",
                     bad_string_offset(&file, (const unsigned char *)data) - 5);
            raise_format(module, path, "pstats", NULL, error);
        }
    }
    strop_pstats_file_free(&file);
    strop_free(data);
    return result;
}

/* A call count from a pstats dict, as forgiving as pstats' printing is: an
 * int (negative ones as 0, huge ones saturated) or a float.  0, or -1 with
 * TypeError for anything else. */
static int
count_of(PyObject *number, uint64_t *out)
{
    if (PyLong_Check(number)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(number, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        *out = overflow > 0 ? UINT64_MAX : (overflow < 0 || v < 0) ? 0 : (uint64_t)v;
        return 0;
    }
    if (PyFloat_Check(number)) {
        double v = PyFloat_AS_DOUBLE(number);
        *out = !(v > 0) ? 0 : v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
        return 0;
    }
    PyErr_SetString(PyExc_TypeError, "a call count that is not a number");
    return -1;
}

PyObject *
strop_loaded_load_stats(PyObject *module, PyObject *stats)
{
    PyObject *index = NULL, *names = NULL, *key, *value, *result = NULL;
    StropPstatsFunc *funcs = NULL;
    StropPstatsEdge *edges = NULL;
    size_t n_edges = 0, cap_edges = 0;
    Py_ssize_t pos = 0, n;
    uint32_t i = 0;
    LoadedProfile *self = NULL;

    if (!PyDict_Check(stats)) {
        PyErr_SetString(PyExc_TypeError, "load_stats() takes a pstats dict");
        return NULL;
    }
    n = PyDict_Size(stats);
    index = PyDict_New();
    names = PyList_New(0);
    funcs = strop_calloc((size_t)n + 1, sizeof *funcs);
    if (index == NULL || names == NULL || funcs == NULL)
        goto nomem;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *file, *line, *name, *number;
        Py_ssize_t file_len, name_len;
        if (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 3 || !PyTuple_Check(value) ||
            PyTuple_GET_SIZE(value) != 5 || !PyDict_Check(PyTuple_GET_ITEM(value, 4)))
            goto bad;
        file = PyTuple_GET_ITEM(key, 0);
        line = PyTuple_GET_ITEM(key, 1);
        name = PyTuple_GET_ITEM(key, 2);
        if (!PyUnicode_Check(name) && PyCode_Check(name)) {
            /* python -m profile names the script's entry by its code object */
            name = PyObject_Str(name);
            if (name == NULL || PyList_Append(names, name) < 0) {
                Py_XDECREF(name);
                goto error;
            }
            Py_DECREF(name);
        }
        if (!PyUnicode_Check(file) || !PyUnicode_Check(name) || !PyLong_Check(line))
            goto bad;
        funcs[i].label.file = PyUnicode_AsUTF8AndSize(file, &file_len);
        funcs[i].label.name = PyUnicode_AsUTF8AndSize(name, &name_len);
        if (funcs[i].label.file == NULL || funcs[i].label.name == NULL)
            goto error;
        funcs[i].label.file_len = (size_t)file_len;
        funcs[i].label.name_len = (size_t)name_len;
        funcs[i].label.line = PyLong_AsLong(line);
        if (count_of(PyTuple_GET_ITEM(value, 1), &funcs[i].nc) < 0)
            goto bad;
        funcs[i].tt = PyFloat_AsDouble(PyTuple_GET_ITEM(value, 2));
        funcs[i].ct = PyFloat_AsDouble(PyTuple_GET_ITEM(value, 3));
        if (PyErr_Occurred())
            goto bad;
        number = PyLong_FromUnsignedLong(i);
        if (number == NULL || PyDict_SetItem(index, key, number) < 0) {
            Py_XDECREF(number);
            goto error;
        }
        Py_DECREF(number);
        i++;
    }
    pos = 0;
    i = 0;
    while (PyDict_Next(stats, &pos, &key, &value)) {
        PyObject *callers = PyTuple_GET_ITEM(value, 4), *caller, *edge;
        Py_ssize_t cpos = 0;
        while (PyDict_Next(callers, &cpos, &caller, &edge)) {
            PyObject *at = PyDict_GetItemWithError(index, caller);
            StropPstatsEdge e;
            if (at == NULL) {
                if (PyErr_Occurred())
                    goto bad;
                continue; /* a caller the file does not list */
            }
            e.caller = (uint32_t)PyLong_AsUnsignedLong(at);
            e.callee = i;
            if (PyLong_Check(edge)) {
                /* The profile module's callers: a count only; the time is
                 * the callee's, shared by calls. */
                if (count_of(edge, &e.nc) < 0)
                    goto bad;
                e.ct = funcs[i].nc ? funcs[i].ct * (double)e.nc / (double)funcs[i].nc : 0;
            }
            else if (PyTuple_Check(edge) && PyTuple_GET_SIZE(edge) == 4) {
                if (count_of(PyTuple_GET_ITEM(edge, 0), &e.nc) < 0)
                    goto bad;
                e.ct = PyFloat_AsDouble(PyTuple_GET_ITEM(edge, 3));
            }
            else {
                goto bad;
            }
            if (PyErr_Occurred())
                goto bad;
            if (n_edges == cap_edges) {
                size_t cap = cap_edges ? cap_edges * 2 : 256;
                StropPstatsEdge *grown = strop_realloc(edges, cap * sizeof *grown);
                if (grown == NULL)
                    goto nomem;
                edges = grown;
                cap_edges = cap;
            }
            edges[n_edges++] = e;
        }
        i++;
    }
    self = new_loaded(module);
    if (self == NULL)
        goto error;
    if (strop_load_pstats(&self->prof, funcs, i, edges, n_edges) != STROP_LOAD_OK)
        goto nomem;
    result = (PyObject *)self;
    self = NULL;
    goto error;
bad:
    PyErr_Clear();
    {
        PyObject *type = format_error_type(module);
        if (type != NULL) {
            PyErr_SetString(type, "not a pstats dict of (file, line, name) -> "
                                  "(cc, nc, tt, ct, callers)");
            Py_DECREF(type);
        }
    }
    goto error;
nomem:
    PyErr_NoMemory();
error:
    Py_XDECREF(self);
    Py_XDECREF(index);
    Py_XDECREF(names);
    strop_free(funcs);
    strop_free(edges);
    return result;
}

/* ---- the LoadedProfile type ---------------------------------------------- */

static int
ready(LoadedProfile *self)
{
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError,
                        "this LoadedProfile holds nothing: make one with load_profile()");
        return 0;
    }
    return 1;
}

static StropLabel *
dump_labels(void *owner)
{
    LoadedProfile *self = owner;
    size_t n = self->prof.tree.n_funcs ? self->prof.tree.n_funcs : 1;
    StropLabel *labels = strop_calloc(n, sizeof *labels);
    if (labels == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(labels, self->prof.labels, (size_t)self->prof.tree.n_funcs * sizeof *labels);
    return labels;
}

/* Per-function and per-edge totals in ticks (or samples, with the calls set
 * to the samples a function is in, as the sampler has them). */
static int
dump_totals(void *owner, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    LoadedProfile *self = owner;
    const StropTree *tree = &self->prof.tree;
    *funcs = strop_malloc((size_t)(tree->n_funcs ? tree->n_funcs : 1) * sizeof **funcs);
    *edges = NULL;
    if (*funcs == NULL || strop_tree_aggregate(tree, *funcs, edges, n_edges) < 0) {
        strop_free(*funcs);
        *funcs = NULL;
        PyErr_NoMemory();
        return -1;
    }
    if (self->prof.sampled) {
        for (uint32_t f = 0; f < tree->n_funcs; f++)
            (*funcs)[f].nc = (*funcs)[f].cc = (*funcs)[f].ct;
        for (size_t e = 0; e < *n_edges; e++)
            (*edges)[e].nc = (*edges)[e].cc = (*edges)[e].ct;
    }
    return 0;
}

static PyObject *
LoadedProfile_dump(LoadedProfile *self, PyObject *args, PyObject *kwds)
{
    StropDumpSource src;
    if (!ready(self))
        return NULL;
    memset(&src, 0, sizeof src);
    src.tree = &self->prof.tree;
    src.info.time_kind = self->prof.time_kind;
    src.info.seconds_per_tick = self->prof.seconds_per_tick;
    src.info.sampled = self->prof.sampled;
    src.info.period_ns = self->prof.period_ns;
    src.info.start_unix_ns = self->prof.start_unix_ns;
    src.info.duration_ns = self->prof.duration_ns;
    src.pstats_seconds_per_unit = self->prof.seconds_per_tick;
    src.owner = self;
    src.labels = dump_labels;
    src.totals = dump_totals;
    return strop_dump(&src, args, kwds);
}

static PyObject *
LoadedProfile_stats(LoadedProfile *self, PyObject *Py_UNUSED(ignored))
{
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    PyObject *result = NULL, **keys = NULL;
    const StropLabel *labels;
    uint32_t n_funcs;
    if (!ready(self) || dump_totals(self, &funcs, &edges, &n_edges) < 0)
        return NULL;
    labels = self->prof.labels;
    n_funcs = self->prof.tree.n_funcs;
    keys = PyMem_Calloc(n_funcs ? n_funcs : 1, sizeof *keys);
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t f = 1; f < n_funcs; f++) {
        if (labels[f].file == NULL || (funcs[f].nc == 0 && funcs[f].ct == 0))
            continue;
        /* Names from a file may be any bytes: invalid UTF-8 shows as U+FFFD. */
        keys[f] = Py_BuildValue(
            "(NlN)",
            PyUnicode_DecodeUTF8(labels[f].file, (Py_ssize_t)labels[f].file_len, "replace"),
            labels[f].line,
            PyUnicode_DecodeUTF8(labels[f].name, (Py_ssize_t)labels[f].name_len, "replace"));
        if (keys[f] == NULL)
            goto done;
    }
    result = strop_stats_dict(funcs, n_funcs, edges, n_edges, keys,
                              self->prof.seconds_per_tick);
done:
    if (keys != NULL) {
        for (uint32_t f = 0; f < n_funcs; f++)
            Py_XDECREF(keys[f]);
        PyMem_Free(keys);
    }
    strop_free(funcs);
    strop_free(edges);
    return result;
}

static PyObject *
LoadedProfile_info(LoadedProfile *self, PyObject *Py_UNUSED(ignored))
{
    if (!ready(self))
        return NULL;
    return Py_BuildValue("{s:s,s:O,s:s,s:d,s:K,s:I,s:I}", "kind", self->prof.kind, "sampled",
                         self->prof.sampled ? Py_True : Py_False, "time_kind",
                         self->prof.time_kind, "seconds_per_unit", self->prof.seconds_per_tick,
                         "period_ns", (unsigned long long)self->prof.period_ns, "functions",
                         (unsigned int)self->prof.tree.n_funcs, "nodes",
                         (unsigned int)self->prof.tree.n_nodes);
}

static void
LoadedProfile_dealloc(LoadedProfile *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->ready)
        strop_load_free(&self->prof);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef LoadedProfile_methods[] = {
    {"dump", (PyCFunction)(void (*)(void))LoadedProfile_dump, METH_VARARGS | METH_KEYWORDS,
     "dump(path, format='pstats', command=None, node_thres=0.005, edge_thres=0.001, "
     "template=None, svg=None, note=None, python=None)\n--\n\nWrites the profile in a format."},
    {"stats", (PyCFunction)LoadedProfile_stats, METH_NOARGS,
     "stats()\n--\n\nThe pstats dict (samples count as calls when sampled)."},
    {"info", (PyCFunction)LoadedProfile_info, METH_NOARGS,
     "info()\n--\n\nWhat was read: kind, sampled, time_kind, seconds_per_unit, sizes."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot LoadedProfile_slots[] = {
    {Py_tp_doc, "A profile read from a file: make one with load_profile() or load_stats()."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, LoadedProfile_dealloc},
    {Py_tp_methods, LoadedProfile_methods},
    {0, NULL},
};

static PyType_Spec LoadedProfile_spec = {
    .name = "strop._engine.LoadedProfile",
    .basicsize = sizeof(LoadedProfile),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = LoadedProfile_slots,
};

int
strop_loaded_add_types(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&LoadedProfile_spec);
    if (type == NULL)
        return -1;
    if (PyModule_AddObject(module, "LoadedProfile", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    PyObject *error = PyErr_NewExceptionWithDoc(
        "strop._engine.FormatError", "A file that is not a profile of the kind expected.",
        PyExc_ValueError, NULL);
    if (error == NULL)
        return -1;
    if (PyModule_AddObject(module, "FormatError", error) < 0) {
        Py_DECREF(error);
        return -1;
    }
    return 0;
}
