/* sampler.c: the statistical profiler's Python type (see sampler.h).
 *
 * Functions are named by the remote reader's code-object cache: a function's
 * label (file, first line, name) points at the cache's C strings, so writing
 * a profile needs no Python object at all.  Two code objects with the same
 * label count as one function (a label table maps labels to functions).
 * A thread stack that the reader reports torn is dropped and counted, never
 * recorded in part.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* syscall(SYS_gettid) under -std=c11; as pyconfig.h says it */
#endif
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cct.h"
#include "dumpfile.h"
#include "mem.h"
#include "proctask.h"
#include "pstats.h"
#include "remote.h"
#include "remote_names.h"
#include "textbuf.h"
#include "healthobj.h"
#include "waitmap.h"
#include "waits.h"
#include "writers.h"

typedef struct LeafLine {
    const StropCode *code; /* NULL: an empty slot */
    int line;
    uint64_t count;
} LeafLine;

/* A frame the sampler makes up: a thread's root (`<thread ...>`) or what a
 * blocked thread waits on (`<waiting: ...>`), named like a built-in. */
typedef struct Pseudo {
    StropCode code;
    struct Pseudo *next;
    char *renamed; /* the name after a rename (a thread's new name), or NULL */
} Pseudo;

/* A descendant of the target met with `subprocesses`: when it runs a
 * Python, its own reader, counted into the same tree under its
 * `<process PID: cmdline>` frame.  A slot whose pid is 0 is free. */
typedef struct Proc {
    pid_t pid;
    StropRemote *remote; /* NULL: not attached (yet, or not a Python) */
    StropRemoteSample sample;
    StropTasks *tasks;
    const StropCode *root;
    int stat_fd;       /* /proc/PID/stat kept open, to notice an exec; -1: none */
    uint64_t image;    /* the program image it ran at the last attach attempt
                        * (image_of): a change means it exec'd */
    uint64_t seen_ns;  /* when it was met, or seen to exec */
    uint64_t retry_ns; /* the next attach attempt */
    int failures;      /* attach attempts that failed */
    int given_up;      /* not a Python (or not readable): only its children matter */
} Proc;

#define MAX_PROCS 256
#define PSEUDO_BUCKETS 256
#define MAX_PSEUDO 65536

/* Windowed tables (table(window=...)): a snapshot of the per-function counts
 * every SNAP_NS of sampling, the last N_SNAPS kept, so windows of up to 10 s. */
#define SNAP_NS 100000000ull
#define N_SNAPS 101

/* The per-function counts at one moment.  Counts are kept modulo 2^32: the
 * difference over a window of seconds is exact in unsigned arithmetic. */
typedef struct Snapshot {
    uint64_t at_ns;   /* CLOCK_MONOTONIC when taken; 0: never taken */
    uint64_t samples; /* Sampler.samples then */
    uint32_t n_funcs; /* functions then (later ones counted 0 then) */
    uint32_t cap;
    uint32_t *counts; /* per function: own, total */
} Snapshot;

typedef struct Sampler {
    PyObject_HEAD
    StropRemote *remote;
    StropTasks *tasks;                 /* /proc of the target's threads */
    Pseudo *pseudo[PSEUDO_BUCKETS];    /* made-up frames by label */
    uint32_t n_pseudo;
    int threads; /* a root frame per thread */
    int follow;  /* follow child processes, a root frame per process */
    const StropCode *root; /* the target's `<process ...>` frame when following */
    Proc *procs; /* the target's live descendants: MAX_PROCS slots */
    uint32_t n_procs; /* slots used so far (some may be free again) */
    int children_files; /* /proc/PID/task/TID/children exists: scan it every tick */
    uint64_t children_due; /* CLOCK_MONOTONIC of the next scan of them */
    StropRemote **retired; /* readers of processes that exited or exec'd: kept,
                            * as their code caches name our functions */
    uint32_t n_retired, cap_retired;
    int waits;   /* a leaf frame naming what a blocked thread waits on */
    StropWaits *wait_table; /* those waits by endpoint (waits.h); NULL: none kept */
    StropRemoteSample sample;
    StropTree tree;
    int cpu;
    double rate;
    const StropCode **func_code; /* per function: its code (label), NULL for the catch-all */
    uint32_t cap_func_code;
    uint32_t *label_slots; /* open addressing: label -> function */
    uint32_t label_mask;
    LeafLine *lines; /* open addressing: (leaf code, line) -> samples */
    uint32_t lines_mask, n_lines;
    /* Per function, kept as samples are recorded (the tree's aggregate gives
     * the same numbers, but costs a walk of every node): */
    uint64_t *func_own;   /* samples with the function innermost */
    uint64_t *func_total; /* samples with it anywhere in the stack, once */
    uint64_t *func_seen;  /* the stack that counted its total last */
    unsigned char *func_hidden; /* 1: its file is one of `hide` */
    uint32_t cap_func_counts;
    char **hide;    /* files whose frames drop the stack they are in (the
                     * in-process API's own): owned copies */
    uint32_t n_hide;
    uint64_t stack_id;    /* stacks recorded, numbering them for func_seen */
    Snapshot snaps[N_SNAPS]; /* a ring, for windowed tables */
    uint32_t snap_next;      /* the slot written next */
    uint64_t snap_due;       /* CLOCK_MONOTONIC of the next snapshot */
    uint64_t ticks;    /* readings attempted */
    uint64_t samples;  /* thread stacks recorded */
    uint64_t bad;      /* thread stacks (or whole readings) dropped as torn */
    uint64_t bad_why[STROP_TORN_N]; /* bad by StropTorn reason; [0]: whole readings */
    uint64_t at_caller; /* stacks read from the caller of an eval loop being entered */
    uint64_t idle;     /* cpu mode: stacks of threads not running, left out */
    uint64_t hidden;   /* stacks left out for a frame of a `hide` file */
    uint64_t late;     /* readings that started later than one period after due */
    uint64_t tardy;    /* readings taken more than half a period after due: a
                        * reader kept from its CPU (said in the report) */
    double elapsed;    /* seconds spent sampling */
    uint64_t start_unix_ns;
    int fault; /* out of memory: the recording stopped */
    /* The target's own exec: its /proc/PID/stat, open to see the image change */
    int stat_open, stat_fd;
    uint64_t image;         /* image_of() the program read now */
    int execd;              /* it exec'd a program not read (yet): not sampled */
    uint64_t exec_since;    /* CLOCK_MONOTONIC of that exec */
    uint64_t exec_retry;    /* when to try attaching to it again */
    uint64_t after_exec;    /* readings skipped while execd */
    uint32_t execs;         /* execs of the target seen */
} Sampler;

static uint64_t
now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
hash_str(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static uint64_t
label_hash(const StropCode *c)
{
    return hash_str(c->name, hash_str(c->filename, 0xcbf29ce484222325ull)) ^
           ((uint64_t)c->firstlineno * 0x9E3779B97F4A7C15ull);
}

static int
same_label(const StropCode *a, const StropCode *b)
{
    return a->firstlineno == b->firstlineno && strcmp(a->name, b->name) == 0 &&
           strcmp(a->filename, b->filename) == 0;
}

/* Grows the label table to hold one more function, or with `rehash` set,
 * fills it again (a function's label changed).  Returns 0 or -1. */
static int
labels_reserve(Sampler *self, int rehash)
{
    uint32_t n = self->tree.n_funcs;
    if (self->label_slots != NULL && (n + 1) * 2 <= self->label_mask + 1 && !rehash)
        return 0;
    uint32_t mask = self->label_mask ? self->label_mask : 255;
    if ((n + 1) * 2 > mask + 1)
        mask = mask * 2 + 1;
    uint32_t *slots = strop_malloc(((size_t)mask + 1) * sizeof *slots);
    if (slots == NULL)
        return -1;
    memset(slots, 0xFF, ((size_t)mask + 1) * sizeof *slots);
    for (uint32_t f = 0; f < n && f < self->cap_func_code; f++) {
        const StropCode *c = self->func_code[f];
        if (c == NULL || self->tree.funcs[f].canon != f)
            continue;
        uint32_t j = (uint32_t)(label_hash(c) >> 17) & mask;
        while (slots[j] != STROP_NONE)
            j = (j + 1) & mask;
        slots[j] = f;
    }
    strop_free(self->label_slots);
    self->label_slots = slots;
    self->label_mask = mask;
    return 0;
}

/* Grows the per-function counts to cover every function of the tree.
 * Returns 0 or -1 (out of memory). */
static int
func_counts_reserve(Sampler *self)
{
    uint32_t n = self->tree.n_funcs, cap;
    uint64_t *own, *total, *seen;
    unsigned char *hidden;
    if (n <= self->cap_func_counts)
        return 0;
    cap = self->cap_func_counts ? self->cap_func_counts : 256;
    while (cap < n)
        cap *= 2;
    own = strop_realloc(self->func_own, (size_t)cap * sizeof *own);
    if (own == NULL)
        return -1;
    self->func_own = own;
    total = strop_realloc(self->func_total, (size_t)cap * sizeof *total);
    if (total == NULL)
        return -1;
    self->func_total = total;
    seen = strop_realloc(self->func_seen, (size_t)cap * sizeof *seen);
    if (seen == NULL)
        return -1;
    self->func_seen = seen;
    hidden = strop_realloc(self->func_hidden, (size_t)cap * sizeof *hidden);
    if (hidden == NULL)
        return -1;
    self->func_hidden = hidden;
    memset(hidden + self->cap_func_counts, 0, (size_t)(cap - self->cap_func_counts));
    memset(own + self->cap_func_counts, 0, (size_t)(cap - self->cap_func_counts) * sizeof *own);
    memset(total + self->cap_func_counts, 0,
           (size_t)(cap - self->cap_func_counts) * sizeof *total);
    memset(seen + self->cap_func_counts, 0,
           (size_t)(cap - self->cap_func_counts) * sizeof *seen);
    self->cap_func_counts = cap;
    return 0;
}

/* Adds the function of code `c` to the tree and the label table (see
 * function_of).  STROP_NONE when out of memory. */
static uint32_t
function_add(Sampler *self, const StropCode *c)
{
    uint32_t f = strop_tree_func_find(&self->tree, (uintptr_t)c);
    uint32_t j, canon = STROP_NONE;
    if (f != STROP_NONE)
        return f;
    if (labels_reserve(self, 0) < 0)
        return STROP_NONE;
    j = (uint32_t)(label_hash(c) >> 17) & self->label_mask;
    for (; self->label_slots[j] != STROP_NONE; j = (j + 1) & self->label_mask) {
        uint32_t g = self->label_slots[j];
        if (same_label(self->func_code[g], c)) {
            canon = g;
            break;
        }
    }
    f = strop_tree_func_add(&self->tree, (uintptr_t)c, canon);
    if (f == STROP_NONE || f == STROP_OVERFLOW_FUNC || canon != STROP_NONE)
        return f;
    if (f >= self->cap_func_code) {
        uint32_t cap = self->cap_func_code ? self->cap_func_code * 2 : 256;
        while (cap <= f)
            cap *= 2;
        const StropCode **p = strop_realloc(self->func_code, (size_t)cap * sizeof *p);
        if (p == NULL)
            return STROP_NONE;
        memset(p + self->cap_func_code, 0, (size_t)(cap - self->cap_func_code) * sizeof *p);
        self->func_code = p;
        self->cap_func_code = cap;
    }
    self->func_code[f] = c;
    self->label_slots[j] = f;
    return f;
}

/* The function of code `c`, added when new (with its counts).  STROP_NONE
 * when out of memory. */
static uint32_t
function_of(Sampler *self, const StropCode *c)
{
    uint32_t f = strop_tree_func_find(&self->tree, (uintptr_t)c);
    if (f != STROP_NONE)
        return f;
    f = function_add(self, c);
    if (f == STROP_NONE || func_counts_reserve(self) < 0)
        return STROP_NONE;
    for (uint32_t i = 0; i < self->n_hide && f != STROP_OVERFLOW_FUNC; i++) {
        if (strcmp(c->filename, self->hide[i]) == 0)
            self->func_hidden[f] = 1;
    }
    return f;
}

/* Counts one sample of the leaf (code, line).  Returns 0 or -1. */
static int
count_leaf_line(Sampler *self, const StropCode *code, int line)
{
    uint32_t j;
    if (self->lines == NULL || (self->n_lines + 1) * 2 > self->lines_mask + 1) {
        uint32_t mask = self->lines_mask ? self->lines_mask * 2 + 1 : 255;
        LeafLine *lines = strop_calloc((size_t)mask + 1, sizeof *lines);
        if (lines == NULL)
            return -1;
        for (uint32_t i = 0; self->lines && i <= self->lines_mask; i++) {
            LeafLine *e = &self->lines[i];
            if (e->code == NULL)
                continue;
            j = (uint32_t)((((uintptr_t)e->code >> 4) * 31 + (uint32_t)e->line) * 2654435761u) &
                mask;
            while (lines[j].code != NULL)
                j = (j + 1) & mask;
            lines[j] = *e;
        }
        strop_free(self->lines);
        self->lines = lines;
        self->lines_mask = mask;
    }
    j = (uint32_t)((((uintptr_t)code >> 4) * 31 + (uint32_t)line) * 2654435761u) &
        self->lines_mask;
    while (self->lines[j].code != NULL &&
           (self->lines[j].code != code || self->lines[j].line != line))
        j = (j + 1) & self->lines_mask;
    if (self->lines[j].code == NULL) {
        self->lines[j].code = code;
        self->lines[j].line = line;
        self->n_lines++;
    }
    self->lines[j].count++;
    return 0;
}

static char pseudo_file[] = "~";

/* The made-up frame of `label`, added when new.  NULL when out of memory or
 * past the cap. */
static const StropCode *
pseudo_of(Sampler *self, const char *label)
{
    uint32_t b = (uint32_t)(hash_str(label, 0xcbf29ce484222325ull) % PSEUDO_BUCKETS);
    Pseudo *p;
    size_t n;
    for (p = self->pseudo[b]; p != NULL; p = p->next) {
        if (strcmp(p->code.name, label) == 0)
            return &p->code;
    }
    if (self->n_pseudo >= MAX_PSEUDO)
        return NULL;
    n = strlen(label) + 1;
    p = strop_calloc(1, sizeof *p + n);
    if (p == NULL)
        return NULL;
    p->code.name = (char *)(p + 1);
    memcpy(p->code.name, label, n);
    p->code.qualname = p->code.name;
    p->code.filename = pseudo_file;
    p->next = self->pseudo[b];
    self->pseudo[b] = p;
    self->n_pseudo++;
    return &p->code;
}

/* Renames the made-up frame `old` to `name`, so that every sample already
 * counted under it shows the new name (a thread renamed while sampled).
 * Nothing happens when there is no frame `old` or one named `name` exists
 * already.  Returns 0 or -1 when out of memory. */
static int
pseudo_rename(Sampler *self, const char *old, const char *name)
{
    uint32_t b = (uint32_t)(hash_str(old, 0xcbf29ce484222325ull) % PSEUDO_BUCKETS);
    uint32_t nb = (uint32_t)(hash_str(name, 0xcbf29ce484222325ull) % PSEUDO_BUCKETS);
    Pseudo **link, *p, *q;
    char *copy;
    size_t n = strlen(name) + 1;
    for (link = &self->pseudo[b]; *link != NULL; link = &(*link)->next) {
        if (strcmp((*link)->code.name, old) == 0)
            break;
    }
    if ((p = *link) == NULL)
        return 0;
    for (q = self->pseudo[nb]; q != NULL; q = q->next) {
        if (strcmp(q->code.name, name) == 0)
            return 0;
    }
    copy = strop_malloc(n);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, n);
    *link = p->next;
    strop_free(p->renamed);
    p->renamed = copy;
    p->code.name = p->code.qualname = copy;
    p->next = self->pseudo[nb];
    self->pseudo[nb] = p;
    /* The label table places functions by label: place them again. */
    return self->label_slots != NULL ? labels_reserve(self, 1) : 0;
}

static void
pseudo_free(Sampler *self)
{
    for (int b = 0; b < PSEUDO_BUCKETS; b++) {
        while (self->pseudo[b] != NULL) {
            Pseudo *p = self->pseudo[b];
            self->pseudo[b] = p->next;
            strop_free(p->renamed);
            strop_free(p);
        }
    }
    self->n_pseudo = 0;
}

/* The child of `node` for code `c`, added when new, its total counted.
 * STROP_NONE when out of memory. */
static uint32_t
step(Sampler *self, uint32_t node, const StropCode *c)
{
    uint32_t f, child = strop_tree_child_find(&self->tree, node, (uintptr_t)c);
    if (child == STROP_NONE) {
        f = function_of(self, c);
        if (f == STROP_NONE)
            return STROP_NONE;
        child = strop_tree_child_add(&self->tree, node, (uintptr_t)c, f);
        if (child == STROP_NONE)
            return STROP_NONE;
    }
    self->tree.nodes[child].total_ticks++;
    f = self->tree.nodes[child].func;
    if (self->func_seen[f] != self->stack_id) {
        self->func_seen[f] = self->stack_id;
        self->func_total[f]++;
    }
    return child;
}

/* "<process PID: cmdline>" of `pid` into buf. */
static void
process_label(pid_t pid, char *buf, size_t len)
{
    char path[64], cmd[160];
    ssize_t n = 0;
    int fd;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, cmd, sizeof cmd - 1);
        close(fd);
    }
    if (n < 0)
        n = 0;
    while (n > 0 && cmd[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++) {
        if (cmd[i] == '\0' || cmd[i] == '\n' || cmd[i] == ';')
            cmd[i] = ' ';
    }
    cmd[n] = '\0';
    snprintf(buf, len, "<process %d: %s>", (int)pid, n ? cmd : "?");
}

/* 1 when a frame of thread `th` is of a `hide` file, 0 when none is, -1 when
 * out of memory. */
static int
hidden_stack(Sampler *self, const StropRemoteSample *s, const StropRemoteThread *th)
{
    for (uint32_t i = 0; i < th->n_frames; i++) {
        uint32_t f = function_of(self, s->frames[th->first + i].code);
        if (f == STROP_NONE)
            return -1;
        if (self->func_hidden[f])
            return 1;
    }
    return 0;
}

/* Reads threading's names of the threads of reading `s` (of `remote`) and
 * gives them to `tasks` for their labels; a thread whose label changes has
 * its root frame renamed.  A thread without a name keeps the kernel's label;
 * a failed read leaves every label as it is.  Costs a few hundred reads: done
 * when a thread is first met, about once a second, and at the end.  Returns
 * 0 or STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
refresh_names(Sampler *self, StropRemote *remote, StropTasks *tasks, const StropRemoteSample *s)
{
    StropThreadName *names = NULL;
    size_t n = 0;
    char old[256];
    int rc = strop_remote_thread_names(remote, &names, &n);
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    for (uint32_t t = 0; t < s->n_threads; t++) {
        const StropRemoteThread *th = &s->threads[t];
        const char *name = NULL, *label;
        for (size_t i = 0; i < n && name == NULL; i++) {
            if (names[i].ident == th->ident)
                name = names[i].name;
        }
        /* A failed read is retried about once a second, not per sample. */
        if (rc != STROP_REMOTE_OK && strop_tasks_named(tasks, th->native_id))
            continue;
        switch (strop_tasks_set_name(tasks, th->native_id, name, old, sizeof old)) {
        case -1:
            strop_remote_thread_names_free(names);
            return STROP_REMOTE_ENOMEM;
        case 1:
            label = strop_tasks_thread_label(tasks, th->native_id);
            if (label == NULL || (old[0] && pseudo_rename(self, old, label) < 0)) {
                strop_remote_thread_names_free(names);
                return STROP_REMOTE_ENOMEM;
            }
            break;
        default:
            break;
        }
    }
    strop_remote_thread_names_free(names);
    return 0;
}

/* Records one reading `s` of a process (`remote`, threads through `tasks`),
 * under the frame `root` when not NULL.  Returns 0 or STROP_REMOTE_ENOMEM. */
static int
record(Sampler *self, StropRemote *remote, StropRemoteSample *s, StropTasks *tasks,
       const StropCode *root)
{
    char wait[256];
    uintptr_t gil_lo = 0, gil_hi = 0;
    if (self->waits)
        (void)strop_remote_gil(remote, &gil_lo, &gil_hi);
    for (uint32_t t = 0; self->threads && t < s->n_threads; t++) {
        const StropRemoteThread *th = &s->threads[t];
        if (th->torn || th->n_frames == 0 || strop_tasks_named(tasks, th->native_id))
            continue;
        if (refresh_names(self, remote, tasks, s) < 0)
            return STROP_REMOTE_ENOMEM;
        break;
    }
    for (uint32_t t = 0; t < s->n_threads; t++) {
        StropRemoteThread *th = &s->threads[t];
        uint32_t node = STROP_ROOT;
        int state;
        if (th->torn) {
            self->bad++;
            self->bad_why[th->torn > 0 && th->torn < STROP_TORN_N ? th->torn : 0]++;
            continue;
        }
        if (th->n_frames == 0)
            continue;
        self->at_caller += th->at_caller != 0;
        state = (self->cpu || self->waits) ? strop_tasks_state(tasks, th->native_id) : 0;
        if (self->cpu && state != 0 && state != 'R') {
            self->idle++;
            continue;
        }
        if (self->n_hide > 0) {
            int hidden = hidden_stack(self, s, th);
            if (hidden < 0)
                return STROP_REMOTE_ENOMEM;
            if (hidden) {
                self->hidden++;
                continue;
            }
        }
        self->stack_id++;
        if (root != NULL && (node = step(self, node, root)) == STROP_NONE)
            return STROP_REMOTE_ENOMEM;
        if (self->threads) {
            const char *label = strop_tasks_thread_label(tasks, th->native_id);
            const StropCode *c = label ? pseudo_of(self, label) : NULL;
            if (c != NULL && (node = step(self, node, c)) == STROP_NONE)
                return STROP_REMOTE_ENOMEM;
        }
        for (uint32_t i = th->n_frames; i-- > 0;) {
            node = step(self, node, s->frames[th->first + i].code);
            if (node == STROP_NONE)
                return STROP_REMOTE_ENOMEM;
        }
        if (self->waits && state != 0 && state != 'R' &&
            strop_tasks_wait_label(tasks, th->native_id, gil_lo, gil_hi, wait, sizeof wait)) {
            const StropCode *c = pseudo_of(self, wait);
            if (c != NULL && (node = step(self, node, c)) == STROP_NONE)
                return STROP_REMOTE_ENOMEM;
            if (self->wait_table != NULL) {
                uint64_t runs = UINT64_MAX;
                strop_tasks_runs(tasks, th->native_id, &runs);
                strop_waits_sample(self->wait_table, th->native_id, wait,
                                   s->frames[th->first].code, runs);
            }
        }
        else if (self->wait_table != NULL) {
            strop_waits_sample(self->wait_table, th->native_id, NULL, NULL, UINT64_MAX);
        }
        self->tree.nodes[node].calls++;
        self->tree.nodes[node].self_ticks++;
        self->func_own[self->tree.nodes[node].func]++;
        self->samples++;
        if (count_leaf_line(self, s->frames[th->first].code, s->frames[th->first].line) < 0)
            return STROP_REMOTE_ENOMEM;
    }
    return 0;
}

/* Keeps the per-function counts of now in the ring, for windowed tables.
 * Returns 0 or -1 (out of memory: the ring is unchanged).  No GIL needed. */
static int
snapshot(Sampler *self, uint64_t now)
{
    Snapshot *snap = &self->snaps[self->snap_next];
    uint32_t n = self->tree.n_funcs;
    if (n > snap->cap) {
        uint32_t cap = n + n / 2 + 64;
        uint32_t *counts = strop_realloc(snap->counts, (size_t)cap * 2 * sizeof *counts);
        if (counts == NULL)
            return -1;
        snap->counts = counts;
        snap->cap = cap;
    }
    for (uint32_t f = 0; f < n; f++) {
        snap->counts[2 * f] = (uint32_t)self->func_own[f];
        snap->counts[2 * f + 1] = (uint32_t)self->func_total[f];
    }
    snap->at_ns = now;
    snap->samples = self->samples;
    snap->n_funcs = n;
    self->snap_next = (self->snap_next + 1) % N_SNAPS;
    self->snap_due = now + SNAP_NS;
    return 0;
}

/* The parent pid of process `pid`; -1 when gone. */
static pid_t
parent_of(pid_t pid)
{
    char path[64], buf[512];
    int fd, ppid = -1;
    ssize_t n;
    const char *p;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%*c %d", &ppid) != 1)
        return -1;
    return (pid_t)ppid;
}

/* 1 when `pid` descends from the target. */
static int
descends(Sampler *self, pid_t pid)
{
    pid_t target = strop_remote_pid(self->remote);
    pid_t ppid = parent_of(pid);
    for (int hops = 0; ppid > 1 && hops < 64; hops++) {
        if (ppid == target)
            return 1;
        ppid = parent_of(ppid);
    }
    return 0;
}

/* What process `pid`'s /proc/PID/stat (open as `fd`) says of its program
 * image: the addresses of its code and of its stack, which an exec changes
 * (ASLR places them anew).  IMAGE_GONE when it cannot be read or the process
 * is a zombie; IMAGE_LOADING in the middle of an exec, when the new address
 * space is in place but its code is not mapped yet (start_code 0: seen in
 * about 1 of 170 polls of a process that execs in a loop, and taken for an
 * exit before, which ended a run at its target's exec). */
#define IMAGE_GONE 0
#define IMAGE_LOADING 1
static uint64_t
image_of(int fd)
{
    char buf[1024], state = 0;
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    unsigned long long start_code = 0, start_stack = 0;
    uint64_t image;
    const char *p;
    if (n <= 0)
        return IMAGE_GONE;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice threads itrealvalue starttime
     * vsize rss rsslim startcode endcode startstack */
    if (p == NULL || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                            "%*d %*d %*d %*d %*u %*u %*d %*u %llu %*u %llu",
                            &state, &start_code, &start_stack) != 3)
        return IMAGE_GONE;
    if (state == 'Z' || state == 'X' || state == 'x')
        return IMAGE_GONE;
    if (start_code == 0)
        return IMAGE_LOADING;
    image = (start_code * 0x9E3779B97F4A7C15ull) ^ start_stack;
    return image > IMAGE_LOADING ? image : image + 2;
}

/* 1 when process `pid` runs an executable named python* (so a failed attach
 * is worth retrying soon: it is still loading). */
static int
looks_python(pid_t pid)
{
    char path[64], exe[512];
    const char *base;
    ssize_t n;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    n = readlink(path, exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    base = strrchr(exe, '/');
    base = base != NULL ? base + 1 : exe;
    return strncmp(base, "python", 6) == 0;
}

/* Keeps reader `r` (of a process that exited or exec'd) until the sampler is
 * released.  Returns 0 or -1 (out of memory: `r` is then freed, and the
 * caller must stop recording, as the tree may name its codes). */
static int
retire(Sampler *self, StropRemote *r)
{
    if (r == NULL)
        return 0;
    if (self->n_retired == self->cap_retired) {
        uint32_t cap = self->cap_retired ? self->cap_retired * 2 : 16;
        StropRemote **p = strop_realloc(self->retired, (size_t)cap * sizeof *p);
        if (p == NULL) {
            strop_remote_free(r);
            return -1;
        }
        self->retired = p;
        self->cap_retired = cap;
    }
    self->retired[self->n_retired++] = r;
    return 0;
}

/* Stops reading process `p` (it exited or exec'd) and retires its reader;
 * with `free_slot`, the slot is free again.  Returns 0 or -1 (out of memory). */
static int
proc_detach(Sampler *self, Proc *p, int free_slot)
{
    int rc = retire(self, p->remote);
    p->remote = NULL;
    strop_remote_sample_free(&p->sample);
    strop_tasks_free(p->tasks);
    p->tasks = NULL;
    p->root = NULL;
    if (free_slot) {
        if (p->stat_fd >= 0)
            close(p->stat_fd);
        memset(p, 0, sizeof *p);
        p->stat_fd = -1;
    }
    return rc;
}

/* Tries to attach to descendant `p`.  A process still loading is retried
 * every millisecond for 2 s when its executable is a python*, else a few
 * times, further apart; one that is not readable is given up.  Returns 0 or
 * STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
proc_attach(Sampler *self, Proc *p, uint64_t now)
{
    char err[256], label[256];
    uint64_t image = image_of(p->stat_fd);
    int rc = strop_remote_attach(p->pid, &p->remote, err, sizeof err), python;
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    p->image = image;
    if (rc != STROP_REMOTE_OK) {
        /* Caught in the middle of an exec, a Python looks like no Python or
         * an unknown version for a moment: not given up at once. */
        python = looks_python(p->pid);
        p->remote = NULL;
        p->failures++;
        if (rc == STROP_REMOTE_EPERM || rc == STROP_REMOTE_ENOPROC)
            p->given_up = 1;
        else if (python)
            p->given_up = now - p->seen_ns > 2000000000ull;
        else
            p->given_up = p->failures >= 8;
        p->retry_ns = now + (python ? 1000000ull : 10000000ull * (uint64_t)p->failures);
        return 0;
    }
    p->tasks = strop_tasks_new(p->pid);
    process_label(p->pid, label, sizeof label);
    p->root = pseudo_of(self, label);
    if (p->tasks == NULL || p->root == NULL)
        return STROP_REMOTE_ENOMEM;
    return 0;
}

/* Meets descendant `pid` of the target: takes a slot for it and tries to
 * attach, unless it is known already.  Returns 0 or STROP_REMOTE_ENOMEM. */
static int
meet(Sampler *self, pid_t pid, uint64_t now)
{
    char path[64];
    Proc *p = NULL;
    if (pid <= 0 || pid == strop_remote_pid(self->remote))
        return 0;
    for (uint32_t i = 0; i < self->n_procs; i++) {
        if (self->procs[i].pid == pid)
            return 0;
        if (p == NULL && self->procs[i].pid == 0)
            p = &self->procs[i];
    }
    if (p == NULL) {
        if (self->n_procs >= MAX_PROCS)
            return 0;
        if (self->procs == NULL) {
            self->procs = strop_calloc(MAX_PROCS, sizeof *self->procs);
            if (self->procs == NULL)
                return STROP_REMOTE_ENOMEM;
        }
        p = &self->procs[self->n_procs++];
    }
    memset(p, 0, sizeof *p);
    p->pid = pid;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    p->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
    p->seen_ns = p->retry_ns = now;
    return proc_attach(self, p, now);
}

/* Meets the children of process `pid` (every thread's, from
 * /proc/PID/task/TID/children).  Returns 0, 1 when the process is gone, or
 * STROP_REMOTE_ENOMEM. */
static int
meet_children_of(Sampler *self, pid_t pid, uint64_t now)
{
    char path[96], buf[4096];
    struct dirent *e;
    DIR *dir;
    int rc = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    dir = opendir(path);
    if (dir == NULL)
        return 1;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        ssize_t n;
        int fd;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", (int)pid, e->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (char *q = buf, *end; rc == 0; q = end) {
            long child = strtol(q, &end, 10);
            if (end == q)
                break;
            rc = meet(self, (pid_t)child, now);
        }
    }
    closedir(dir);
    return rc;
}

/* Keeps descendant `p` up to date: frees its slot when it is gone, reads it
 * anew when it exec'd, retries one still loading.  Returns 0 or
 * STROP_REMOTE_ENOMEM. */
static int
tend(Sampler *self, Proc *p, uint64_t now)
{
    uint64_t image = image_of(p->stat_fd);
    if (image == IMAGE_GONE && kill(p->pid, 0) < 0 && errno == ESRCH)
        return proc_detach(self, p, 1) < 0 ? STROP_REMOTE_ENOMEM : 0;
    if (image != IMAGE_GONE && image != p->image) {
        /* It exec'd: the same pid runs a new program, to attach anew. */
        if (proc_detach(self, p, 0) < 0)
            return STROP_REMOTE_ENOMEM;
        p->seen_ns = p->retry_ns = now;
        p->failures = 0;
        p->given_up = 0;
    }
    else if (p->remote != NULL) {
        return 0;
    }
    if (!p->given_up && now >= p->retry_ns)
        return proc_attach(self, p, now);
    return 0;
}

/* Follows the target's descendants from their /proc/PID/task/TID/children:
 * meets new ones, re-attaches to those that exec'd, retries those still
 * loading, frees the slots of those gone.  Cheap enough for every tick.
 * Returns 0 or STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
follow_children_fast(Sampler *self, uint64_t now)
{
    int rc = meet_children_of(self, strop_remote_pid(self->remote), now);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < self->n_procs; i++) {
        Proc *p = &self->procs[i];
        if (p->pid == 0)
            continue;
        rc = meet_children_of(self, p->pid, now);
        if (rc == 0)
            rc = tend(self, p, now);
        else if (rc == 1 && proc_detach(self, p, 1) < 0) /* gone */
            rc = STROP_REMOTE_ENOMEM;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Keeps the descendants met so far up to date (see tend), without looking
 * for new ones.  Returns 0 or STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
tend_children(Sampler *self, uint64_t now)
{
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < self->n_procs; i++) {
        if (self->procs[i].pid != 0)
            rc = tend(self, &self->procs[i], now);
    }
    return rc;
}

/* Where /proc/PID/task/TID/children does not exist (a kernel without
 * CONFIG_PROC_CHILDREN): meets the target's descendants by scanning /proc,
 * every 0.3 s.  Returns 0 or STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
follow_children(Sampler *self)
{
    DIR *dir = opendir("/proc");
    struct dirent *e;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    int rc = 0;
    if (dir == NULL)
        return 0;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == (long)strop_remote_pid(self->remote))
            continue;
        if (descends(self, (pid_t)pid))
            rc = meet(self, (pid_t)pid, now);
    }
    closedir(dir);
    return rc != 0 ? rc : tend_children(self, now);
}

/* The target exec'd (or is still loading the program it exec'd): reads it
 * anew when it runs a Python again; until then its readings are skipped, not
 * counted as unreadable.  A python* executable still loading is retried every
 * millisecond for 2 s, any other program every 100 ms (a script may exec a
 * Python later).  Returns 0 or STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
target_exec(Sampler *self, uint64_t now)
{
    pid_t pid = strop_remote_pid(self->remote);
    StropRemote *fresh = NULL;
    char err[256];
    int rc;
    if (!self->execd) {
        self->execd = 1;
        self->execs++;
        self->exec_since = now;
    }
    if (image_of(self->stat_fd) == IMAGE_LOADING) { /* the exec is not done */
        self->exec_retry = now + 1000000ull;
        return 0;
    }
    rc = strop_remote_attach(pid, &fresh, err, sizeof err);
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    if (rc != STROP_REMOTE_OK) {
        int loading = looks_python(pid) && now - self->exec_since < 2000000000ull;
        self->exec_retry = now + (loading ? 1000000ull : 100000000ull);
        return 0;
    }
    /* The old reader names the functions recorded so far: kept. */
    if (retire(self, self->remote) < 0) {
        self->remote = fresh;
        return STROP_REMOTE_ENOMEM;
    }
    self->remote = fresh;
    self->execd = 0;
    self->image = image_of(self->stat_fd);
    if (self->follow) {
        process_label(pid, err, sizeof err);
        self->root = pseudo_of(self, err);
        if (self->root == NULL)
            return STROP_REMOTE_ENOMEM;
    }
    return 0;
}

/* Takes one reading of the target (and of the followed processes) and
 * records it.  Returns 0, STROP_REMOTE_ENOPROC when the target is gone,
 * STROP_REMOTE_ENOMEM.  No GIL needed. */
static int
sample_once(Sampler *self)
{
    StropRemoteSample *s = &self->sample;
    int rc;
    self->ticks++;
    if (self->execd) {
        uint64_t now = now_ns(CLOCK_MONOTONIC);
        self->after_exec++;
        if (self->stat_open && image_of(self->stat_fd) == IMAGE_GONE)
            return STROP_REMOTE_ENOPROC; /* gone, or a zombie */
        if (now >= self->exec_retry && target_exec(self, now) < 0)
            return STROP_REMOTE_ENOMEM;
        rc = 1; /* nothing recorded this time */
    }
    else {
        rc = strop_remote_sample(self->remote, s);
        if (rc == STROP_REMOTE_ENOPROC || rc == STROP_REMOTE_ENOMEM)
            return rc;
        if (rc != 0 && self->stat_open && self->image != IMAGE_GONE &&
            image_of(self->stat_fd) != self->image) {
            uint64_t image = image_of(self->stat_fd);
            if (image == IMAGE_GONE)
                return STROP_REMOTE_ENOPROC;
            self->after_exec++;
            if (target_exec(self, now_ns(CLOCK_MONOTONIC)) < 0)
                return STROP_REMOTE_ENOMEM;
        }
        else if (rc != 0) {
            self->bad++;
            self->bad_why[0]++;
        }
        else if (record(self, self->remote, s, self->tasks, self->root) < 0)
            return STROP_REMOTE_ENOMEM;
    }
    for (uint32_t i = 0; i < self->n_procs; i++) {
        Proc *p = &self->procs[i];
        if (p->remote == NULL)
            continue;
        rc = strop_remote_sample(p->remote, &p->sample);
        if (rc == STROP_REMOTE_ENOMEM)
            return rc;
        if (rc == STROP_REMOTE_ENOPROC) {
            if (proc_detach(self, p, 1) < 0)
                return STROP_REMOTE_ENOMEM;
        }
        else if (rc != 0 && image_of(p->stat_fd) != p->image) {
            /* It exec'd: not a bad reading, an old reader (follow_children_fast
             * attaches anew). */
            if (proc_detach(self, p, 0) < 0)
                return STROP_REMOTE_ENOMEM;
            p->image = 0;
        }
        else if (rc != 0) {
            self->bad++;
            self->bad_why[0]++;
        }
        else if (record(self, p->remote, &p->sample, p->tasks, p->root) < 0)
            return STROP_REMOTE_ENOMEM;
    }
    return 0;
}

/* Reads every process's thread names again (threads=True only): for a
 * thread renamed since it was first met.  Returns 0 or STROP_REMOTE_ENOMEM.
 * No GIL needed. */
static int
refresh_all_names(Sampler *self)
{
    int rc;
    if (!self->threads)
        return 0;
    rc = strop_remote_sample(self->remote, &self->sample);
    if (rc == STROP_REMOTE_ENOMEM)
        return rc;
    if (rc == 0 && refresh_names(self, self->remote, self->tasks, &self->sample) < 0)
        return STROP_REMOTE_ENOMEM;
    for (uint32_t i = 0; i < self->n_procs; i++) {
        Proc *p = &self->procs[i];
        if (p->pid == 0 || p->remote == NULL)
            continue;
        rc = strop_remote_sample(p->remote, &p->sample);
        if (rc == STROP_REMOTE_ENOMEM)
            return rc;
        if (rc == 0 && refresh_names(self, p->remote, p->tasks, &p->sample) < 0)
            return STROP_REMOTE_ENOMEM;
    }
    return 0;
}

PyObject *
strop_sampler_attach_error(int rc, const char *message)
{
    PyObject *type = PyExc_ValueError;
    if (rc == STROP_REMOTE_ENOPROC)
        type = PyExc_ProcessLookupError;
    else if (rc == STROP_REMOTE_EPERM)
        type = PyExc_PermissionError;
    else if (rc == STROP_REMOTE_ENOMEM)
        return PyErr_NoMemory();
    PyErr_SetString(type, message);
    return NULL;
}

static void
sampler_release(Sampler *self)
{
    if (self->stat_open)
        close(self->stat_fd);
    self->stat_open = 0;
    strop_remote_sample_free(&self->sample);
    strop_remote_free(self->remote);
    self->remote = NULL;
    strop_tasks_free(self->tasks);
    self->tasks = NULL;
    strop_waits_free(self->wait_table);
    self->wait_table = NULL;
    for (uint32_t i = 0; i < self->n_procs; i++) {
        Proc *p = &self->procs[i];
        strop_remote_sample_free(&p->sample);
        strop_remote_free(p->remote);
        strop_tasks_free(p->tasks);
        if (p->pid != 0 && p->stat_fd >= 0)
            close(p->stat_fd);
    }
    strop_free(self->procs);
    self->procs = NULL;
    self->n_procs = 0;
    for (uint32_t i = 0; i < self->n_retired; i++)
        strop_remote_free(self->retired[i]);
    strop_free(self->retired);
    self->retired = NULL;
    self->n_retired = self->cap_retired = 0;
    self->children_due = 0;
    self->root = NULL;
    pseudo_free(self);
    strop_tree_free(&self->tree);
    strop_free(self->func_code);
    self->func_code = NULL;
    self->cap_func_code = 0;
    strop_free(self->label_slots);
    self->label_slots = NULL;
    self->label_mask = 0;
    strop_free(self->lines);
    self->lines = NULL;
    self->lines_mask = self->n_lines = 0;
    strop_free(self->func_own);
    strop_free(self->func_total);
    strop_free(self->func_seen);
    strop_free(self->func_hidden);
    self->func_own = self->func_total = self->func_seen = NULL;
    self->func_hidden = NULL;
    for (uint32_t i = 0; i < self->n_hide; i++)
        strop_free(self->hide[i]);
    strop_free(self->hide);
    self->hide = NULL;
    self->n_hide = 0;
    self->cap_func_counts = 0;
    self->stack_id = 0;
    for (int i = 0; i < N_SNAPS; i++)
        strop_free(self->snaps[i].counts);
    memset(self->snaps, 0, sizeof self->snaps);
    self->snap_next = 0;
    self->snap_due = 0;
}

/* Keeps copies of the file names of `hide` (a list or tuple of str, or
 * NULL).  Returns 0 or -1 with an exception set. */
static int
set_hide(Sampler *self, PyObject *hide)
{
    Py_ssize_t n = hide != NULL ? PySequence_Fast_GET_SIZE(hide) : 0;
    if (n == 0)
        return 0;
    self->hide = strop_calloc((size_t)n, sizeof *self->hide);
    if (self->hide == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        const char *name = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(hide, i), &len);
        if (name == NULL)
            return -1;
        self->hide[i] = strop_malloc((size_t)len + 1);
        if (self->hide[i] == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(self->hide[i], name, (size_t)len + 1);
        self->n_hide = (uint32_t)i + 1;
    }
    return 0;
}

static int
Sampler_init(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pid",          "rate", "mode", "threads", "waits",
                             "subprocesses", "hide", NULL};
    int pid, rc, threads = 0, waits = -1, follow = 0;
    double rate = 100.0;
    const char *mode = "wall";
    char err[512];
    PyObject *hide_arg = Py_None, *hide = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|dspipO", kwlist, &pid, &rate, &mode,
                                     &threads, &waits, &follow, &hide_arg))
        return -1;
    if (hide_arg != Py_None) {
        if (PyUnicode_Check(hide_arg)) {
            PyErr_SetString(PyExc_TypeError, "hide must be a sequence of file names, not a str");
            return -1;
        }
        hide = PySequence_Fast(hide_arg, "hide must be a sequence of file names");
        if (hide == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(hide); i++) {
            if (!PyUnicode_Check(PySequence_Fast_GET_ITEM(hide, i))) {
                PyErr_SetString(PyExc_TypeError, "hide must be a sequence of file names");
                Py_DECREF(hide);
                return -1;
            }
        }
    }
    if (!(rate > 0 && rate <= 1e6)) {
        PyErr_SetString(PyExc_ValueError, "rate must be above 0 and at most 1,000,000 Hz");
        return -1;
    }
    if (strcmp(mode, "wall") != 0 && strcmp(mode, "cpu") != 0) {
        PyErr_Format(PyExc_ValueError, "mode must be 'wall' or 'cpu', not '%s'", mode);
        return -1;
    }
    sampler_release(self);
    memset(&self->ticks, 0, sizeof *self - offsetof(Sampler, ticks));
    self->cpu = strcmp(mode, "cpu") == 0;
    self->rate = rate;
    self->threads = threads;
    self->follow = follow;
    self->waits = waits < 0 ? !self->cpu : waits;
    if (self->waits)
        self->wait_table = strop_waits_new(); /* NULL: no table, the leaves still */
    rc = set_hide(self, hide);
    Py_XDECREF(hide);
    if (rc < 0)
        return -1;
    Py_BEGIN_ALLOW_THREADS
    rc = strop_remote_attach((pid_t)pid, &self->remote, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc != STROP_REMOTE_OK) {
        strop_sampler_attach_error(rc, err);
        return -1;
    }
    {
        char stat_path[64];
        snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
        self->stat_fd = open(stat_path, O_RDONLY | O_CLOEXEC);
        self->stat_open = self->stat_fd >= 0;
        self->image = image_of(self->stat_open ? self->stat_fd : -1);
    }
    self->tasks = strop_tasks_new((pid_t)pid);
    if (self->tasks == NULL || strop_tree_init(&self->tree, 0, 0) < 0 ||
        func_counts_reserve(self) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    if (follow) {
        char children[64];
        snprintf(children, sizeof children, "/proc/%d/task/%d/children", pid, pid);
        self->children_files = access(children, R_OK) == 0;
        process_label((pid_t)pid, err, sizeof err);
        self->root = pseudo_of(self, err);
        if (self->root == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static int
ready(Sampler *self)
{
    if (self->remote == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler.__init__ did not attach");
        return 0;
    }
    return 1;
}

/* What thread `tid` of the target waits on, as wall mode's leaf frame names
 * it without the brackets ("waiting: recvfrom on tcp 127.0.0.1:5000",
 * "sleeping: clock_nanosleep"), or None when it runs or is not in a system
 * call.  Returns a new reference, or NULL with an exception set. */
static PyObject *
wait_of(Sampler *self, long tid)
{
    char label[256];
    size_t len;
    uintptr_t gil_lo = 0, gil_hi = 0;
    int state = tid > 0 ? strop_tasks_state(self->tasks, tid) : 0;
    (void)strop_remote_gil(self->remote, &gil_lo, &gil_hi);
    if (state == 0 || state == 'R' ||
        !strop_tasks_wait_label(self->tasks, tid, gil_lo, gil_hi, label, sizeof label))
        Py_RETURN_NONE;
    len = strlen(label);
    if (len >= 2 && label[0] == '<' && label[len - 1] == '>')
        return PyUnicode_DecodeUTF8(label + 1, (Py_ssize_t)len - 2, "replace");
    return PyUnicode_DecodeUTF8(label, (Py_ssize_t)len, "replace");
}

/* Sampler.stacks(retries=5): one reading of every thread, as a list of
 * (ident, native_id, [(file, line, name), ...] outermost first, torn, wait)
 * with wait what a blocked thread waits on (see wait_of) or None.  Threads
 * without a Python frame are left out; a torn reading is retried. */
static PyObject *
Sampler_stacks(Sampler *self, PyObject *args)
{
    int retries = 5, rc = 0;
    PyObject *result = NULL, *frames = NULL, *item = NULL, *wait = NULL;
    StropRemoteSample *s = &self->sample;
    if (!PyArg_ParseTuple(args, "|i", &retries) || !ready(self))
        return NULL;
    for (int attempt = 0; attempt <= retries; attempt++) {
        int torn = 0;
        Py_BEGIN_ALLOW_THREADS
        rc = strop_remote_sample(self->remote, s);
        Py_END_ALLOW_THREADS
        if (rc == STROP_REMOTE_ENOPROC || rc == STROP_REMOTE_ENOMEM)
            break;
        for (uint32_t t = 0; rc == 0 && t < s->n_threads; t++)
            torn |= s->threads[t].torn;
        if (rc == 0 && !torn)
            break;
        if (attempt < retries) {
            Py_BEGIN_ALLOW_THREADS
            usleep(2000);
            Py_END_ALLOW_THREADS
        }
    }
    if (rc == STROP_REMOTE_ENOPROC) {
        PyErr_Format(PyExc_ProcessLookupError, "process %d exited",
                     (int)strop_remote_pid(self->remote));
        return NULL;
    }
    if (rc == STROP_REMOTE_ENOMEM)
        return PyErr_NoMemory();
    if (rc != 0) {
        PyErr_Format(PyExc_RuntimeError, "the thread list of process %d could not be read",
                     (int)strop_remote_pid(self->remote));
        return NULL;
    }
    result = PyList_New(0);
    if (result == NULL)
        return NULL;
    for (uint32_t t = 0; t < s->n_threads; t++) {
        StropRemoteThread *th = &s->threads[t];
        if (th->n_frames == 0 && !th->torn)
            continue;
        Py_CLEAR(wait);
        wait = wait_of(self, th->native_id);
        frames = PyList_New(0);
        if (wait == NULL || frames == NULL)
            goto error;
        for (uint32_t i = th->n_frames; !th->torn && i-- > 0;) {
            const StropRemoteFrame *f = &s->frames[th->first + i];
            item = Py_BuildValue("(sis)", f->code->filename, f->line, f->code->name);
            if (item == NULL || PyList_Append(frames, item) < 0)
                goto error;
            Py_CLEAR(item);
        }
        item = Py_BuildValue("(KlNOO)", (unsigned long long)th->ident, th->native_id, frames,
                             th->torn ? Py_True : Py_False, wait);
        frames = NULL;
        if (item == NULL || PyList_Append(result, item) < 0)
            goto error;
        Py_CLEAR(item);
    }
    Py_XDECREF(wait);
    return result;
error:
    Py_XDECREF(wait);
    Py_XDECREF(item);
    Py_XDECREF(frames);
    Py_DECREF(result);
    return NULL;
}

/* Sampler.thread_names(): {ident: name} of the threads threading knows, read
 * now; {} when they cannot be read (threading not imported, a torn read). */
static PyObject *
Sampler_thread_names(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    StropThreadName *names = NULL;
    size_t n = 0;
    int rc;
    PyObject *result, *key = NULL, *value = NULL;
    if (!ready(self))
        return NULL;
    for (int attempt = 0; attempt < 5; attempt++) {
        Py_BEGIN_ALLOW_THREADS
        rc = strop_remote_thread_names(self->remote, &names, &n);
        if (rc == STROP_REMOTE_EREAD)
            usleep(2000);
        Py_END_ALLOW_THREADS
        if (rc != STROP_REMOTE_EREAD)
            break;
    }
    if (rc == STROP_REMOTE_ENOMEM)
        return PyErr_NoMemory();
    result = PyDict_New();
    for (size_t i = 0; result != NULL && i < n; i++) {
        key = PyLong_FromUnsignedLongLong(names[i].ident);
        value = PyUnicode_DecodeUTF8(names[i].name, (Py_ssize_t)strlen(names[i].name),
                                     "replace");
        if (key == NULL || value == NULL || PyDict_SetItem(result, key, value) < 0)
            Py_CLEAR(result);
        Py_CLEAR(key);
        Py_CLEAR(value);
    }
    strop_remote_thread_names_free(names);
    return result;
}

/* Sampler.run(duration=None): samples at the rate until `duration` seconds
 * have passed, the target exits, or Ctrl-C.  Returns why it stopped:
 * 'duration', 'exited' or 'interrupted'.  What was gathered is kept. */
static PyObject *
sampler_run(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"duration", NULL};
    PyObject *duration_arg = Py_None;
    double duration = -1;
    const char *reason = "duration";
    uint64_t period, start, next, end, check_at;
    unsigned checks = 0, name_checks = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O", kwlist, &duration_arg) || !ready(self))
        return NULL;
    if (duration_arg != Py_None) {
        duration = PyFloat_AsDouble(duration_arg);
        if (duration == -1 && PyErr_Occurred())
            return NULL;
        if (duration < 0) {
            PyErr_SetString(PyExc_ValueError, "duration must not be negative");
            return NULL;
        }
    }
    if (self->fault) {
        PyErr_SetString(PyExc_MemoryError, "the sampler ran out of memory earlier");
        return NULL;
    }
    period = (uint64_t)(1e9 / self->rate);
    if (period == 0)
        period = 1;
    if (self->start_unix_ns == 0)
        self->start_unix_ns = now_ns(CLOCK_REALTIME);
    start = now_ns(CLOCK_MONOTONIC);
    end = duration >= 0 ? start + (uint64_t)(duration * 1e9) : UINT64_MAX;
    next = start;
    check_at = start + 100000000ull;
    if (self->follow && !self->children_files && follow_children(self) == STROP_REMOTE_ENOMEM) {
        PyErr_NoMemory();
        return NULL;
    }
    for (;;) {
        int rc = 0;
        uint64_t now;
        Py_BEGIN_ALLOW_THREADS
        for (;;) {
            now = now_ns(CLOCK_MONOTONIC);
            if (now >= end || now >= check_at)
                break;
            if (now < next) {
                struct timespec ts = {(time_t)(next / 1000000000ull),
                                      (long)(next % 1000000000ull)};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                continue;
            }
            if (self->follow && now >= self->children_due) {
                /* Before the reading, so that a child met now is read now. */
                rc = self->children_files ? follow_children_fast(self, now)
                                          : tend_children(self, now);
                self->children_due = now + (period > 1000000ull ? period : 1000000ull) -
                                     period / 4;
                if (rc != 0)
                    break;
            }
            /* Before the reading: the first snapshot holds the counts of
             * before the first sample. */
            if (now >= self->snap_due && snapshot(self, now) < 0) {
                rc = STROP_REMOTE_ENOMEM;
                break;
            }
            if (now - next > period / 2)
                self->tardy++;
            rc = sample_once(self);
            if (rc != 0)
                break;
            next += period;
            if (next + period < now) { /* fell behind: skip what is past */
                self->late++;
                next = now + period;
            }
        }
        Py_END_ALLOW_THREADS
        if (now >= end) {
            reason = "duration";
            break;
        }
        if (now < check_at) { /* sample_once stopped us */
            if (rc == STROP_REMOTE_ENOMEM) {
                self->fault = 1;
                reason = "out of memory";
            }
            else {
                reason = "exited";
            }
            break;
        }
        check_at = now + 100000000ull;
        if (self->threads && ++name_checks % 10 == 0) {
            int nrc;
            Py_BEGIN_ALLOW_THREADS
            nrc = refresh_all_names(self);
            Py_END_ALLOW_THREADS
            if (nrc == STROP_REMOTE_ENOMEM) {
                self->fault = 1;
                reason = "out of memory";
                break;
            }
        }
        if (self->follow && !self->children_files && ++checks % 3 == 1) {
            int frc;
            Py_BEGIN_ALLOW_THREADS
            frc = follow_children(self);
            Py_END_ALLOW_THREADS
            if (frc == STROP_REMOTE_ENOMEM) {
                self->fault = 1;
                reason = "out of memory";
                break;
            }
        }
        if (PyErr_CheckSignals() < 0) {
            if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
                self->elapsed += (double)(now_ns(CLOCK_MONOTONIC) - start) * 1e-9;
                return NULL;
            }
            PyErr_Clear();
            reason = "interrupted";
            break;
        }
    }
    self->elapsed += (double)(now_ns(CLOCK_MONOTONIC) - start) * 1e-9;
    if (strcmp(reason, "exited") != 0 && !self->fault) {
        /* The names at the end: a thread renamed since it was first met. */
        int nrc;
        Py_BEGIN_ALLOW_THREADS
        nrc = refresh_all_names(self);
        Py_END_ALLOW_THREADS
        if (nrc == STROP_REMOTE_ENOMEM)
            self->fault = 1;
    }
    return PyUnicode_FromString(reason);
}

/* The name of bad_why[why]: a StropTorn's, or for 0 a whole reading. */
static const char *
bad_name(int why)
{
    return why == 0 ? "thread list" : strop_remote_torn_name(why);
}

/* The readers' failed walks per StropTorn reason, summed over every reader
 * (the target's, its children's, retired ones); [0]: walks that failed and
 * were read again within the same tick. */
static void
torn_totals(Sampler *self, uint64_t *sum)
{
    uint64_t counts[STROP_TORN_N];
    memset(sum, 0, STROP_TORN_N * sizeof *sum);
    for (uint32_t i = 0; i <= self->n_procs + self->n_retired; i++) {
        StropRemote *r = i == 0                  ? self->remote
                         : i <= self->n_procs    ? self->procs[i - 1].remote
                                                 : self->retired[i - 1 - self->n_procs];
        if (r == NULL)
            continue;
        strop_remote_torn_counts(r, counts);
        for (int why = 0; why < STROP_TORN_N; why++)
            sum[why] += counts[why];
    }
}

/* {reason: count} of `counts` from index 1, reasons with none left out.
 * New reference, or NULL with an exception set. */
static PyObject *
reason_dict(const uint64_t *counts)
{
    PyObject *d = PyDict_New();
    for (int why = 1; d != NULL && why < STROP_TORN_N; why++) {
        PyObject *n;
        if (counts[why] == 0)
            continue;
        n = PyLong_FromUnsignedLongLong(counts[why]);
        if (n == NULL || PyDict_SetItemString(d, strop_remote_torn_name(why), n) < 0)
            Py_CLEAR(d);
        Py_XDECREF(n);
    }
    return d;
}

/* {reason: stacks} of the unreadable ones (bad), reasons with none left out.
 * New reference, or NULL with an exception set. */
static PyObject *
bad_reasons(Sampler *self)
{
    PyObject *d = PyDict_New();
    for (int why = 0; d != NULL && why < STROP_TORN_N; why++) {
        PyObject *n;
        if (self->bad_why[why] == 0)
            continue;
        n = PyLong_FromUnsignedLongLong(self->bad_why[why]);
        if (n == NULL || PyDict_SetItemString(d, bad_name(why), n) < 0)
            Py_CLEAR(d);
        Py_XDECREF(n);
    }
    return d;
}

static PyObject *
Sampler_info(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    int version;
    uint64_t torn[STROP_TORN_N];
    if (!ready(self))
        return NULL;
    version = strop_remote_version(self->remote);
    torn_totals(self, torn);
    return Py_BuildValue("{s:i,s:s,s:N,s:d,s:K,s:K,s:K,s:N,s:K,s:N,s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:n,s:K,s:O,s:I,s:K,s:O}",
                         "pid",
                         (int)strop_remote_pid(self->remote), "mode",
                         self->cpu ? "cpu" : "wall", "python",
                         PyUnicode_FromFormat("%d.%d", version >> 8, version & 0xFF), "rate",
                         self->rate, "ticks", (unsigned long long)self->ticks, "samples",
                         (unsigned long long)self->samples, "bad",
                         (unsigned long long)self->bad, "unreadable", bad_reasons(self),
                         "retried", (unsigned long long)torn[0],
                         "attempts_torn", reason_dict(torn),
                         "at_caller", (unsigned long long)self->at_caller,
                         "idle", (unsigned long long)self->idle,
                         "hidden", (unsigned long long)self->hidden,
                         "late", (unsigned long long)self->late,
                         "tardy", (unsigned long long)self->tardy, "elapsed", self->elapsed,
                         "achieved_rate", self->elapsed > 0 ? self->ticks / self->elapsed : 0.0,
                         "cached_codes", (Py_ssize_t)strop_remote_cached_codes(self->remote),
                         "reads", (unsigned long long)strop_remote_reads(self->remote),
                         "out_of_memory", self->fault ? Py_True : Py_False, "execs",
                         (unsigned)self->execs, "after_exec",
                         (unsigned long long)self->after_exec, "execd",
                         self->execd ? Py_True : Py_False);
}

/* Labels of every function, pointing into the reader's cache, named by
 * co_qualname ("Scene._lightIsVisible", 3.11+; co_name before) when
 * `qualified`, else by co_name as cProfile's keys are.  The caller frees the
 * array with strop_free().  NULL when out of memory (exception set). */
static StropLabel *
make_labels(Sampler *self, int qualified)
{
    StropLabel *labels = strop_calloc(self->tree.n_funcs ? self->tree.n_funcs : 1,
                                      sizeof *labels);
    if (labels == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (uint32_t f = 0; f < self->tree.n_funcs && f < self->cap_func_code; f++) {
        const StropCode *c = self->func_code[f];
        if (c == NULL)
            continue;
        labels[f].file = c->filename;
        labels[f].file_len = strlen(c->filename);
        labels[f].line = c->firstlineno;
        labels[f].name = qualified ? c->qualname : c->name;
        labels[f].name_len = strlen(labels[f].name);
    }
    return labels;
}

/* Per-function and per-edge totals in samples, with call counts set to the
 * samples a function appears in (recursion counted once), as pstats files of
 * samples have them.  Returns 0 or -1 with an exception set. */
static int
sample_totals(Sampler *self, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    *funcs = strop_malloc((size_t)(self->tree.n_funcs ? self->tree.n_funcs : 1) * sizeof **funcs);
    *edges = NULL;
    if (*funcs == NULL || strop_tree_aggregate(&self->tree, *funcs, edges, n_edges) < 0) {
        strop_free(*funcs);
        *funcs = NULL;
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t f = 0; f < self->tree.n_funcs; f++)
        (*funcs)[f].nc = (*funcs)[f].cc = (*funcs)[f].ct;
    for (size_t e = 0; e < *n_edges; e++)
        (*edges)[e].nc = (*edges)[e].cc = (*edges)[e].ct;
    return 0;
}

/* dumpfile.h's callbacks. */
static StropLabel *
dump_labels(void *owner)
{
    return make_labels((Sampler *)owner, 1);
}

static StropLabel *
dump_pstats_labels(void *owner)
{
    return make_labels((Sampler *)owner, 0);
}

static int
dump_totals(void *owner, StropFuncStats **funcs, StropEdgeStats **edges, size_t *n_edges)
{
    return sample_totals((Sampler *)owner, funcs, edges, n_edges);
}

/* Sampler.dump(path, format='pstats', ...): see dumpfile.h; sample counts
 * stand for calls, each sample for one period of time. */
static PyObject *
Sampler_dump(Sampler *self, PyObject *args, PyObject *kwds)
{
    StropDumpSource src;
    if (!ready(self))
        return NULL;
    memset(&src, 0, sizeof src);
    src.tree = &self->tree;
    src.info.time_kind = self->cpu ? "cpu" : "wall";
    src.info.seconds_per_tick = 1.0 / self->rate;
    src.info.sampled = 1;
    src.info.period_ns = (uint64_t)(1e9 / self->rate);
    src.info.duration_ns = (uint64_t)(self->elapsed * 1e9);
    src.info.start_unix_ns = self->start_unix_ns;
    src.info.rate_asked = self->rate;
    src.info.rate_achieved = self->elapsed > 0 ? (double)self->ticks / self->elapsed : 0.0;
    src.info.readings = self->samples + self->bad + self->idle;
    src.info.unreadable = self->bad;
    src.pstats_seconds_per_unit = 1.0 / self->rate;
    src.owner = self;
    src.labels = dump_labels;
    src.pstats_labels = dump_pstats_labels;
    src.totals = dump_totals;
    return strop_dump(&src, args, kwds);
}

static const StropFuncStats *sort_funcs; /* for by_own/by_total; the GIL protects it */

static int
by_own(const void *a, const void *b)
{
    const StropFuncStats *x = &sort_funcs[*(const uint32_t *)a];
    const StropFuncStats *y = &sort_funcs[*(const uint32_t *)b];
    if (x->tt != y->tt)
        return x->tt < y->tt ? 1 : -1;
    return x->ct < y->ct ? 1 : (x->ct > y->ct ? -1 : 0);
}

static int
by_total(const void *a, const void *b)
{
    const StropFuncStats *x = &sort_funcs[*(const uint32_t *)a];
    const StropFuncStats *y = &sort_funcs[*(const uint32_t *)b];
    if (x->ct != y->ct)
        return x->ct < y->ct ? 1 : -1;
    return x->tt < y->tt ? 1 : (x->tt > y->tt ? -1 : 0);
}

/* Sampler.report(limit=25, sort='own'): the function table by own and total
 * share of the samples, with the counts and the rate achieved, as text. */
/* The waits by endpoint, after the function table: share of the sampled
 * threads' time, waits, longest wait, endpoint and service, caller. */
static void
put_waits(Sampler *self, StropBuf *text)
{
    size_t n;
    const StropEndpoint *const *ends;
    double total = self->samples ? (double)self->samples : 1.0;
    double period = self->elapsed > 0 && self->ticks > 0 ? self->elapsed / (double)self->ticks
                                                          : 1.0 / self->rate;
    if (self->wait_table == NULL)
        return;
    ends = strop_waits_endpoints(self->wait_table, &n);
    if (n == 0)
        return;
    strop_buf_puts(text, "\nWaits by endpoint (share of the sampled threads' wall time):\n"
                         "   share    waits   longest  endpoint (called from)\n");
    for (size_t i = 0; i < n; i++) {
        const StropEndpoint *e = ends[i];
        int top = 0;
        strop_buf_printf(text, "%7.1f%%  %7" PRIu64 "  %6.2f s  %s", 100.0 * (double)e->samples / total,
                         e->waits, (double)e->longest * period, e->name);
        if (e->service != NULL)
            strop_buf_printf(text, " (%s)", e->service);
        for (int k = 1; k < STROP_WAITS_CALLERS; k++)
            if (e->caller_samples[k] > e->caller_samples[top])
                top = k;
        if (e->callers[top] != NULL) {
            const StropCode *c = e->callers[top];
            const char *slash = c->filename ? strrchr(c->filename, '/') : NULL;
            strop_buf_printf(text, "  in %s (%s:%d)", c->qualname ? c->qualname : c->name,
                             slash ? slash + 1 : (c->filename ? c->filename : "?"),
                             c->firstlineno);
        }
        strop_buf_putc(text, '\n');
    }
}

static PyObject *
Sampler_endpoints(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    size_t n = 0;
    const StropEndpoint *const *ends = NULL;
    double total = self->samples ? (double)self->samples : 1.0;
    double period = self->elapsed > 0 && self->ticks > 0 ? self->elapsed / (double)self->ticks
                                                          : 1.0 / self->rate;
    PyObject *list;
    if (!ready(self))
        return NULL;
    list = PyList_New(0);
    if (list == NULL)
        return NULL;
    if (self->wait_table != NULL)
        ends = strop_waits_endpoints(self->wait_table, &n);
    for (size_t i = 0; i < n; i++) {
        const StropEndpoint *e = ends[i];
        const StropCode *c = NULL;
        PyObject *d;
        int top = 0;
        for (int k = 1; k < STROP_WAITS_CALLERS; k++)
            if (e->caller_samples[k] > e->caller_samples[top])
                top = k;
        c = e->callers[top];
        d = Py_BuildValue("{s:s,s:z,s:d,s:K,s:K,s:d,s:z,s:z,s:i}", "endpoint", e->name,
                          "service", e->service, "share", (double)e->samples / total,
                          "samples", (unsigned long long)e->samples, "waits",
                          (unsigned long long)e->waits, "longest", (double)e->longest * period,
                          "function", c ? (c->qualname ? c->qualname : c->name) : NULL, "file",
                          c ? c->filename : NULL, "line", c ? c->firstlineno : 0);
        if (strop_list_append_steal(list, d) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
    return list;
}

/* The map of interactions (waitmap.h) as dot text in `out`: the waits table,
 * the callers named as the table names them, and the TCP connections that
 * `health` (a Health object, or None) saw.  Returns 0, or -1 with an
 * exception set. */
static int
map_dot(Sampler *self, PyObject *health, const char *name, StropBuf *out)
{
    StropMapInput in = {0};
    StropHealthTcp *tcp = NULL;
    char *callers_text = NULL, process[320];
    const char **callers = NULL;
    int status = -1;
    enum { CALLER_LEN = 256 };

    if (self->wait_table == NULL) {
        PyErr_SetString(PyExc_ValueError,
                        "no waits were recorded: the map of interactions needs wall mode "
                        "with waits");
        return -1;
    }
    if (health != Py_None) {
        StropHealthRec *rec = strop_health_rec_of(health);
        if (rec == NULL)
            return -1;
        tcp = strop_malloc(STROP_HEALTH_MAX_TCP * sizeof *tcp);
        if (tcp == NULL)
            goto nomem;
        in.tcp = tcp;
        in.n_tcp = strop_health_tcp(rec, tcp, STROP_HEALTH_MAX_TCP);
    }
    in.ends = strop_waits_endpoints(self->wait_table, &in.n);
    callers = strop_calloc(in.n ? in.n : 1, sizeof *callers);
    callers_text = strop_malloc((in.n ? in.n : 1) * CALLER_LEN);
    if (callers == NULL || callers_text == NULL)
        goto nomem;
    for (size_t i = 0; i < in.n; i++) {
        const StropEndpoint *e = in.ends[i];
        const StropCode *c;
        const char *slash;
        int top = 0;
        for (int k = 1; k < STROP_WAITS_CALLERS; k++)
            if (e->caller_samples[k] > e->caller_samples[top])
                top = k;
        c = e->callers[top];
        if (c == NULL)
            continue;
        slash = c->filename ? strrchr(c->filename, '/') : NULL;
        snprintf(callers_text + i * CALLER_LEN, CALLER_LEN, "%s (%s:%d)",
                 c->qualname ? c->qualname : c->name,
                 slash ? slash + 1 : (c->filename ? c->filename : "?"), c->firstlineno);
        callers[i] = callers_text + i * CALLER_LEN;
    }
    in.callers = callers;
    in.samples = (double)self->samples;
    in.period = self->elapsed > 0 && self->ticks > 0 ? self->elapsed / (double)self->ticks
                                                      : 1.0 / self->rate;
    snprintf(process, sizeof process, "process %d%s%.300s", (int)strop_remote_pid(self->remote),
             name != NULL ? "\n" : "", name != NULL ? name : "");
    in.process = process;
    if (strop_map_dot(out, &in) < 0)
        goto nomem;
    status = 0;
    goto done;
nomem:
    PyErr_NoMemory();
done:
    strop_free(tcp);
    strop_free(callers);
    strop_free(callers_text);
    return status;
}

/* Sampler.map_dot(health=None, name=None): the map of interactions as dot
 * text (str). */
static PyObject *
Sampler_map_dot(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"health", "name", NULL};
    PyObject *health = Py_None, *result = NULL;
    const char *name = NULL;
    StropBuf text = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Oz", kwlist, &health, &name) || !ready(self))
        return NULL;
    if (map_dot(self, health, name, &text) == 0)
        result = PyUnicode_DecodeUTF8(text.data ? text.data : "", (Py_ssize_t)text.len,
                                      "replace");
    strop_buf_free(&text);
    return result;
}

/* Sampler.waits_table(): the waits by endpoint as the report prints them
 * (str; empty when none were recorded). */
static PyObject *
Sampler_waits_table(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    StropBuf text = {0};
    PyObject *result = NULL;
    if (!ready(self))
        return NULL;
    put_waits(self, &text);
    if (text.failed)
        PyErr_NoMemory();
    else
        result = PyUnicode_DecodeUTF8(text.data ? text.data : "", (Py_ssize_t)text.len,
                                      "replace");
    strop_buf_free(&text);
    return result;
}

/* Sampler.dump_map(path, health=None, name=None): writes the map of
 * interactions to `path` as dot.  OSError naming the file when it cannot be
 * written. */
static PyObject *
Sampler_dump_map(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "health", "name", NULL};
    PyObject *path_arg, *health = Py_None, *path = NULL;
    const char *name = NULL;
    StropBuf text = {0};
    FILE *out = NULL;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Oz", kwlist, &path_arg, &health, &name) ||
        !ready(self))
        return NULL;
    if (map_dot(self, health, name, &text) < 0)
        goto error;
    if (strop_dump_open(path_arg, &out, &path) < 0)
        goto error;
    rc = strop_buf_flush(&text, out);
    if (strop_dump_close(path_arg, out, rc) < 0)
        goto error;
    Py_DECREF(path);
    strop_buf_free(&text);
    Py_RETURN_NONE;
error:
    Py_XDECREF(path);
    strop_buf_free(&text);
    return NULL;
}

static PyObject *
Sampler_report(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"limit", "sort", NULL};
    Py_ssize_t limit = 25;
    const char *sort = "own";
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    StropLabel *labels = NULL;
    uint32_t *order = NULL, n = 0;
    size_t n_edges = 0;
    StropBuf text = {0};
    PyObject *result = NULL;
    double total, read_total;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ns", kwlist, &limit, &sort) || !ready(self))
        return NULL;
    if (strcmp(sort, "own") != 0 && strcmp(sort, "total") != 0) {
        PyErr_Format(PyExc_ValueError, "sort must be 'own' or 'total', not '%s'", sort);
        return NULL;
    }
    labels = make_labels(self, 1);
    if (labels == NULL || sample_totals(self, &funcs, &edges, &n_edges) < 0)
        goto done;
    order = strop_malloc((size_t)(self->tree.n_funcs ? self->tree.n_funcs : 1) * sizeof *order);
    if (order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t f = 0; f < self->tree.n_funcs; f++) {
        if (labels[f].file != NULL && funcs[f].ct > 0)
            order[n++] = f;
    }
    sort_funcs = funcs;
    qsort(order, n, sizeof *order, strcmp(sort, "own") == 0 ? by_own : by_total);
    total = self->samples ? (double)self->samples : 1.0;
    read_total = (double)(self->samples + self->bad + self->idle);
    strop_buf_printf(&text,
                     "%" PRIu64 " samples in %.2f s of process %d (Python %d.%d, %s time): "
                     "%.1f Hz achieved of %g Hz asked; %" PRIu64
                     " could not be read (%.2f%%)",
                     self->samples, self->elapsed, (int)strop_remote_pid(self->remote),
                     strop_remote_version(self->remote) >> 8,
                     strop_remote_version(self->remote) & 0xFF, self->cpu ? "cpu" : "wall",
                     self->elapsed > 0 ? (double)self->ticks / self->elapsed : 0.0, self->rate,
                     self->bad, read_total > 0 ? 100.0 * (double)self->bad / read_total : 0.0);
    if (self->bad > 0) {
        const char *sep = " (";
        for (int why = 0; why < STROP_TORN_N; why++) {
            if (self->bad_why[why] == 0)
                continue;
            strop_buf_printf(&text, "%s%s %" PRIu64, sep, bad_name(why), self->bad_why[why]);
            sep = ", ";
        }
        strop_buf_puts(&text, ")");
    }
    if (self->at_caller > 0)
        strop_buf_printf(&text, "; %" PRIu64 " read at the caller of a Python call being made",
                         self->at_caller);
    if (self->cpu)
        strop_buf_printf(&text, "; %" PRIu64 " of idle threads left out", self->idle);
    if (self->execs > 0)
        strop_buf_printf(&text, "; the process exec'd %s (%" PRIu64 " readings skipped)",
                         self->execd ? "a program that is not Python" : "and was read anew",
                         self->after_exec);
    /* A reader kept from its CPU reads the target when it frees its CPU (in
     * its waits): shares then lean to them.  Said when over 2% of readings. */
    if (self->ticks > 0 && self->tardy * 50 > self->ticks)
        strop_buf_printf(&text,
                         "; %.1f%% of the readings were late by over half a period, as on a "
                         "busy machine: wall-time shares lean to the program's waits",
                         100.0 * (double)self->tardy / (double)self->ticks);
    strop_buf_puts(&text, "\n\n   own %   total %  function (file:line)\n");
    for (uint32_t i = 0; i < n && (limit <= 0 || (Py_ssize_t)i < limit); i++) {
        uint32_t f = order[i];
        strop_buf_printf(&text, "%7.1f%%  %7.1f%%  ", 100.0 * (double)funcs[f].tt / total,
                         100.0 * (double)funcs[f].ct / total);
        strop_buf_put_frame(&text, &labels[f]);
        strop_buf_putc(&text, '\n');
    }
    if (limit > 0 && n > (uint32_t)limit)
        strop_buf_printf(&text, "   (%u more functions; --limit 0 shows all)\n",
                         n - (uint32_t)limit);
    put_waits(self, &text);
    if (text.failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyUnicode_DecodeUTF8(text.data ? text.data : "", (Py_ssize_t)text.len, "replace");
done:
    strop_buf_free(&text);
    strop_free(order);
    strop_free(labels);
    strop_free(funcs);
    strop_free(edges);
    return result;
}

/* The snapshot to count a window of `window` seconds ending now from: the
 * newest one taken at least that long ago, else the oldest kept (the window
 * is then shorter: sampling began later, or the ring holds less), else NULL
 * (nothing taken yet: count from the start). */
static const Snapshot *
window_base(Sampler *self, double window)
{
    uint64_t now = now_ns(CLOCK_MONOTONIC), span = (uint64_t)(window * 1e9);
    uint64_t want = now > span ? now - span : 0;
    const Snapshot *best = NULL, *oldest = NULL;
    for (int i = 0; i < N_SNAPS; i++) {
        const Snapshot *snap = &self->snaps[i];
        if (snap->at_ns == 0)
            continue;
        if (oldest == NULL || snap->at_ns < oldest->at_ns)
            oldest = snap;
        if (snap->at_ns <= want && (best == NULL || snap->at_ns > best->at_ns))
            best = snap;
    }
    return best != NULL ? best : oldest;
}

/* Per-function own (tt) and total (ct) samples since snapshot `base` (NULL:
 * since the start), from the running counts.  Returns 0 or -1 with an
 * exception set. */
static int
window_totals(Sampler *self, const Snapshot *base, StropFuncStats **funcs)
{
    uint32_t n = self->tree.n_funcs;
    *funcs = strop_calloc(n ? n : 1, sizeof **funcs);
    if (*funcs == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t f = 0; f < n; f++) {
        uint32_t own0 = 0, total0 = 0;
        if (base != NULL && f < base->n_funcs) {
            own0 = base->counts[2 * f];
            total0 = base->counts[2 * f + 1];
        }
        (*funcs)[f].tt = (uint32_t)((uint32_t)self->func_own[f] - own0);
        (*funcs)[f].ct = (uint32_t)((uint32_t)self->func_total[f] - total0);
    }
    return 0;
}

/* Sampler.table(limit=0, sort='own', window=None): the rows of report() as
 * data, for a live view: (samples, [(own, total, file, line, name), ...])
 * with own and total in samples, sorted, at most `limit` rows (0: all).
 * window: only the samples of the last `window` seconds (at most 10; the
 * sampler keeps a snapshot of its counts every 0.1 s of sampling). */
static PyObject *
Sampler_table(Sampler *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"limit", "sort", "window", NULL};
    Py_ssize_t limit = 0;
    const char *sort = "own";
    PyObject *window_arg = Py_None;
    double window = -1;
    uint64_t samples;
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    StropLabel *labels = NULL;
    uint32_t *order = NULL, n = 0;
    size_t n_edges = 0;
    PyObject *rows = NULL, *row = NULL, *result = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|nsO", kwlist, &limit, &sort, &window_arg) ||
        !ready(self))
        return NULL;
    if (strcmp(sort, "own") != 0 && strcmp(sort, "total") != 0) {
        PyErr_Format(PyExc_ValueError, "sort must be 'own' or 'total', not '%s'", sort);
        return NULL;
    }
    if (window_arg != Py_None) {
        window = PyFloat_AsDouble(window_arg);
        if (window == -1 && PyErr_Occurred())
            return NULL;
        if (!(window > 0 && window <= (N_SNAPS - 1) * (SNAP_NS * 1e-9) + 1e-9)) {
            PyErr_SetString(PyExc_ValueError, "window must be above 0 and at most 10 seconds");
            return NULL;
        }
    }
    labels = make_labels(self, 1);
    if (labels == NULL)
        goto done;
    if (window > 0) {
        const Snapshot *base = window_base(self, window);
        samples = self->samples - (base != NULL ? base->samples : 0);
        if (window_totals(self, base, &funcs) < 0)
            goto done;
    }
    else {
        samples = self->samples;
        if (sample_totals(self, &funcs, &edges, &n_edges) < 0)
            goto done;
    }
    order = strop_malloc((size_t)(self->tree.n_funcs ? self->tree.n_funcs : 1) * sizeof *order);
    rows = PyList_New(0);
    if (order == NULL || rows == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (uint32_t f = 0; f < self->tree.n_funcs; f++) {
        if (labels[f].file != NULL && funcs[f].ct > 0)
            order[n++] = f;
    }
    sort_funcs = funcs;
    qsort(order, n, sizeof *order, strcmp(sort, "own") == 0 ? by_own : by_total);
    for (uint32_t i = 0; i < n && (limit <= 0 || (Py_ssize_t)i < limit); i++) {
        uint32_t f = order[i];
        row = Py_BuildValue("(KKsls)", (unsigned long long)funcs[f].tt,
                            (unsigned long long)funcs[f].ct, labels[f].file, labels[f].line,
                            labels[f].name);
        if (row == NULL || PyList_Append(rows, row) < 0)
            goto done;
        Py_CLEAR(row);
    }
    result = Py_BuildValue("(KO)", (unsigned long long)samples, rows);
done:
    Py_XDECREF(row);
    Py_XDECREF(rows);
    strop_free(order);
    strop_free(labels);
    strop_free(funcs);
    strop_free(edges);
    return result;
}

/* Sampler.leaf_lines(): {(file, name, line): samples} of the leaf frames. */
static PyObject *
Sampler_leaf_lines(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = PyDict_New(), *key = NULL, *value = NULL;
    if (result == NULL)
        return NULL;
    for (uint32_t i = 0; self->lines && i <= self->lines_mask; i++) {
        const LeafLine *e = &self->lines[i];
        if (e->code == NULL)
            continue;
        key = Py_BuildValue("(ssi)", e->code->filename, e->code->name, e->line);
        value = PyLong_FromUnsignedLongLong(e->count);
        if (key == NULL || value == NULL || PyDict_SetItem(result, key, value) < 0) {
            Py_XDECREF(key);
            Py_XDECREF(value);
            Py_DECREF(result);
            return NULL;
        }
        Py_CLEAR(key);
        Py_CLEAR(value);
    }
    return result;
}

/* Sampler.stats(): the pstats dict, sample counts as call counts and
 * samples times the period as seconds. */
static PyObject *
Sampler_stats(Sampler *self, PyObject *Py_UNUSED(ignored))
{
    StropFuncStats *funcs = NULL;
    StropEdgeStats *edges = NULL;
    size_t n_edges = 0;
    PyObject *result = NULL, **keys = NULL;
    uint32_t n_funcs;
    if (!ready(self) || sample_totals(self, &funcs, &edges, &n_edges) < 0)
        return NULL;
    n_funcs = self->tree.n_funcs;
    keys = PyMem_Calloc(n_funcs ? n_funcs : 1, sizeof *keys);
    if (keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (uint32_t f = 0; f < n_funcs && f < self->cap_func_code; f++) {
        const StropCode *c = self->func_code[f];
        if (c == NULL || funcs[f].ct == 0)
            continue;
        keys[f] = Py_BuildValue("(sis)", c->filename, c->firstlineno, c->name);
        if (keys[f] == NULL)
            goto done;
    }
    result = strop_stats_dict(funcs, n_funcs, edges, n_edges, keys, 1.0 / self->rate);
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

static void
Sampler_dealloc(Sampler *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    sampler_release(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Sampler.run(): the reading thread runs at nice -10 where it may (root, or
 * RLIMIT_NICE), then at its own priority again.  On a busy machine a reader
 * at the same priority as everything else is scheduled late while the
 * target computes and on time while it sleeps, so wall-mode samples lean to
 * the target's waits (on 2 cores with 2 CPU hogs: +3.4 points on a 50% sleep
 * share at nice 0, within 0.5 at nice -10).  Its bursts are short: 5% of a
 * CPU at 1 kHz. */
static PyObject *
Sampler_run(Sampler *self, PyObject *args, PyObject *kwds)
{
    PyObject *result;
    id_t tid = (id_t)syscall(SYS_gettid);
    int old, raised = 0;
    errno = 0;
    old = getpriority(PRIO_PROCESS, tid);
    if (!(old == -1 && errno != 0) && old > -10)
        raised = setpriority(PRIO_PROCESS, tid, -10) == 0;
    result = sampler_run(self, args, kwds);
    if (raised)
        (void)setpriority(PRIO_PROCESS, tid, old);
    return result;
}

static PyMethodDef Sampler_methods[] = {
    {"stacks", (PyCFunction)Sampler_stacks, METH_VARARGS,
     "stacks(retries=5)\n--\n\nOne reading of every thread: a list of (ident, native_id, "
     "frames, torn, wait), frames as (file, line, name) outermost first, wait what a "
     "blocked thread waits on ('waiting: recvfrom on tcp 127.0.0.1:5000') or None."},
    {"thread_names", (PyCFunction)Sampler_thread_names, METH_NOARGS,
     "thread_names()\n--\n\n{ident: name} of the threads the target's threading module "
     "knows, read now; {} when they cannot be read."},
    {"run", (PyCFunction)(void (*)(void))Sampler_run, METH_VARARGS | METH_KEYWORDS,
     "run(duration=None)\n--\n\nSample until duration seconds pass, the target exits or "
     "Ctrl-C; returns 'duration', 'exited' or 'interrupted'."},
    {"info", (PyCFunction)Sampler_info, METH_NOARGS,
     "info()\n--\n\nCounts of readings, samples, bad reads, the rate achieved."},
    {"dump", (PyCFunction)(void (*)(void))Sampler_dump, METH_VARARGS | METH_KEYWORDS,
     "dump(path, format='pstats', command=None, node_thres=0.005, edge_thres=0.001)\n--\n\n"
     "Write the profile: pstats (sample counts as call counts), folded, callgrind, pprof, "
     "speedscope, dot or html."},
    {"endpoints", (PyCFunction)Sampler_endpoints, METH_NOARGS,
     "What the program waited on, by endpoint (wall mode): dicts of endpoint, service, share "
     "of the samples, samples, waits, longest (seconds), and the function, file and line "
     "that waited there most."},
    {"map_dot", (PyCFunction)(void (*)(void))Sampler_map_dot, METH_VARARGS | METH_KEYWORDS,
     "map_dot(health=None, name=None)\n--\n\nThe map of interactions (wall mode) as "
     "Graphviz dot: the process in the middle, an endpoint a node, links labelled with share, "
     "waits, longest wait, caller, and for TCP peers the bytes each way and rtt that `health` "
     "(a Health recorder) saw; `name`: the program's name under the process."},
    {"waits_table", (PyCFunction)Sampler_waits_table, METH_NOARGS,
     "waits_table()\n--\n\nThe waits by endpoint as the report prints them; '' when none."},
    {"dump_map", (PyCFunction)(void (*)(void))Sampler_dump_map, METH_VARARGS | METH_KEYWORDS,
     "dump_map(path, health=None, name=None)\n--\n\nWrite map_dot()'s map to a file."},
    {"report", (PyCFunction)(void (*)(void))Sampler_report, METH_VARARGS | METH_KEYWORDS,
     "report(limit=25, sort='own')\n--\n\nThe function table by own and total share of the "
     "samples, as text."},
    {"stats", (PyCFunction)Sampler_stats, METH_NOARGS,
     "stats()\n--\n\nThe pstats dict of the samples."},
    {"table", (PyCFunction)(void (*)(void))Sampler_table, METH_VARARGS | METH_KEYWORDS,
     "table(limit=0, sort='own', window=None)\n--\n\n(samples, rows): rows of (own, total, "
     "file, line, name) in samples, sorted by own or total; window: of the last that many "
     "seconds only (at most 10)."},
    {"leaf_lines", (PyCFunction)Sampler_leaf_lines, METH_NOARGS,
     "leaf_lines()\n--\n\n{(file, name, line): samples} of the innermost frames."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Sampler_slots[] = {
    {Py_tp_doc, "Sampler(pid, rate=100, mode='wall', threads=False, waits=None, "
                "subprocesses=False, hide=None)\n--\n\n"
                "The statistical profiler's engine: reads the Python stacks of process pid "
                "from outside, without stopping it.  threads: a root frame per thread, "
                "named by threading's name when it has one; "
                "waits (default: in wall mode): a leaf frame naming the system call a "
                "blocked thread waits in; subprocesses: follow child processes too; hide: "
                "file names whose frames leave out the stack they are in (counted as "
                "'hidden' in info())."},
    {Py_tp_init, Sampler_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Sampler_dealloc},
    {Py_tp_methods, Sampler_methods},
    {0, NULL},
};

static PyType_Spec Sampler_spec = {
    .name = "strop._engine.Sampler",
    .basicsize = sizeof(Sampler),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Sampler_slots,
};

PyObject *
strop_sampler_type_new(PyObject *module)
{
    (void)module;
    return PyType_FromSpec(&Sampler_spec);
}

/* _set_ptracer(pid): lets process `pid` read this one under Yama's
 * ptrace_scope=1 (prctl(PR_SET_PTRACER)); a no-op where there is no Yama. */
PyObject *
strop_sampler_set_ptracer(PyObject *module, PyObject *arg)
{
    long pid = PyLong_AsLong(arg);
    (void)module;
    if (pid == -1 && PyErr_Occurred())
        return NULL;
#ifdef PR_SET_PTRACER
    if (prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0) < 0 && errno != EINVAL)
        return PyErr_SetFromErrno(PyExc_OSError);
#endif
    Py_RETURN_NONE;
}
