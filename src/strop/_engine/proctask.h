/* proctask.h: what the kernel says about a target's threads, from /proc.
 *
 * The sampler reads Python stacks from memory (remote.h); this file adds what
 * memory does not hold: whether a thread is on a CPU (/proc/PID/task/TID/stat),
 * its name (.../comm), and for a thread blocked in a system call, which call
 * and on what (.../syscall, the file descriptor's link in /proc/PID/fd and,
 * for sockets, the peer from /proc/PID/net/{tcp,tcp6,udp,udp6,unix}).  The
 * per-thread files stay open and are re-read with pread(), so one question
 * costs one system call; socket peers are looked up once per socket.
 *
 * Pure C, no Python.h, not thread-safe (one sampler thread uses it).  Never
 * fails loudly: what cannot be read is "unknown".  Allocation through mem.h.
 */
#ifndef STROP_PROCTASK_H
#define STROP_PROCTASK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct StropTasks StropTasks;

/* A reader of process `pid`'s threads.  NULL when out of memory. */
StropTasks *strop_tasks_new(pid_t pid);

/* Frees it and closes its files.  Safe on NULL. */
void strop_tasks_free(StropTasks *t);

/* The state letter of thread `tid` ('R' running, 'S' sleeping, 'D' disk...),
 * or 0 when it cannot be read. */
int strop_tasks_state(StropTasks *t, long tid);

/* How many times thread `tid` has been put on a CPU (schedstat's third
 * field) in *runs: a blocked thread whose count moved between two samples
 * woke up in between.  Returns 1, or 0 when it cannot be read. */
int strop_tasks_runs(StropTasks *t, long tid, uint64_t *runs);

/* "<thread TID \"NAME\">" with the Python name given by
 * strop_tasks_set_name(); without one, "<thread TID main>", "<thread TID>",
 * or "<thread TID \"NAME\">" when the thread's kernel name differs from the
 * process's.  Owned by `t`, valid until the next call about this thread.
 * NULL when out of memory. */
const char *strop_tasks_thread_label(StropTasks *t, long tid);

/* Gives thread `tid` its Python name (UTF-8; NULL: it has none, the kernel's
 * label stays), and marks it as looked up.  Control characters and ';' (the
 * folded format's separator) show as '?'.  Returns 1 when the thread's label
 * changed, having copied the label it had (if it had been made) into `old`
 * (old[0] is '\0' when it had none); 0 when it did not change; -1 when out
 * of memory. */
int strop_tasks_set_name(StropTasks *t, long tid, const char *name, char *old, size_t old_len);

/* 1 when strop_tasks_set_name() was called for thread `tid`, else 0. */
int strop_tasks_named(StropTasks *t, long tid);

/* When thread `tid` is blocked in a system call, writes a label of what it
 * waits on into buf ("<waiting: recvfrom on 127.0.0.1:5432>",
 * "<sleeping: clock_nanosleep>") and returns 1; returns 0 when the thread is
 * running, not in a system call, or cannot be read.  A futex wait at an
 * address in [gil_lo, gil_hi) is "<waiting: GIL>" (0, 0: the GIL unknown). */
int strop_tasks_wait_label(StropTasks *t, long tid, uintptr_t gil_lo, uintptr_t gil_hi,
                           char *buf, size_t len);

/* The name of system call `nr` on this architecture, or NULL.  For tests. */
const char *strop_tasks_syscall_name(long nr);

#endif /* STROP_PROCTASK_H */
