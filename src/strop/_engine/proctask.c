/* proctask.c: thread states, names and blocking system calls of a target,
 * from /proc (see proctask.h).  Not the Python stacks: remote.c reads those.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv, pread, readlink under -std=c11 */
#endif
#include "proctask.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mem.h"

#define MAX_TASKS 4096
#define MAX_SOCKETS 1024

typedef struct Task {
    long tid;
    int stat_fd;    /* -1: not open (yet) */
    int syscall_fd; /* -1: not open (yet) */
    int schedstat_fd; /* -1: not open (yet) */
    char *label;    /* "<thread ...>", NULL until asked */
    char *name;     /* threading's name, NULL when none (yet) */
    int named;      /* strop_tasks_set_name() was called */
} Task;

typedef struct Socket {
    unsigned long inode;
    char *desc;
} Socket;

struct StropTasks {
    pid_t pid;
    Task *tasks;
    size_t n_tasks, cap_tasks;
    Socket *sockets;
    size_t n_sockets, cap_sockets;
    char comm[32]; /* the process's name, to tell apart threads named alike */
};

/* Blocking system calls we name; `fd` when the first argument is a file
 * descriptor, `sleep` when the call only waits for time to pass. */
enum { ARG_NONE, ARG_FD, ARG_POLL, ARG_SELECT, ARG_PID, ARG_SLEEP };

typedef struct Syscall {
    long nr;
    const char *name;
    int arg;
} Syscall;

static const Syscall syscalls[] = {
#if defined(__x86_64__)
    {0, "read", ARG_FD},          {1, "write", ARG_FD},          {7, "poll", ARG_POLL},
    {17, "pread64", ARG_FD},      {18, "pwrite64", ARG_FD},      {19, "readv", ARG_FD},
    {20, "writev", ARG_FD},       {23, "select", ARG_SELECT},    {34, "pause", ARG_SLEEP},
    {35, "nanosleep", ARG_SLEEP}, {40, "sendfile", ARG_NONE},    {42, "connect", ARG_FD},
    {43, "accept", ARG_FD},       {44, "sendto", ARG_FD},        {45, "recvfrom", ARG_FD},
    {46, "sendmsg", ARG_FD},      {47, "recvmsg", ARG_FD},       {56, "clone", ARG_NONE},
    {57, "fork", ARG_NONE},       {58, "vfork", ARG_NONE},       {61, "wait4", ARG_PID},
    {65, "semop", ARG_NONE},      {70, "msgrcv", ARG_NONE},      {73, "flock", ARG_FD},
    {74, "fsync", ARG_FD},        {75, "fdatasync", ARG_FD},     {128, "rt_sigtimedwait", ARG_NONE},
    {130, "rt_sigsuspend", ARG_SLEEP}, {202, "futex", ARG_NONE}, {230, "clock_nanosleep", ARG_SLEEP},
    {232, "epoll_wait", ARG_NONE}, {247, "waitid", ARG_NONE},    {257, "openat", ARG_NONE},
    {270, "pselect6", ARG_SELECT}, {271, "ppoll", ARG_POLL},     {281, "epoll_pwait", ARG_NONE},
    {288, "accept4", ARG_FD},     {299, "recvmmsg", ARG_FD},     {426, "io_uring_enter", ARG_NONE},
    {441, "epoll_pwait2", ARG_NONE},
#elif defined(__aarch64__)
    {22, "epoll_pwait", ARG_NONE}, {32, "flock", ARG_FD},        {56, "openat", ARG_NONE},
    {63, "read", ARG_FD},         {64, "write", ARG_FD},         {65, "readv", ARG_FD},
    {66, "writev", ARG_FD},       {67, "pread64", ARG_FD},       {68, "pwrite64", ARG_FD},
    {72, "pselect6", ARG_SELECT}, {73, "ppoll", ARG_POLL},       {82, "fsync", ARG_FD},
    {83, "fdatasync", ARG_FD},    {95, "waitid", ARG_NONE},      {98, "futex", ARG_NONE},
    {101, "nanosleep", ARG_SLEEP}, {115, "clock_nanosleep", ARG_SLEEP},
    {133, "rt_sigsuspend", ARG_SLEEP}, {137, "rt_sigtimedwait", ARG_NONE},
    {202, "accept", ARG_FD},      {203, "connect", ARG_FD},      {206, "sendto", ARG_FD},
    {207, "recvfrom", ARG_FD},    {211, "sendmsg", ARG_FD},      {212, "recvmsg", ARG_FD},
    {242, "accept4", ARG_FD},     {260, "wait4", ARG_PID},       {441, "epoll_pwait2", ARG_NONE},
#endif
    {-1, NULL, ARG_NONE},
};

static const Syscall *
find_syscall(long nr)
{
    for (const Syscall *s = syscalls; s->name != NULL; s++) {
        if (s->nr == nr)
            return s;
    }
    return NULL;
}

const char *
strop_tasks_syscall_name(long nr)
{
    const Syscall *s = find_syscall(nr);
    return s ? s->name : NULL;
}

static char *
copy_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = strop_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* Reads a small file whole into buf (NUL-ended).  Returns the length or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return -1;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

StropTasks *
strop_tasks_new(pid_t pid)
{
    char path[64];
    StropTasks *t = strop_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->pid = pid;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_small(path, t->comm, sizeof t->comm) > 0)
        t->comm[strcspn(t->comm, "\n")] = '\0';
    return t;
}

void
strop_tasks_free(StropTasks *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_tasks; i++) {
        if (t->tasks[i].stat_fd >= 0)
            close(t->tasks[i].stat_fd);
        if (t->tasks[i].syscall_fd >= 0)
            close(t->tasks[i].syscall_fd);
        if (t->tasks[i].schedstat_fd >= 0)
            close(t->tasks[i].schedstat_fd);
        strop_free(t->tasks[i].label);
        strop_free(t->tasks[i].name);
    }
    for (size_t i = 0; i < t->n_sockets; i++)
        strop_free(t->sockets[i].desc);
    strop_free(t->tasks);
    strop_free(t->sockets);
    strop_free(t);
}

/* The entry of thread `tid`, added when new; NULL when out of memory or past
 * the cap (callers then fall back to "unknown"). */
static Task *
task_of(StropTasks *t, long tid)
{
    for (size_t i = 0; i < t->n_tasks; i++) {
        if (t->tasks[i].tid == tid)
            return &t->tasks[i];
    }
    if (t->n_tasks == t->cap_tasks) {
        size_t cap = t->cap_tasks ? t->cap_tasks * 2 : 16;
        Task *p;
        if (cap > MAX_TASKS)
            return NULL;
        p = strop_realloc(t->tasks, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        t->tasks = p;
        t->cap_tasks = cap;
    }
    Task *task = &t->tasks[t->n_tasks++];
    task->tid = tid;
    task->stat_fd = task->syscall_fd = task->schedstat_fd = -1;
    task->label = NULL;
    task->name = NULL;
    task->named = 0;
    return task;
}

/* pread() of a per-thread file kept open in *fd.  Returns the length or -1. */
static ssize_t
pread_task_file(StropTasks *t, long tid, const char *which, int *fd, char *buf, size_t len)
{
    ssize_t n;
    if (*fd < 0) {
        char path[80];
        snprintf(path, sizeof path, "/proc/%d/task/%ld/%s", (int)t->pid, tid, which);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0)
            return -1;
    }
    n = pread(*fd, buf, len - 1, 0);
    if (n <= 0) { /* the thread is gone; a new one may take its id */
        close(*fd);
        *fd = -1;
        return -1;
    }
    buf[n] = '\0';
    return n;
}

int
strop_tasks_state(StropTasks *t, long tid)
{
    char buf[512];
    const char *p;
    Task *task;
    if (tid <= 0 || (task = task_of(t, tid)) == NULL)
        return 0;
    if (pread_task_file(t, tid, "stat", &task->stat_fd, buf, sizeof buf) < 0)
        return 0;
    p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    if (p == NULL || p[1] != ' ')
        return 0;
    return (unsigned char)p[2];
}

int
strop_tasks_runs(StropTasks *t, long tid, uint64_t *runs)
{
    char buf[128];
    unsigned long long on_cpu, waited, count;
    Task *task;
    if (tid <= 0 || (task = task_of(t, tid)) == NULL)
        return 0;
    if (pread_task_file(t, tid, "schedstat", &task->schedstat_fd, buf, sizeof buf) < 0 ||
        sscanf(buf, "%llu %llu %llu", &on_cpu, &waited, &count) != 3)
        return 0;
    *runs = count;
    return 1;
}

const char *
strop_tasks_thread_label(StropTasks *t, long tid)
{
    char path[80], comm[32] = "", label[96];
    Task *task = task_of(t, tid);
    if (task == NULL)
        return NULL;
    if (task->label != NULL)
        return task->label;
    if (task->name != NULL) {
        size_t n = strlen(task->name) + 40;
        task->label = strop_malloc(n);
        if (task->label != NULL)
            snprintf(task->label, n, "<thread %ld \"%s\">", tid, task->name);
        return task->label;
    }
    snprintf(path, sizeof path, "/proc/%d/task/%ld/comm", (int)t->pid, tid);
    if (read_small(path, comm, sizeof comm) > 0)
        comm[strcspn(comm, "\n")] = '\0';
    if (tid == (long)t->pid)
        snprintf(label, sizeof label, "<thread %ld main>", tid);
    else if (comm[0] != '\0' && strcmp(comm, t->comm) != 0)
        snprintf(label, sizeof label, "<thread %ld \"%s\">", tid, comm);
    else
        snprintf(label, sizeof label, "<thread %ld>", tid);
    task->label = copy_str(label);
    return task->label;
}

int
strop_tasks_set_name(StropTasks *t, long tid, const char *name, char *old, size_t old_len)
{
    Task *task = tid > 0 ? task_of(t, tid) : NULL;
    char *copy = NULL;
    if (old_len > 0)
        old[0] = '\0';
    if (task == NULL)
        return 0; /* no thread id, or past the cap: the label stays unknown */
    task->named = 1;
    if (name == NULL || (task->name != NULL && strcmp(task->name, name) == 0))
        return 0;
    copy = copy_str(name);
    if (copy == NULL)
        return -1;
    for (unsigned char *p = (unsigned char *)copy; *p; p++) {
        if (*p < 0x20 || *p == 0x7F || *p == ';')
            *p = '?';
    }
    if (task->name != NULL && strcmp(task->name, copy) == 0) {
        strop_free(copy);
        return 0;
    }
    strop_free(task->name);
    task->name = copy;
    if (task->label != NULL && old_len > 0)
        snprintf(old, old_len, "%s", task->label);
    strop_free(task->label);
    task->label = NULL; /* made again from the name when next asked */
    return 1;
}

int
strop_tasks_named(StropTasks *t, long tid)
{
    Task *task = tid > 0 ? task_of(t, tid) : NULL;
    return task == NULL || task->named;
}

/* "a.b.c.d:port" or "[v6]:port" of a /proc/net address "HEX:HEXPORT". */
static void
format_addr(const char *hex, char *out, size_t len)
{
    char text[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    const char *colon = strchr(hex, ':');
    size_t n = colon ? (size_t)(colon - hex) : 0;
    if (colon == NULL)
        goto done;
    port = (unsigned)strtoul(colon + 1, NULL, 16);
    if (n == 8) {
        uint32_t a = (uint32_t)strtoul(hex, NULL, 16); /* printed as a host-order word */
        inet_ntop(AF_INET, &a, text, sizeof text);
    }
    else if (n == 32) {
        uint32_t words[4];
        char part[9] = {0};
        for (int i = 0; i < 4; i++) {
            memcpy(part, hex + 8 * i, 8);
            words[i] = (uint32_t)strtoul(part, NULL, 16);
        }
        inet_ntop(AF_INET6, words, text, sizeof text);
    }
done:
    snprintf(out, len, n == 32 ? "[%s]:%u" : "%s:%u", text, port);
}

/* Looks socket `inode` up in the target's /proc/PID/net tables; writes its
 * peer (or what it listens on) into out.  Returns 1 when found. */
static int
find_socket(pid_t pid, unsigned long inode, char *out, size_t len)
{
    static const char *const inet[] = {"tcp", "tcp6", "udp", "udp6"};
    char path[64], line[512];
    for (size_t k = 0; k < 5; k++) {
        FILE *f;
        int found = 0;
        snprintf(path, sizeof path, "/proc/%d/net/%s", (int)pid, k < 4 ? inet[k] : "unix");
        f = fopen(path, "re");
        if (f == NULL)
            continue;
        if (fgets(line, sizeof line, f) == NULL) { /* the header */
            fclose(f);
            continue;
        }
        while (!found && fgets(line, sizeof line, f) != NULL) {
            char local[64], remote[64], unix_path[256] = "";
            unsigned long ino = 0;
            unsigned state = 0;
            if (k < 4) {
                if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote,
                           &state, &ino) != 4 || ino != inode)
                    continue;
                char peer[96];
                int listening = strtoul(strchr(remote, ':') + 1, NULL, 16) == 0;
                format_addr(listening ? local : remote, peer, sizeof peer);
                snprintf(out, len, "%s%s %.80s", listening ? "listening " : "", inet[k], peer);
                found = 1;
            }
            else {
                if (sscanf(line, " %*s %*s %*s %*s %*s %*s %lu %255s", &ino, unix_path) < 1 ||
                    ino != inode)
                    continue;
                snprintf(out, len, "unix socket%s%.150s", unix_path[0] ? " " : "", unix_path);
                found = 1;
            }
        }
        fclose(f);
        if (found)
            return 1;
    }
    return 0;
}

/* What file descriptor `fd` of the target is: a path, "tcp 1.2.3.4:80", ... */
static void
describe_fd(StropTasks *t, long fd, char *out, size_t len)
{
    char path[64], link[256];
    ssize_t n;
    unsigned long inode;
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)t->pid, fd);
    n = readlink(path, link, sizeof link - 1);
    if (n <= 0) {
        snprintf(out, len, "fd %ld", fd);
        return;
    }
    link[n] = '\0';
    if (sscanf(link, "socket:[%lu]", &inode) != 1) {
        if (strncmp(link, "pipe:", 5) == 0 || strncmp(link, "anon_inode:", 11) == 0)
            snprintf(out, len, "fd %ld (%.60s)", fd, link);
        else
            snprintf(out, len, "%.180s", link);
        return;
    }
    for (size_t i = 0; i < t->n_sockets; i++) {
        if (t->sockets[i].inode == inode) {
            snprintf(out, len, "%s", t->sockets[i].desc);
            return;
        }
    }
    if (!find_socket(t->pid, inode, out, len))
        snprintf(out, len, "socket fd %ld", fd);
    if (t->n_sockets == t->cap_sockets && t->cap_sockets < MAX_SOCKETS) {
        size_t cap = t->cap_sockets ? t->cap_sockets * 2 : 16;
        Socket *p = strop_realloc(t->sockets, cap * sizeof *p);
        if (p == NULL)
            return;
        t->sockets = p;
        t->cap_sockets = cap;
    }
    if (t->n_sockets < t->cap_sockets) {
        char *desc = copy_str(out);
        if (desc != NULL) {
            t->sockets[t->n_sockets].inode = inode;
            t->sockets[t->n_sockets++].desc = desc;
        }
    }
}

/* The first file descriptor of a poll() array of one entry in the target. */
static long
poll_fd(pid_t pid, uintptr_t fds, unsigned long nfds)
{
    int fd = -1;
    struct iovec local = {&fd, sizeof fd}, remote = {(void *)fds, sizeof fd};
    if (nfds != 1)
        return -1;
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof fd)
        return -1;
    return fd;
}

int
strop_tasks_wait_label(StropTasks *t, long tid, uintptr_t gil_lo, uintptr_t gil_hi,
                       char *buf, size_t len)
{
    char text[256], what[200];
    unsigned long long args[6] = {0};
    long nr, fd = -1;
    const Syscall *sc;
    Task *task;
    char *p, *end;
    if (tid <= 0 || (task = task_of(t, tid)) == NULL)
        return 0;
    if (pread_task_file(t, tid, "syscall", &task->syscall_fd, text, sizeof text) < 0)
        return 0;
    nr = strtol(text, &end, 10);
    if (end == text || nr < 0) /* "running", or blocked outside a system call */
        return 0;
    p = end;
    for (int i = 0; i < 6; i++) {
        args[i] = strtoull(p, &end, 16);
        if (end == p)
            break;
        p = end;
    }
    sc = find_syscall(nr);
    if (sc == NULL) {
        snprintf(buf, len, "<waiting: syscall %ld>", nr);
        return 1;
    }
    if (strcmp(sc->name, "futex") == 0 && args[0] >= gil_lo && args[0] < gil_hi) {
        snprintf(buf, len, "<waiting: GIL>");
        return 1;
    }
    switch (sc->arg) {
    case ARG_SLEEP:
        snprintf(buf, len, "<sleeping: %s>", sc->name);
        return 1;
    case ARG_SELECT: /* select(0, NULL, NULL, NULL, &t) is how 3.8-3.10 sleep */
        if (args[0] == 0) {
            snprintf(buf, len, "<sleeping: %s>", sc->name);
            return 1;
        }
        break;
    case ARG_POLL:
        if (args[1] == 0) {
            snprintf(buf, len, "<sleeping: %s>", sc->name);
            return 1;
        }
        fd = poll_fd(t->pid, (uintptr_t)args[0], (unsigned long)args[1]);
        break;
    case ARG_FD:
        fd = (long)(int)args[0];
        break;
    case ARG_PID:
        snprintf(buf, len, "<waiting: %s for %s%lld>", sc->name,
                 (long long)args[0] == -1 ? "any child" : "process ",
                 (long long)args[0] == -1 ? 0LL : (long long)args[0]);
        if ((long long)args[0] == -1)
            snprintf(buf, len, "<waiting: %s for any child>", sc->name);
        return 1;
    default:
        break;
    }
    if (fd < 0) {
        snprintf(buf, len, "<waiting: %s>", sc->name);
        return 1;
    }
    describe_fd(t, fd, what, sizeof what);
    snprintf(buf, len, "<waiting: %s on %s>", sc->name, what);
    return 1;
}
