/* heapgraph.c: references between the objects of a census, unseen
 * references, retained sizes, shortest paths from roots (see heapgraph.h).
 *
 * The graph is compressed rows: the referents of object i (its index in the
 * HeapSet) are edges[start[i] .. start[i+1]), as indices.  Building it
 * traverses every object once and looks each referent up in an
 * open-addressing table of indices (4 bytes a slot, load at most 0.5).
 * Memory per object: 4 (table, twice over) + 8 (start) + 8 (unseen) + 4 per
 * edge; retained sizes add 8 and, while they are computed, 9 arrays of 4
 * bytes and the reversed edges.
 *
 * No Python code runs between the traversal of the first object and the end
 * of a walk, so the borrowed pointers in the arrays stay valid: the set holds
 * every object of the graph, and the path walk keeps nothing across a call
 * into Python.
 *
 * This file is not: the census (heap.c), the printing of paths and reports
 * (strop/_memory.py, strop/_grow.py).
 */
#include "heapgraph.h"

#include <stdint.h>
#include <string.h>
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#include <malloc.h>
#endif

#include "heap.h"
#include "mem.h"

#define NONE UINT32_MAX

static PyTypeObject *HeapGraph_type; /* borrowed: the module holds it */

static inline size_t
hash_ptr(const void *p, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)p >> 4;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & mask;
}

/* ---- Index: object address -> position in an array of objects -------- */

typedef struct {
    PyObject **objs; /* borrowed */
    uint32_t *slots; /* NONE or a position */
    size_t mask;
} Index;

/* Makes an index able to hold `n` objects (load at most one half).  0, or
 * -1 when out of memory (*need the bytes asked for). */
static int
index_init(Index *ix, PyObject **objs, size_t n, size_t *need)
{
    size_t cap = 1024;
    while (cap < 2 * n)
        cap *= 2;
    ix->objs = objs;
    ix->mask = cap - 1;
    ix->slots = strop_malloc(cap * sizeof(uint32_t));
    if (ix->slots == NULL) {
        *need = cap * sizeof(uint32_t);
        return -1;
    }
    memset(ix->slots, 0xff, cap * sizeof(uint32_t));
    return 0;
}

/* Position of `o`, or NONE.  With `add` (position `at`), adds it when
 * absent and returns NONE; the caller has made room. */
static inline uint32_t
index_find(Index *ix, PyObject *o, int add, uint32_t at)
{
    size_t i = hash_ptr(o, ix->mask);
    for (;;) {
        uint32_t k = ix->slots[i];
        if (k == NONE) {
            if (add)
                ix->slots[i] = at;
            return NONE;
        }
        if (ix->objs[k] == o)
            return k;
        i = (i + 1) & ix->mask;
    }
}

/* ---- HeapGraph ------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *set;       /* the HeapSet: strong; it owns objs and sizes */
    PyObject **objs;
    Py_ssize_t *sizes;
    uint32_t n;
    Index index;
    size_t *start;       /* n + 1 */
    uint32_t *edges;
    int64_t *unseen;     /* n */
    int64_t *retained;   /* n, or NULL until asked for */
    uint32_t nroots;
} HeapGraph;

static int
HeapGraph_traverse(HeapGraph *self, visitproc visit, void *arg)
{
    Py_VISIT(self->set);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
HeapGraph_clear(HeapGraph *self)
{
    Py_CLEAR(self->set);
    strop_free(self->index.slots);
    strop_free(self->start);
    strop_free(self->edges);
    strop_free(self->unseen);
    strop_free(self->retained);
    self->index.slots = NULL;
    self->start = NULL;
    self->edges = NULL;
    self->unseen = NULL;
    self->retained = NULL;
    self->objs = NULL;
    self->sizes = NULL;
    self->n = 0;
    return 0;
}

static void
HeapGraph_dealloc(HeapGraph *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    HeapGraph_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

typedef struct {
    HeapGraph *g;
    uint32_t *edges;
    size_t nedges, cap;
    PyObject *dict;   /* the instance dict of the object walked, or NULL */
    int dict_seen;
    size_t need;      /* bytes asked for when memory ran out */
} Build;

static int
edge_visit(PyObject *o, void *arg)
{
    Build *b = arg;
    if (o == b->dict)
        b->dict_seen = 1;
    uint32_t k = index_find(&b->g->index, o, 0, 0);
    if (k == NONE)
        return 0;
    if (b->nedges == b->cap) {
        size_t cap = b->cap ? b->cap + b->cap / 2 : 1 << 16;
        uint32_t *e = strop_realloc(b->edges, cap * sizeof(uint32_t));
        if (e == NULL) {
            b->need = cap * sizeof(uint32_t);
            return -1;
        }
        b->edges = e;
        b->cap = cap;
    }
    b->edges[b->nedges++] = k;
    return 0;
}

/* Takes one reference off each object of the graph that `o` refers to. */
static int
discount_visit(PyObject *o, void *arg)
{
    HeapGraph *g = arg;
    uint32_t k = index_find(&g->index, o, 0, 0);
    if (k != NONE)
        g->unseen[k]--;
    return 0;
}

static int
traverse_of(PyObject *o, visitproc visit, void *arg)
{
    if (PyObject_IS_GC(o) && Py_TYPE(o)->tp_traverse != NULL)
        return Py_TYPE(o)->tp_traverse(o, visit, arg);
    return 0;
}

static PyObject *
graph_memory_error(size_t n, size_t need)
{
    return PyErr_Format(PyExc_MemoryError,
                        "strop: the reference graph of %zu objects could not get %zu more bytes",
                        n, need);
}

/* Takes off the references that objects outside the set hold: strop's own
 * (every HeapSet, graph, partition alive), what only they keep alive, and
 * garbage that only the cyclic collector would free.  They are the objects
 * the collector lists that the census left out.  0, or -1 with an
 * exception. */
static int
discount_outsiders(HeapGraph *g)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL)
        return -1;
    PyObject *listed = PyObject_CallMethod(gc, "get_objects", NULL);
    Py_DECREF(gc);
    if (listed == NULL)
        return -1;
    if (!PyList_Check(listed)) {
        Py_DECREF(listed);
        PyErr_SetString(PyExc_TypeError, "gc.get_objects() did not return a list");
        return -1;
    }
    /* No Python code runs from here on: the list holds what it lists.
     * (unseen[] was read from the reference counts before the list was
     * made, so its own references are not in it.) */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(listed); i++) {
        PyObject *o = PyList_GET_ITEM(listed, i);
        if (index_find(&g->index, o, 0, 0) == NONE)
            traverse_of(o, discount_visit, g);
    }
    Py_DECREF(listed);
    return 0;
}

PyObject *
strop_heapgraph_new(PyObject *module, PyObject *args)
{
    PyObject *set;
    PyObject **objs;
    Py_ssize_t *sizes, n;
    Build b = {0};
    (void)module;
    if (!PyArg_ParseTuple(args, "O:heap_graph", &set))
        return NULL;
    if (strop_heapset_view(set, &objs, &sizes, &n) < 0)
        return NULL;
    if ((size_t)n >= NONE)
        return PyErr_Format(PyExc_MemoryError, "strop: %zd objects are too many for a graph", n);
    HeapGraph *g = PyObject_GC_New(HeapGraph, HeapGraph_type);
    if (g == NULL)
        return NULL;
    g->set = Py_NewRef(set);
    g->objs = objs;
    g->sizes = sizes;
    g->n = (uint32_t)n;
    g->index.slots = NULL;
    g->edges = NULL;
    g->retained = NULL;
    g->nroots = 0;
    g->start = strop_malloc(((size_t)n + 1) * sizeof(size_t));
    g->unseen = strop_malloc(((size_t)n + 1) * sizeof(int64_t));
    PyObject_GC_Track(g);
    if (g->start == NULL || g->unseen == NULL) {
        b.need = ((size_t)n + 1) * (sizeof(size_t) + sizeof(int64_t));
        goto nomem;
    }
    if (index_init(&g->index, objs, (size_t)n, &b.need) < 0)
        goto nomem;
    for (uint32_t i = 0; i < g->n; i++)
        index_find(&g->index, objs[i], 1, i);
    b.g = g;
    for (uint32_t i = 0; i < g->n; i++) {
        PyObject *o = objs[i];
        g->start[i] = b.nedges;
        b.dict = PyDict_CheckExact(o) ? NULL : strop_instance_dict(o);
        b.dict_seen = 0;
        if (traverse_of(o, edge_visit, &b) != 0 && b.need)
            goto nomem;
        /* 3.13 does not visit a dict that inline values still back. */
        if (b.dict != NULL && !b.dict_seen && edge_visit(b.dict, &b) < 0)
            goto nomem;
    }
    g->start[g->n] = b.nedges;
    g->edges = b.edges;
    b.edges = NULL;
    for (uint32_t i = 0; i < g->n; i++)
        g->unseen[i] = (int64_t)Py_REFCNT(objs[i]);
    for (size_t e = 0; e < g->start[g->n]; e++)
        g->unseen[g->edges[e]]--;
    if (discount_outsiders(g) < 0) {
        Py_DECREF(g);
        return NULL;
    }
    for (uint32_t i = 0; i < g->n; i++)
        g->nroots += g->unseen[i] > 0;
    return (PyObject *)g;
nomem:
    strop_free(b.edges);
    Py_DECREF(g);
    return graph_memory_error((size_t)n, b.need);
}

/* ---- retained sizes: Lengauer-Tarjan ---------------------------------
 *
 * Vertices 0..n-1 are the objects, n the virtual root, whose referents are
 * the objects with unseen references.  The work is done on depth-first
 * numbers (0 is the root), with the "simple" link/eval of Lengauer and
 * Tarjan (path compression, no balancing): O(E log V).  find() is iterative
 * so that a chain of a million objects does not overflow the C stack.
 */
typedef struct {
    uint32_t *sdom, *dsu, *label, *path;
} Forest;

/* eval(u) of Lengauer-Tarjan: the vertex of least semidominator on the path
 * from u to the root of its tree, compressing the path. */
static uint32_t
forest_find(Forest *f, uint32_t u)
{
    if (f->dsu[u] == u)
        return u;
    size_t k = 0;
    f->path[k] = u;
    while (f->dsu[f->path[k]] != f->path[k]) {
        f->path[k + 1] = f->dsu[f->path[k]];
        k++;
    }
    /* path[k] is the tree's root; path[k - 1] is linked to it directly */
    if (k == 1)
        return u;
    uint32_t top = f->path[k - 1];
    for (size_t j = k - 1; j-- > 0;) {
        uint32_t a = f->path[j], up = f->path[j + 1];
        if (f->sdom[f->label[up]] < f->sdom[f->label[a]])
            f->label[a] = f->label[up];
        f->dsu[a] = top;
    }
    return f->label[u];
}

/* Fills g->retained.  0, or -1 with MemoryError. */
static int
graph_dominators(HeapGraph *g)
{
    uint32_t n = g->n, V = n + 1, N = 0;
    size_t E = g->start[n], need = 0;
    uint32_t *roots = NULL, *num = NULL, *vert = NULL, *par = NULL, *idom = NULL;
    uint32_t *bhead = NULL, *bnext = NULL, *redges = NULL, *stack = NULL;
    size_t *pos = NULL, *rstart = NULL;
    int64_t *ret = NULL;
    Forest f = {NULL, NULL, NULL, NULL};
    int status = -1;

#define ALLOC(p, count, type)                                   \
    do {                                                        \
        need = (size_t)(count) * sizeof(type);                  \
        p = strop_malloc(need ? need : 1);                      \
        if (p == NULL)                                          \
            goto done;                                          \
    } while (0)
    ALLOC(roots, g->nroots + 1, uint32_t);
    ALLOC(num, V, uint32_t);
    ALLOC(vert, V, uint32_t);
    ALLOC(par, V, uint32_t);
    ALLOC(idom, V, uint32_t);
    ALLOC(bhead, V, uint32_t);
    ALLOC(bnext, V, uint32_t);
    ALLOC(stack, V, uint32_t);
    ALLOC(pos, V, size_t);
    ALLOC(rstart, (size_t)V + 1, size_t);
    ALLOC(redges, E + g->nroots + 1, uint32_t);
    ALLOC(f.sdom, V, uint32_t);
    ALLOC(f.dsu, V, uint32_t);
    ALLOC(f.label, V, uint32_t);
    ALLOC(f.path, V, uint32_t);
    ALLOC(ret, V, int64_t);
#undef ALLOC
    need = 0;
    uint32_t nroots = 0;
    for (uint32_t i = 0; i < n; i++)
        if (g->unseen[i] > 0)
            roots[nroots++] = i;

    /* predecessors, as compressed rows (the root is each root's) */
    memset(rstart, 0, ((size_t)V + 1) * sizeof(size_t));
    for (size_t e = 0; e < E; e++)
        rstart[g->edges[e] + 1]++;
    for (uint32_t r = 0; r < nroots; r++)
        rstart[roots[r] + 1]++;
    for (uint32_t v = 0; v < V; v++)
        rstart[v + 1] += rstart[v];
    memcpy(pos, rstart, (size_t)V * sizeof(size_t));
    for (uint32_t v = 0; v < n; v++)
        for (size_t e = g->start[v]; e < g->start[v + 1]; e++)
            redges[pos[g->edges[e]]++] = v;
    for (uint32_t r = 0; r < nroots; r++)
        redges[pos[roots[r]]++] = n;

    /* depth-first numbering from the root */
    memset(num, 0xff, (size_t)V * sizeof(uint32_t));
    size_t top = 0;
    num[n] = 0;
    vert[0] = n;
    par[0] = 0;
    N = 1;
    pos[n] = 0;
    stack[top++] = n;
    while (top > 0) {
        uint32_t v = stack[top - 1], w;
        if (v == n) {
            if (pos[v] == nroots) {
                top--;
                continue;
            }
            w = roots[pos[v]++];
        }
        else {
            if (pos[v] == g->start[v + 1]) {
                top--;
                continue;
            }
            w = g->edges[pos[v]++];
        }
        if (num[w] != NONE)
            continue;
        num[w] = N;
        vert[N] = w;
        par[N] = num[v];
        N++;
        pos[w] = g->start[w];
        stack[top++] = w;
    }

    for (uint32_t i = 0; i < N; i++) {
        f.sdom[i] = f.dsu[i] = f.label[i] = idom[i] = i;
        bhead[i] = NONE;
    }
    for (uint32_t i = N; i-- > 0;) {
        uint32_t w = vert[i];
        for (size_t e = rstart[w]; e < rstart[w + 1]; e++) {
            uint32_t p = num[redges[e]];
            if (p == NONE)
                continue;
            uint32_t u = forest_find(&f, p);
            if (f.sdom[u] < f.sdom[i])
                f.sdom[i] = f.sdom[u];
        }
        if (i > 0) {
            bnext[i] = bhead[f.sdom[i]];
            bhead[f.sdom[i]] = i;
        }
        for (uint32_t x = bhead[i]; x != NONE; x = bnext[x]) {
            uint32_t v = forest_find(&f, x);
            idom[x] = f.sdom[v] == f.sdom[x] ? f.sdom[x] : v;
        }
        bhead[i] = NONE;
        if (i > 0)
            f.dsu[i] = par[i];
    }
    for (uint32_t i = 1; i < N; i++)
        if (idom[i] != f.sdom[i])
            idom[i] = idom[idom[i]];

    /* retained: a vertex's size plus what it dominates (idom[i] < i) */
    ret[0] = 0;
    for (uint32_t i = 1; i < N; i++)
        ret[i] = g->sizes[vert[i]];
    for (uint32_t i = N; i-- > 1;)
        ret[idom[i]] += ret[i];
    g->retained = strop_malloc(((size_t)n + 1) * sizeof(int64_t));
    if (g->retained == NULL) {
        need = ((size_t)n + 1) * sizeof(int64_t);
        goto done;
    }
    for (uint32_t v = 0; v < n; v++)
        g->retained[v] = num[v] == NONE ? g->sizes[v] : ret[num[v]];
    status = 0;
done:
    if (status < 0)
        graph_memory_error(n, need);
    strop_free(roots);
    strop_free(num);
    strop_free(vert);
    strop_free(par);
    strop_free(idom);
    strop_free(bhead);
    strop_free(bnext);
    strop_free(stack);
    strop_free(pos);
    strop_free(rstart);
    strop_free(redges);
    strop_free(f.sdom);
    strop_free(f.dsu);
    strop_free(f.label);
    strop_free(f.path);
    strop_free(ret);
    return status;
}

/* Position of `o` in the graph; -1 with ValueError when it is not there. */
static Py_ssize_t
graph_position(HeapGraph *g, PyObject *o)
{
    uint32_t k = index_find(&g->index, o, 0, 0);
    if (k == NONE) {
        PyErr_Format(PyExc_ValueError, "the %.100s object is not in the census",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return k;
}

/* retained_of(obj) -> int */
static PyObject *
HeapGraph_retained_of(HeapGraph *self, PyObject *o)
{
    Py_ssize_t k = graph_position(self, o);
    if (k < 0)
        return NULL;
    if (self->retained == NULL && graph_dominators(self) < 0)
        return NULL;
    return PyLong_FromLongLong(self->retained[k]);
}

/* unseen_of(obj) -> int */
static PyObject *
HeapGraph_unseen_of(HeapGraph *self, PyObject *o)
{
    Py_ssize_t k = graph_position(self, o);
    if (k < 0)
        return NULL;
    return PyLong_FromLongLong(self->unseen[k]);
}

/* top_retainers(n) -> [(obj, retained)], the n largest, largest first. */
static PyObject *
HeapGraph_top_retainers(HeapGraph *self, PyObject *arg)
{
    Py_ssize_t want = PyLong_AsSsize_t(arg);
    if (want == -1 && PyErr_Occurred())
        return NULL;
    if (want < 0)
        want = 0;
    if ((size_t)want > self->n)
        want = self->n;
    if (self->retained == NULL && graph_dominators(self) < 0)
        return NULL;
    uint32_t *best = strop_malloc(((size_t)want + 1) * sizeof(uint32_t));
    if (best == NULL)
        return PyErr_NoMemory();
    Py_ssize_t have = 0;
    /* best[0..have) sorted by retained, largest first */
    for (uint32_t i = 0; i < self->n; i++) {
        int64_t r = self->retained[i];
        if (have == want && (want == 0 || r <= self->retained[best[have - 1]]))
            continue;
        Py_ssize_t j = have < want ? have++ : want - 1;
        while (j > 0 && self->retained[best[j - 1]] < r) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = i;
    }
    PyObject *result = PyList_New(have);
    for (Py_ssize_t j = 0; result != NULL && j < have; j++) {
        PyObject *t = Py_BuildValue("(OL)", self->objs[best[j]],
                                    (long long)self->retained[best[j]]);
        if (t == NULL)
            Py_CLEAR(result);
        else
            PyList_SET_ITEM(result, j, t);
    }
    strop_free(best);
    return result;
}

/* unseen_snapshot() -> bytes: each object's address and unseen references
 * (two 64-bit words an object), holding no object alive, for ref_growth. */
static PyObject *
HeapGraph_unseen_snapshot(HeapGraph *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *snap = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)self->n * 16);
    if (snap == NULL)
        return NULL;
    int64_t *w = (int64_t *)PyBytes_AS_STRING(snap);
    for (uint32_t i = 0; i < self->n; i++) {
        w[2 * i] = (int64_t)(uintptr_t)self->objs[i];
        w[2 * i + 1] = self->unseen[i];
    }
    return snap;
}

/* ref_growth(snapshot, least) -> [(obj, growth)]: the objects at an address
 * of the snapshot whose unseen references grew by `least` or more since.
 * (An object freed since, whose address a new one took, would be compared
 * with the old one: `least` of a few per call keeps that from a report.) */
static PyObject *
HeapGraph_ref_growth(HeapGraph *self, PyObject *args)
{
    const char *bytes;
    Py_ssize_t len;
    long long least;
    size_t need = 0;
    if (!PyArg_ParseTuple(args, "y#L:ref_growth", &bytes, &len, &least))
        return NULL;
    size_t m = (size_t)len / 16;
    const int64_t *w = (const int64_t *)bytes;
    PyObject **addrs = strop_malloc((m + 1) * sizeof(PyObject *));
    Index ix = {NULL, NULL, 0};
    PyObject *result = NULL;
    if (addrs == NULL || index_init(&ix, addrs, m, &need) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t k = 0; k < m; k++) {
        addrs[k] = (PyObject *)(uintptr_t)w[2 * k];
        index_find(&ix, addrs[k], 1, (uint32_t)k);
    }
    result = PyList_New(0);
    if (result == NULL)
        goto done;
    for (uint32_t i = 0; i < self->n; i++) {
        uint32_t k = index_find(&ix, self->objs[i], 0, 0);
        if (k == NONE || self->unseen[i] - w[2 * k + 1] < least ||
            strop_refcount_meaningless(self->objs[i]))
            continue;
        PyObject *t = Py_BuildValue("(OL)", self->objs[i],
                                    (long long)(self->unseen[i] - w[2 * k + 1]));
        if (t == NULL || PyList_Append(result, t) < 0) {
            Py_XDECREF(t);
            Py_CLEAR(result);
            goto done;
        }
        Py_DECREF(t);
    }
done:
    strop_free(addrs);
    strop_free(ix.slots);
    return result;
}

/* held_from_outside() -> [obj]: the objects with unseen references. */
static PyObject *
HeapGraph_held_from_outside(HeapGraph *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = PyList_New(0);
    for (uint32_t i = 0; result != NULL && i < self->n; i++)
        if (self->unseen[i] > 0 && PyList_Append(result, self->objs[i]) < 0)
            Py_CLEAR(result);
    return result;
}

static PyObject *
HeapGraph_edges_get(HeapGraph *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->start ? self->start[self->n] : 0);
}

static PyObject *
HeapGraph_roots_get(HeapGraph *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLong(self->nroots);
}

static Py_ssize_t
HeapGraph_length(HeapGraph *self)
{
    return self->n;
}

static PyMethodDef HeapGraph_methods[] = {
    {"retained_of", (PyCFunction)HeapGraph_retained_of, METH_O,
     "retained_of(obj)\n--\n\nBytes freed if obj went away (its dominated set)."},
    {"unseen_of", (PyCFunction)HeapGraph_unseen_of, METH_O,
     "unseen_of(obj)\n--\n\nobj's references that no object of the census holds."},
    {"top_retainers", (PyCFunction)HeapGraph_top_retainers, METH_O,
     "top_retainers(n)\n--\n\n[(obj, retained)] of the n objects that retain the most."},
    {"held_from_outside", (PyCFunction)HeapGraph_held_from_outside, METH_NOARGS,
     "held_from_outside()\n--\n\n[obj] of the objects with unseen references."},
    {"unseen_snapshot", (PyCFunction)HeapGraph_unseen_snapshot, METH_NOARGS,
     "unseen_snapshot()\n--\n\nbytes: (address, unseen references) of each object."},
    {"ref_growth", (PyCFunction)HeapGraph_ref_growth, METH_VARARGS,
     "ref_growth(snapshot, least)\n--\n\n[(obj, growth)] whose unseen references grew by "
     "least or more since the snapshot."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef HeapGraph_getset[] = {
    {"edges", (getter)HeapGraph_edges_get, NULL, "References between the census's objects.", NULL},
    {"roots", (getter)HeapGraph_roots_get, NULL, "Objects with unseen references.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot HeapGraph_slots[] = {
    {Py_tp_dealloc, (void *)HeapGraph_dealloc},
    {Py_tp_traverse, (void *)HeapGraph_traverse},
    {Py_tp_clear, (void *)HeapGraph_clear},
    {Py_tp_methods, (void *)HeapGraph_methods},
    {Py_tp_getset, (void *)HeapGraph_getset},
    {Py_sq_length, (void *)HeapGraph_length},
    {Py_tp_doc, (void *)"The references between the objects of a census."},
    {0, NULL},
};

static PyType_Spec HeapGraph_spec = {
    .name = "strop._engine.HeapGraph",
    .basicsize = sizeof(HeapGraph),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = HeapGraph_slots,
};

int
strop_heapgraph_add_types(PyObject *module)
{
    PyObject *tp = PyType_FromSpec(&HeapGraph_spec);
    if (tp == NULL)
        return -1;
    if (strop_heap_add_own((PyTypeObject *)tp) < 0 || PyModule_AddObject(module, "HeapGraph", tp) < 0) {
        Py_DECREF(tp);
        return -1;
    }
    HeapGraph_type = (PyTypeObject *)tp;
    return 0;
}

/* ---- shortest path from roots ---------------------------------------- */

typedef struct {
    PyObject **nodes; /* borrowed: nothing runs Python code during the walk */
    uint32_t *parent;
    size_t n, cap;
    Index index;
    size_t need;
    PyObject *skip;
    PyObject *target;
    size_t found; /* index of target once added, else (size_t)-1 */
} Walk;

static int
walk_visit_from(Walk *w, PyObject *o, uint32_t from)
{
    if (o == w->skip || strop_heap_is_own(Py_TYPE(o)))
        return 0;
    if (w->n == w->cap || (w->n + 1) * 2 > w->index.mask + 1) {
        size_t cap = w->cap ? w->cap * 2 : 1 << 14;
        PyObject **nodes = strop_realloc(w->nodes, cap * sizeof(PyObject *));
        if (nodes == NULL) {
            w->need = cap * sizeof(PyObject *);
            return -1;
        }
        w->nodes = nodes;
        uint32_t *parent = strop_realloc(w->parent, cap * sizeof(uint32_t));
        if (parent == NULL) {
            w->need = cap * sizeof(uint32_t);
            return -1;
        }
        w->parent = parent;
        w->cap = cap;
        Index bigger;
        if (index_init(&bigger, w->nodes, cap, &w->need) < 0)
            return -1;
        for (size_t k = 0; k < w->n; k++)
            index_find(&bigger, w->nodes[k], 1, (uint32_t)k);
        strop_free(w->index.slots);
        w->index = bigger;
    }
    w->index.objs = w->nodes;
    if (index_find(&w->index, o, 1, (uint32_t)w->n) != NONE)
        return 0;
    w->nodes[w->n] = o;
    w->parent[w->n] = from;
    if (o == w->target)
        w->found = w->n;
    w->n++;
    return 0;
}

typedef struct {
    Walk *w;
    uint32_t from;
} WalkVisit;

static int
walk_visit(PyObject *o, void *arg)
{
    WalkVisit *v = arg;
    return walk_visit_from(v->w, o, v->from);
}

PyObject *
strop_heapgraph_path(PyObject *module, PyObject *args)
{
    PyObject *roots, *target, *result = NULL;
    Walk w;
    (void)module;
    if (!PyArg_ParseTuple(args, "O!O:heap_path", &PyList_Type, &roots, &target))
        return NULL;
    memset(&w, 0, sizeof(w));
    w.skip = roots;
    w.target = target;
    w.found = (size_t)-1;
    if (index_init(&w.index, NULL, 1024, &w.need) < 0)
        goto nomem;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(roots) && w.found == (size_t)-1; r++)
        if (walk_visit_from(&w, PyList_GET_ITEM(roots, r), NONE) < 0)
            goto nomem;
    /* Breadth first, stopping when the target is first reached: the
     * first path found is a shortest one. */
    for (size_t i = 0; i < w.n && w.found == (size_t)-1; i++) {
        PyObject *o = w.nodes[i];
        WalkVisit v = {&w, (uint32_t)i};
        PyObject *dict = PyDict_CheckExact(o) ? NULL : strop_instance_dict(o);
        if (traverse_of(o, walk_visit, &v) != 0 && w.need)
            goto nomem;
        if (dict != NULL && walk_visit(dict, &v) < 0)
            goto nomem;
    }
    size_t found = w.found;
    if (found == (size_t)-1) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    size_t len = 0;
    for (uint32_t k = (uint32_t)found; k != NONE; k = w.parent[k])
        len++;
    /* Owned before anything is allocated: making the list may run the
     * collector, and a finalizer could free what the path borrows. */
    PyObject **path = strop_malloc(len * sizeof(PyObject *));
    if (path == NULL) {
        w.need = len * sizeof(PyObject *);
        goto nomem;
    }
    size_t at = 0;
    for (uint32_t k = (uint32_t)found; k != NONE; k = w.parent[k])
        path[at++] = Py_NewRef(w.nodes[k]);
    result = PyList_New((Py_ssize_t)len);
    for (size_t j = 0; j < len; j++) {
        if (result == NULL)
            Py_DECREF(path[j]);
        else
            PyList_SET_ITEM(result, (Py_ssize_t)(len - 1 - j), path[j]);
    }
    strop_free(path);
    goto done;
nomem:
    PyErr_Format(PyExc_MemoryError,
                 "strop: the path search over %zu objects could not get %zu more bytes", w.n,
                 w.need);
done:
    strop_free(w.nodes);
    strop_free(w.parent);
    strop_free(w.index.slots);
    return result;
}

/* ---- memory below Python --------------------------------------------- */

PyObject *
strop_heapgraph_native_bytes(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
#if defined(__SANITIZE_ADDRESS__)
    /* Under AddressSanitizer malloc is its allocator, which glibc's counts
     * do not see; its own count (__sanitizer_get_current_allocated_bytes)
     * grew by 52 bytes at every whole-heap census, which plain malloc
     * (PYTHONMALLOC=malloc, no sanitizer) does not: no figure is better
     * than that one. */
    Py_RETURN_NONE;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return PyLong_FromSize_t(mi.uordblks + mi.hblkhd);
#else
    Py_RETURN_NONE;
#endif
}
