/* endsig.c: a signal that ends the program, kept from forked children (see
 * endsig.h). */
#include "endsig.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define NSIG_GUARDED 65

/* Per signal: the handler the guard stands in front of, and the process it
 * was set in.  Written before the guard is installed, read in the guard. */
static struct sigaction behind[NSIG_GUARDED];
static volatile pid_t owner[NSIG_GUARDED];

static void
guard(int sig, siginfo_t *info, void *context)
{
    const struct sigaction *old;
    if (sig <= 0 || sig >= NSIG_GUARDED)
        return;
    if (getpid() != owner[sig]) {
        /* A forked child: the signal's default action (async-signal-safe). */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    old = &behind[sig];
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction != NULL)
            old->sa_sigaction(sig, info, context);
    }
    else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler != NULL) {
        old->sa_handler(sig);
    }
}

PyObject *
strop_guard_ending_signal(PyObject *module, PyObject *arg)
{
    struct sigaction now, with_guard;
    long sig = PyLong_AsLong(arg);
    (void)module;
    if (sig == -1 && PyErr_Occurred())
        return NULL;
    if (sig <= 0 || sig >= NSIG_GUARDED) {
        PyErr_Format(PyExc_ValueError, "no signal %ld", sig);
        return NULL;
    }
    if (sigaction((int)sig, NULL, &now) < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    if ((now.sa_flags & SA_SIGINFO) ? now.sa_sigaction == guard
                                    : (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN))
        Py_RETURN_NONE; /* guarded already, or no handler to stand in front of */
    behind[sig] = now;
    owner[sig] = getpid();
    memset(&with_guard, 0, sizeof with_guard);
    with_guard.sa_sigaction = guard;
    with_guard.sa_mask = now.sa_mask;
    with_guard.sa_flags = (now.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    if (sigaction((int)sig, &with_guard, NULL) < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}
