/* health.h: the machine during a run, read from /proc (no Python).
 *
 * A recorder reads, at its start, about once a second from a thread of its
 * own, and at its stop, what the kernel says of one process and of the
 * machine: CPU time used and time spent runnable but waiting for a CPU
 * (per-thread schedstat), context switches, RSS and its peak, private RSS,
 * swap, page faults, bytes read and written, pressure stall totals
 * (/proc/pressure), the machine's swap-ins, and the free space of the
 * filesystems the process has files open for writing on.  It never touches
 * the process's memory.  Everything a kernel does not offer (no PSI, no
 * permission for /proc/PID/io) is marked missing, never an error.
 */
#ifndef STROP_HEALTH_H
#define STROP_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "textbuf.h"

#define STROP_HEALTH_MAX_FS 16

/* What one reading saw.  Counters are totals since the process (or the
 * machine) started; `have_*` say which groups could be read. */
typedef struct StropHealthSnap {
    double t;                 /* seconds since the recorder started */
    uint64_t cpu_ns;          /* user + system time of the process */
    uint64_t user_ns, system_ns;
    uint64_t run_ns;          /* on a CPU (schedstat, exact): sum over threads ever seen */
    uint64_t wait_ns;         /* runnable, waiting for a CPU: likewise */
    uint64_t ctx_voluntary, ctx_involuntary;
    uint64_t minor_faults, major_faults;
    uint64_t rss, rss_peak, rss_private, swap; /* bytes */
    uint64_t read_bytes, write_bytes;          /* storage I/O (/proc/PID/io) */
    uint64_t psi_cpu_us, psi_mem_us, psi_io_us; /* "some" stall totals, machine-wide */
    uint64_t swap_ins;        /* pages swapped in, machine-wide (/proc/vmstat pswpin) */
    int have_sched, have_io, have_psi, have_vmstat;
} StropHealthSnap;

/* A filesystem the process wrote to: a path on it and its space when last seen. */
typedef struct StropHealthFs {
    uint64_t dev;
    char path[256];
    uint64_t total, avail;    /* bytes */
    uint64_t files, files_avail;
} StropHealthFs;

/* A TCP connection of the process, as the kernel's tcp_info last told
 * (netlink sock_diag, as `ss -ti` reads it). */
typedef struct StropHealthTcp {
    uint64_t inode;
    char local[64], peer[64]; /* "127.0.0.1:5432", "[::1]:80" */
    uint64_t sent, received;  /* bytes acknowledged by the peer, bytes received */
    uint32_t rtt_us, rttvar_us, retrans, segs_out;
    int gone;                 /* closed since: these are its last figures */
} StropHealthTcp;

#define STROP_HEALTH_MAX_TCP 64

typedef struct StropHealthRec StropHealthRec;

/* Starts recording process `pid` (0: this process) every `interval` seconds
 * on a thread of its own.  Returns NULL when out of memory or when the
 * process cannot be read at all (gone).  Needs no GIL; async-signal-unsafe. */
StropHealthRec *strop_health_start(int pid, double interval);

/* Takes the last reading and stops the thread.  Idempotent. */
void strop_health_stop(StropHealthRec *rec);

/* Frees a recorder (stopping it first).  NULL does nothing. */
void strop_health_free(StropHealthRec *rec);

/* The readings so far (the first is the start, the last the stop), and the
 * filesystems written to.  Valid until the next call on `rec`. */
size_t strop_health_count(StropHealthRec *rec);
int strop_health_at(StropHealthRec *rec, size_t i, StropHealthSnap *out);
size_t strop_health_filesystems(StropHealthRec *rec, StropHealthFs *out, size_t max);
size_t strop_health_tcp(StropHealthRec *rec, StropHealthTcp *out, size_t max);

/* The report: a section of a few lines for a terminal in `section`, and one
 * line per likely culprit in `warnings` (each line ends in '\n'; none when
 * all was well).  Returns 0, or -1 when out of memory. */
int strop_health_text(StropHealthRec *rec, StropBuf *section, StropBuf *warnings);

/* Human units: "1.2 GiB", "512 B". */
int strop_health_put_bytes(StropBuf *buf, uint64_t bytes);

#endif /* STROP_HEALTH_H */
