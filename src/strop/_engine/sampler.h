/* sampler.h: the statistical profiler, strop._engine.Sampler.
 *
 * Reads another process's Python stacks with remote.h at a fixed rate,
 * without stopping it, and counts them into a calling-context tree (cct.h):
 * a leaf node's `calls` are the samples taken in it, `self_ticks` the same
 * samples, `total_ticks` the samples that passed through the node.  One tick
 * is one sample.  The sampling loop runs without the GIL, allocates only when
 * it meets a new code object or call path, and never calls into Python but
 * to check for signals (Ctrl-C) ten times a second.  The profile is written
 * by the same writers as the tracer's (pstats with sample counts as call
 * counts, and every format of writers.h with info.sampled = 1).
 *
 * Frames it makes up, named like built-ins (file "~", line 0), so that every
 * writer shows them: `<thread TID "NAME">` under the root per thread
 * (threads=), NAME being threading's name read from the target's memory
 * (remote_names.h) when the thread is first met, about once a second and at
 * the end of run() (a renamed thread's frame takes its latest name; after the
 * target exits, the last one read), else the kernel's label (proctask.h),
 * `<process PID: cmdline>` per process when following child processes
 * (subprocesses=: the target's descendants are met every tick through
 * /proc/PID/task/TID/children, or by a scan of /proc every 0.3 s where the
 * kernel lacks those files, and each read by its own reader; one that execs,
 * noticed by its code and stack addresses in /proc/PID/stat, is read anew
 * under its new command line), and in wall mode a leaf
 * `<waiting: recvfrom on tcp 1.2.3.4:5432>` / `<sleeping: clock_nanosleep>`
 * for a thread blocked in a system call (proctask.h).
 *
 * Besides the tree it keeps per-function own and total counts as it records,
 * and a ring of snapshots of them every 0.1 s of sampling, so that table()
 * can count the last seconds only (strop top's "last second" view).
 */
#ifndef STROP_SAMPLER_H
#define STROP_SAMPLER_H

#include "compat.h"

/* Creates the Sampler type for the module.  Returns a new reference, or NULL
 * with an exception set.  Needs the GIL. */
PyObject *strop_sampler_type_new(PyObject *module);

/* _set_ptracer(pid): allows process `pid` to read this process under Yama
 * (prctl(PR_SET_PTRACER)); returns None, or NULL with OSError set.  Needs the
 * GIL. */
PyObject *strop_sampler_set_ptracer(PyObject *module, PyObject *arg);

/* Raises the exception of a failed strop_remote_attach() (status `rc`,
 * remote.h) with its one-line `message`: ProcessLookupError (no such
 * process), PermissionError, MemoryError, else ValueError (not a Python
 * process, an unsupported version).  Returns NULL.  Needs the GIL. */
PyObject *strop_sampler_attach_error(int rc, const char *message);

#endif /* STROP_SAMPLER_H */
