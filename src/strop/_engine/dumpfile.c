/* dumpfile.c: dump() and stats() of every profile type (see dumpfile.h). */
#include "dumpfile.h"

#include <string.h>

#include "mem.h"

static const struct {
    const char *name;
    StropFormat format;
} formats[] = {
    {"pstats", STROP_FORMAT_PSTATS},         {"folded", STROP_FORMAT_FOLDED},
    {"callgrind", STROP_FORMAT_CALLGRIND},   {"pprof", STROP_FORMAT_PPROF},
    {"speedscope", STROP_FORMAT_SPEEDSCOPE}, {"dot", STROP_FORMAT_DOT},
    {"html", STROP_FORMAT_HTML},
};

int
strop_dump_open(PyObject *path, FILE **out, PyObject **path_bytes)
{
    *out = NULL;
    *path_bytes = NULL;
    if (!PyUnicode_FSConverter(path, path_bytes))
        return -1;
    *out = fopen(PyBytes_AS_STRING(*path_bytes), "wb");
    if (*out == NULL) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        Py_CLEAR(*path_bytes);
        return -1;
    }
    return 0;
}

int
strop_dump_close(PyObject *path, FILE *out, int write_status)
{
    if (write_status < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        fclose(out);
        return -1;
    }
    if (fclose(out) != 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        return -1;
    }
    return 0;
}

PyObject *
strop_dump(StropDumpSource *src, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path",     "format", "command", "node_thres", "edge_thres",
                             "template", "svg",    "note",    "python",     "machine",
                             "map_svg",  "map_text", NULL};
    StropWriteInfo info = src->info;
    Py_ssize_t template_len = 0, svg_len = 0, map_svg_len = 0;
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    StropLabel *labels = NULL;
    size_t n_edges = 0;
    PyObject *path_arg, *path = NULL, *result = NULL;
    const char *format_name = "pstats";
    StropFormat format = STROP_FORMAT_PSTATS;
    FILE *out = NULL;
    int found = 0, rc;

    info.command = NULL;
    info.node_thres = 0.005;
    info.edge_thres = 0.001;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|szddz#z#zzzz#z", kwlist, &path_arg,
                                     &format_name, &info.command, &info.node_thres,
                                     &info.edge_thres, &info.html_template, &template_len,
                                     &info.html_svg, &svg_len, &info.html_note,
                                     &info.python_version, &info.machine, &info.map_svg,
                                     &map_svg_len, &info.map_text))
        return NULL;
    info.map_svg_len = (size_t)map_svg_len;
    info.html_template_len = (size_t)template_len;
    info.html_svg_len = (size_t)svg_len;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(formats[i].name, format_name) == 0) {
            format = formats[i].format;
            found = 1;
        }
    }
    if (!found) {
        PyErr_Format(PyExc_ValueError,
                     "unknown format '%s': choose pstats, folded, callgrind, pprof, "
                     "speedscope, dot or html",
                     format_name);
        return NULL;
    }
    if (format == STROP_FORMAT_HTML && info.html_template == NULL) {
        PyErr_SetString(PyExc_ValueError, "the html format needs the page's template");
        return NULL;
    }
    if (format == STROP_FORMAT_PSTATS && src->pstats_labels != NULL)
        labels = src->pstats_labels(src->owner);
    else
        labels = src->labels(src->owner);
    if (labels == NULL)
        goto done;
    if (format == STROP_FORMAT_PSTATS && src->totals(src->owner, &funcs, &edges, &n_edges) < 0)
        goto done;
    if (strop_dump_open(path_arg, &out, &path) < 0)
        goto done;
    if (format == STROP_FORMAT_PSTATS)
        rc = strop_pstats_write(out, labels, funcs, src->tree->n_funcs, edges, n_edges,
                                src->pstats_seconds_per_unit);
    else
        rc = strop_write_format(out, format, src->tree, labels, &info);
    if (strop_dump_close(path_arg, out, rc) < 0)
        goto done;
    result = Py_NewRef(Py_None);
done:
    strop_free(labels);
    strop_free(funcs);
    strop_free(edges);
    Py_XDECREF(path);
    return result;
}

PyObject *
strop_stats_dict(const StropFuncStats *funcs, uint32_t n_funcs, const StropEdgeStats *edges,
                 size_t n_edges, PyObject *const *keys, double seconds_per_unit)
{
    PyObject *result = PyDict_New(), *value = NULL, **callers;
    double spu = seconds_per_unit;

    callers = PyMem_Calloc(n_funcs ? n_funcs : 1, sizeof *callers);
    if (result == NULL || callers == NULL)
        goto error;
    for (uint32_t f = 0; f < n_funcs; f++) {
        if (keys[f] != NULL && (callers[f] = PyDict_New()) == NULL)
            goto error;
    }
    for (size_t e = 0; e < n_edges; e++) {
        const StropEdgeStats *es = &edges[e];
        if (es->caller >= n_funcs || es->callee >= n_funcs || keys[es->caller] == NULL ||
            callers[es->callee] == NULL || (es->nc == 0 && es->ct == 0))
            continue;
        value = Py_BuildValue("(KKdd)", (unsigned long long)es->nc, (unsigned long long)es->cc,
                              (double)es->tt * spu, (double)es->ct * spu);
        if (value == NULL || PyDict_SetItem(callers[es->callee], keys[es->caller], value) < 0)
            goto error;
        Py_CLEAR(value);
    }
    for (uint32_t f = 0; f < n_funcs; f++) {
        if (keys[f] == NULL)
            continue;
        value = Py_BuildValue("(KKddO)", (unsigned long long)funcs[f].cc,
                              (unsigned long long)funcs[f].nc, (double)funcs[f].tt * spu,
                              (double)funcs[f].ct * spu, callers[f]);
        if (value == NULL || PyDict_SetItem(result, keys[f], value) < 0)
            goto error;
        Py_CLEAR(value);
    }
    goto done;
error:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    Py_CLEAR(result);
done:
    Py_XDECREF(value);
    if (callers != NULL) {
        for (uint32_t f = 0; f < n_funcs; f++)
            Py_XDECREF(callers[f]);
        PyMem_Free(callers);
    }
    return result;
}
