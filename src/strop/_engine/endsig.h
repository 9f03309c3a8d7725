/* endsig.h: a signal that ends the program, kept from forked children.
 *
 * strop run, mem and heap write the profile of a program ended by SIGTERM or
 * SIGHUP from a Python handler (_cli_common.on_ending_signals).  A process
 * forked from the program inherits that handler, and CPython forgets the
 * signals that arrive between fork() and its after-fork hook: a worker that
 * multiprocessing's terminate() signals at once would live on.  The guard
 * sits in front of Python's own C handler: in a process other than the one
 * that set it, the signal gets its default action at once (the process
 * ends by it, as without strop); in that one, Python's handler runs.
 */
#ifndef STROP_ENDSIG_H
#define STROP_ENDSIG_H

#include "compat.h"

/* guard_ending_signal(signum): puts the guard in front of the handler that
 * signal.signal() set for signum in this process.  Returns None. */
PyObject *strop_guard_ending_signal(PyObject *module, PyObject *arg);

#endif
