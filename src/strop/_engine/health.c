/* health.c: the machine during a run (see health.h).
 *
 * Readings are plain reads of small /proc files, a few hundred microseconds
 * each, made on the recorder's own thread: the program's threads do nothing
 * for it.  Per-thread counters (schedstat, context switches) are kept per
 * thread id, so that a thread that ends between two readings keeps what it
 * had when last seen.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "health.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "waits.h"

#define MAX_TASKS 1024
#define MAX_SNAPS 4096

typedef struct Task {
    int tid;
    uint64_t run_ns, wait_ns, vcsw, ivcsw;
} Task;

struct StropHealthRec {
    int pid;
    int self_tid; /* the recorder's thread, left out when recording this process */
    double interval;
    struct timespec origin;
    pthread_t thread;
    int running, stopped;
    pthread_mutex_t lock; /* protects everything below, and `stopped` */
    pthread_cond_t wake;
    Task tasks[MAX_TASKS];
    size_t n_tasks;
    StropHealthSnap *snaps;
    size_t n_snaps;
    uint64_t peak_rss;
    StropHealthFs fs[STROP_HEALTH_MAX_FS];
    size_t n_fs;
    StropHealthTcp tcp[STROP_HEALTH_MAX_TCP];
    size_t n_tcp;
};

/* Reads a small file whole into buf (NUL-terminated).  Returns its length or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
    ssize_t got, total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while ((size_t)total < size - 1) {
        got = read(fd, buf + total, size - 1 - (size_t)total);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        total += got;
    }
    close(fd);
    buf[total] = '\0';
    return total;
}

/* The number after "name" in a "name value" file (status, io, vmstat), or 0. */
static int
field(const char *text, const char *name, uint64_t *out)
{
    size_t len = strlen(name);
    const char *p = text;
    while ((p = strstr(p, name)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[len] == ':' || p[len] == ' ' || p[len] == '\t')) {
            p += len + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            *out = strtoull(p, NULL, 10);
            return 1;
        }
        p += len;
    }
    return 0;
}

static double
since(const struct timespec *origin)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - origin->tv_sec) + (double)(now.tv_nsec - origin->tv_nsec) * 1e-9;
}

static Task *
task_of(StropHealthRec *rec, int tid)
{
    for (size_t i = 0; i < rec->n_tasks; i++)
        if (rec->tasks[i].tid == tid)
            return &rec->tasks[i];
    if (rec->n_tasks == MAX_TASKS)
        return NULL;
    rec->tasks[rec->n_tasks].tid = tid;
    return &rec->tasks[rec->n_tasks++];
}

/* Per-thread counters: run-queue waits and context switches. */
static int
read_tasks(StropHealthRec *rec, StropHealthSnap *s)
{
    char path[64], buf[4096];
    DIR *dir;
    struct dirent *entry;
    snprintf(path, sizeof path, "/proc/%d/task", rec->pid);
    dir = opendir(path);
    if (dir == NULL)
        return 0;
    while ((entry = readdir(dir)) != NULL) {
        int tid = atoi(entry->d_name);
        Task *task;
        uint64_t value;
        if (tid <= 0 || tid == rec->self_tid || (task = task_of(rec, tid)) == NULL)
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", rec->pid, tid);
        if (read_small(path, buf, sizeof buf) > 0) {
            unsigned long long run, wait;
            if (sscanf(buf, "%llu %llu", &run, &wait) == 2) {
                task->run_ns = run;
                task->wait_ns = wait;
            }
        }
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", rec->pid, tid);
        if (read_small(path, buf, sizeof buf) > 0) {
            if (field(buf, "voluntary_ctxt_switches", &value))
                task->vcsw = value;
            if (field(buf, "nonvoluntary_ctxt_switches", &value))
                task->ivcsw = value;
        }
    }
    closedir(dir);
    for (size_t i = 0; i < rec->n_tasks; i++) {
        s->run_ns += rec->tasks[i].run_ns;
        s->wait_ns += rec->tasks[i].wait_ns;
        s->ctx_voluntary += rec->tasks[i].vcsw;
        s->ctx_involuntary += rec->tasks[i].ivcsw;
    }
    return 1;
}

/* The "some ... total=N" of a /proc/pressure file, in microseconds. */
static int
psi_total(const char *path, uint64_t *out)
{
    char buf[512];
    const char *p;
    if (read_small(path, buf, sizeof buf) <= 0 || (p = strstr(buf, "total=")) == NULL)
        return 0;
    *out = strtoull(p + 6, NULL, 10);
    return 1;
}

/* Files the process has open for writing: their filesystems' space. */
static void
read_filesystems(StropHealthRec *rec)
{
    char path[96], buf[512], target[512];
    DIR *dir;
    struct dirent *entry;
    snprintf(path, sizeof path, "/proc/%d/fdinfo", rec->pid);
    dir = opendir(path);
    if (dir == NULL)
        return;
    while ((entry = readdir(dir)) != NULL) {
        int fd = atoi(entry->d_name);
        uint64_t flags;
        ssize_t len;
        struct stat st;
        struct statvfs vfs;
        char *slash;
        size_t i;
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", rec->pid, fd);
        if (read_small(path, buf, sizeof buf) <= 0)
            continue;
        {
            const char *p = strstr(buf, "flags:"); /* octal */
            if (p == NULL)
                continue;
            flags = strtoull(p + 6, NULL, 8);
        }
        if ((flags & O_ACCMODE) == O_RDONLY)
            continue;
        snprintf(path, sizeof path, "/proc/%d/fd/%d", rec->pid, fd);
        len = readlink(path, target, sizeof target - 1);
        if (len <= 0 || target[0] != '/')
            continue; /* pipes, sockets, anonymous files */
        target[len] = '\0';
        if (strncmp(target, "/dev/", 5) == 0 || strncmp(target, "/proc/", 6) == 0 ||
            stat(target, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        for (i = 0; i < rec->n_fs; i++)
            if (rec->fs[i].dev == (uint64_t)st.st_dev)
                break;
        if (i == rec->n_fs) {
            if (rec->n_fs == STROP_HEALTH_MAX_FS)
                continue;
            rec->n_fs++;
            rec->fs[i].dev = (uint64_t)st.st_dev;
            slash = strrchr(target, '/');
            if (slash == target)
                slash++;
            *slash = '\0';
            {
                size_t keep = strlen(target);
                if (keep >= sizeof rec->fs[i].path)
                    keep = sizeof rec->fs[i].path - 1;
                memcpy(rec->fs[i].path, target, keep);
                rec->fs[i].path[keep] = '\0';
            }
        }
        if (statvfs(rec->fs[i].path, &vfs) == 0) {
            rec->fs[i].total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
            rec->fs[i].avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
            rec->fs[i].files = vfs.f_files;
            rec->fs[i].files_avail = vfs.f_favail;
        }
    }
    closedir(dir);
}

#define MAX_INODES 1024

/* The inodes of the process's sockets, from its fd links: how many. */
static size_t
socket_inodes(int pid, uint64_t *inodes, size_t max)
{
    char path[96], link[64];
    DIR *dir;
    struct dirent *entry;
    size_t n = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    dir = opendir(path);
    if (dir == NULL)
        return 0;
    while ((entry = readdir(dir)) != NULL && n < max) {
        unsigned long long inode;
        ssize_t len;
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%d/fd/%.20s", pid, entry->d_name);
        len = readlink(path, link, sizeof link - 1);
        if (len <= 0)
            continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%llu]", &inode) == 1)
            inodes[n++] = inode;
    }
    closedir(dir);
    return n;
}

static void
format_address(int family, const uint32_t *addr, uint16_t port, char *out, size_t len)
{
    char text[INET6_ADDRSTRLEN] = "?";
    inet_ntop(family, addr, text, sizeof text);
    snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", text, (unsigned)ntohs(port));
}

/* Updates rec->tcp from one netlink dump of the machine's TCP sockets of
 * `family`, keeping those whose inode is one of the process's. */
static void
read_tcp_family(StropHealthRec *rec, int family, const uint64_t *inodes, size_t n_inodes)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } request;
    char buf[16384];
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return;
    memset(&request, 0, sizeof request);
    request.nlh.nlmsg_len = sizeof request;
    request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.req.sdiag_family = (uint8_t)family;
    request.req.sdiag_protocol = IPPROTO_TCP;
    request.req.idiag_ext = 1u << (INET_DIAG_INFO - 1);
    request.req.idiag_states = ~0u;
    if (send(fd, &request, sizeof request, 0) < 0) {
        close(fd);
        return;
    }
    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *h;
        int done = 0;
        if (got <= 0)
            break;
        for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)got); h = NLMSG_NEXT(h, got)) {
            struct inet_diag_msg *msg;
            struct rtattr *attr;
            int attr_len;
            size_t i, k;
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            msg = NLMSG_DATA(h);
            for (i = 0; i < n_inodes; i++)
                if (inodes[i] == msg->idiag_inode)
                    break;
            if (i == n_inodes || msg->idiag_inode == 0)
                continue;
            for (k = 0; k < rec->n_tcp; k++)
                if (rec->tcp[k].inode == msg->idiag_inode)
                    break;
            if (k == rec->n_tcp) {
                if (rec->n_tcp == STROP_HEALTH_MAX_TCP)
                    continue;
                memset(&rec->tcp[k], 0, sizeof rec->tcp[k]);
                rec->tcp[k].inode = msg->idiag_inode;
                format_address(family, msg->id.idiag_src, msg->id.idiag_sport, rec->tcp[k].local,
                               sizeof rec->tcp[k].local);
                format_address(family, msg->id.idiag_dst, msg->id.idiag_dport, rec->tcp[k].peer,
                               sizeof rec->tcp[k].peer);
                rec->n_tcp++;
            }
            attr = (struct rtattr *)(msg + 1);
            attr_len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *msg);
            for (; RTA_OK(attr, attr_len); attr = RTA_NEXT(attr, attr_len)) {
                struct tcp_info info;
                size_t len;
                if (attr->rta_type != INET_DIAG_INFO)
                    continue;
                memset(&info, 0, sizeof info);
                len = RTA_PAYLOAD(attr);
                memcpy(&info, RTA_DATA(attr), len < sizeof info ? len : sizeof info);
                rec->tcp[k].rtt_us = info.tcpi_rtt;
                rec->tcp[k].rttvar_us = info.tcpi_rttvar;
                rec->tcp[k].retrans = info.tcpi_total_retrans;
                if (len >= offsetof(struct tcp_info, tcpi_segs_out) + sizeof info.tcpi_segs_out) {
                    rec->tcp[k].sent = info.tcpi_bytes_acked;
                    rec->tcp[k].received = info.tcpi_bytes_received;
                    rec->tcp[k].segs_out = info.tcpi_segs_out;
                }
            }
        }
        if (done)
            break;
    }
    close(fd);
}

/* The process's TCP connections: those seen before and now closed keep their
 * last figures (marked gone). */
static void
read_tcp(StropHealthRec *rec)
{
    uint64_t inodes[MAX_INODES];
    size_t n = socket_inodes(rec->pid, inodes, MAX_INODES);
    for (size_t k = 0; k < rec->n_tcp; k++) {
        size_t i;
        for (i = 0; i < n; i++)
            if (inodes[i] == rec->tcp[k].inode)
                break;
        rec->tcp[k].gone = i == n;
    }
    if (n == 0)
        return;
    read_tcp_family(rec, AF_INET, inodes, n);
    read_tcp_family(rec, AF_INET6, inodes, n);
}

/* One reading; returns 0, or -1 when the process is gone.  Lock held. */
static int
take(StropHealthRec *rec)
{
    char path[64], buf[4096];
    StropHealthSnap s;
    const char *p;
    long ticks = sysconf(_SC_CLK_TCK);
    uint64_t value;
    memset(&s, 0, sizeof s);
    s.t = since(&rec->origin);
    snprintf(path, sizeof path, "/proc/%d/stat", rec->pid);
    if (read_small(path, buf, sizeof buf) <= 0 || (p = strrchr(buf, ')')) == NULL)
        return -1;
    {
        /* Fields 3.. after the command's closing parenthesis. */
        unsigned long long minflt = 0, majflt = 0, utime = 0, stime = 0;
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %*u %llu %*u %llu %llu", &minflt,
                   &majflt, &utime, &stime) == 4) {
            s.minor_faults = minflt;
            s.major_faults = majflt;
            s.user_ns = utime * (1000000000ull / (uint64_t)(ticks > 0 ? ticks : 100));
            s.system_ns = stime * (1000000000ull / (uint64_t)(ticks > 0 ? ticks : 100));
            s.cpu_ns = s.user_ns + s.system_ns;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/status", rec->pid);
    if (read_small(path, buf, sizeof buf) > 0) {
        if (!field(buf, "VmRSS", &value) && rec->n_snaps > 0) {
            /* An exited process (a zombie) has no memory left to show: its
             * last memory is the one seen before. */
            const StropHealthSnap *last = &rec->snaps[rec->n_snaps - 1];
            s.rss_private = last->rss_private;
            s.swap = last->swap;
        }
        if (field(buf, "VmRSS", &value))
            s.rss = value * 1024;
        if (field(buf, "VmHWM", &value))
            s.rss_peak = value * 1024;
        if (field(buf, "RssAnon", &value))
            s.rss_private = value * 1024;
        if (field(buf, "VmSwap", &value))
            s.swap = value * 1024;
    }
    if (s.rss > rec->peak_rss)
        rec->peak_rss = s.rss;
    if (s.rss_peak < rec->peak_rss)
        s.rss_peak = rec->peak_rss;
    s.have_sched = read_tasks(rec, &s);
    snprintf(path, sizeof path, "/proc/%d/io", rec->pid);
    if (read_small(path, buf, sizeof buf) > 0 && field(buf, "read_bytes", &s.read_bytes) &&
        field(buf, "write_bytes", &s.write_bytes))
        s.have_io = 1;
    s.have_psi = psi_total("/proc/pressure/cpu", &s.psi_cpu_us) &
                 psi_total("/proc/pressure/memory", &s.psi_mem_us) &
                 psi_total("/proc/pressure/io", &s.psi_io_us);
    {
        char vmstat[16384];
        if (read_small("/proc/vmstat", vmstat, sizeof vmstat) > 0 &&
            field(vmstat, "pswpin", &s.swap_ins))
            s.have_vmstat = 1;
    }
    read_filesystems(rec);
    read_tcp(rec);
    if (rec->n_snaps == MAX_SNAPS) {
        /* Keep the start and every other reading: half the resolution. */
        size_t j = 1;
        for (size_t i = 2; i < rec->n_snaps; i += 2)
            rec->snaps[j++] = rec->snaps[i];
        rec->n_snaps = j;
    }
    rec->snaps[rec->n_snaps++] = s;
    return 0;
}

static void *
recorder_main(void *arg)
{
    StropHealthRec *rec = arg;
    pthread_mutex_lock(&rec->lock);
    rec->self_tid = (int)syscall(SYS_gettid);
    while (!rec->stopped) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)rec->interval;
        until.tv_nsec += (long)((rec->interval - (double)(time_t)rec->interval) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rec->wake, &rec->lock, &until);
        if (rec->stopped)
            break;
        if (take(rec) < 0)
            break; /* the process is gone: the last reading stands */
    }
    pthread_mutex_unlock(&rec->lock);
    return NULL;
}

StropHealthRec *
strop_health_start(int pid, double interval)
{
    StropHealthRec *rec = strop_calloc(1, sizeof *rec);
    if (rec == NULL)
        return NULL;
    rec->snaps = strop_malloc(MAX_SNAPS * sizeof *rec->snaps);
    if (rec->snaps == NULL) {
        strop_free(rec);
        return NULL;
    }
    rec->pid = pid > 0 ? pid : (int)getpid();
    rec->interval = interval > 0.01 ? interval : 1.0;
    clock_gettime(CLOCK_MONOTONIC, &rec->origin);
    pthread_mutex_init(&rec->lock, NULL);
    pthread_cond_init(&rec->wake, NULL);
    rec->self_tid = -1;
    if (take(rec) < 0) {
        strop_health_free(rec);
        return NULL;
    }
    rec->running = pthread_create(&rec->thread, NULL, recorder_main, rec) == 0;
    return rec;
}

void
strop_health_stop(StropHealthRec *rec)
{
    if (rec == NULL)
        return;
    pthread_mutex_lock(&rec->lock);
    if (rec->stopped) {
        pthread_mutex_unlock(&rec->lock);
        return;
    }
    rec->stopped = 1;
    pthread_cond_signal(&rec->wake);
    pthread_mutex_unlock(&rec->lock);
    if (rec->running)
        pthread_join(rec->thread, NULL);
    rec->running = 0;
    pthread_mutex_lock(&rec->lock);
    rec->self_tid = -1;
    take(rec);
    pthread_mutex_unlock(&rec->lock);
}

void
strop_health_free(StropHealthRec *rec)
{
    if (rec == NULL)
        return;
    strop_health_stop(rec);
    pthread_mutex_destroy(&rec->lock);
    pthread_cond_destroy(&rec->wake);
    strop_free(rec->snaps);
    strop_free(rec);
}

size_t
strop_health_count(StropHealthRec *rec)
{
    size_t n;
    pthread_mutex_lock(&rec->lock);
    n = rec->n_snaps;
    pthread_mutex_unlock(&rec->lock);
    return n;
}

int
strop_health_at(StropHealthRec *rec, size_t i, StropHealthSnap *out)
{
    int ok;
    pthread_mutex_lock(&rec->lock);
    ok = i < rec->n_snaps;
    if (ok)
        *out = rec->snaps[i];
    pthread_mutex_unlock(&rec->lock);
    return ok ? 0 : -1;
}

size_t
strop_health_tcp(StropHealthRec *rec, StropHealthTcp *out, size_t max)
{
    size_t n;
    pthread_mutex_lock(&rec->lock);
    n = rec->n_tcp < max ? rec->n_tcp : max;
    memcpy(out, rec->tcp, n * sizeof *out);
    pthread_mutex_unlock(&rec->lock);
    return n;
}

size_t
strop_health_filesystems(StropHealthRec *rec, StropHealthFs *out, size_t max)
{
    size_t n;
    pthread_mutex_lock(&rec->lock);
    n = rec->n_fs < max ? rec->n_fs : max;
    memcpy(out, rec->fs, n * sizeof *out);
    pthread_mutex_unlock(&rec->lock);
    return n;
}

int
strop_health_put_bytes(StropBuf *buf, uint64_t bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    int u = 0;
    if (bytes < 1024)
        return strop_buf_printf(buf, "%llu B", (unsigned long long)bytes);
    while (value >= 1024 && u < 4) {
        value /= 1024;
        u++;
    }
    return strop_buf_printf(buf, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s",
                            value, units[u]);
}

static double
share(uint64_t part_ns, double wall)
{
    return wall > 0 ? (double)part_ns * 1e-9 / wall : 0.0;
}

int
strop_health_text(StropHealthRec *rec, StropBuf *out, StropBuf *warn)
{
    StropHealthSnap a, b;
    StropHealthFs fs[STROP_HEALTH_MAX_FS];
    size_t n = strop_health_count(rec), n_fs;
    double wall, waited;
    int rc = 0;
    if (n == 0 || strop_health_at(rec, 0, &a) < 0 || strop_health_at(rec, n - 1, &b) < 0)
        return 0;
    wall = b.t - a.t;
    waited = share(b.wait_ns - a.wait_ns, wall);
    rc |= strop_buf_printf(out, "Machine during the run (%.2f s of wall time, %zu readings):\n",
                           wall, n);
    /* The scheduler's own run time is exact; the user/system split comes in
     * clock ticks. */
    rc |= strop_buf_printf(out, "  CPU       %.2f s used (user %.2f s, system %.2f s)",
                           (double)(b.have_sched ? b.run_ns - a.run_ns : b.cpu_ns - a.cpu_ns) *
                               1e-9,
                           (double)(b.user_ns - a.user_ns) * 1e-9,
                           (double)(b.system_ns - a.system_ns) * 1e-9);
    if (b.have_sched)
        rc |= strop_buf_printf(
            out, "; %.2f s (%.0f%%) waiting for a CPU; %llu context switches (%llu voluntary)",
            (double)(b.wait_ns - a.wait_ns) * 1e-9, 100 * waited,
            (unsigned long long)((b.ctx_voluntary + b.ctx_involuntary) -
                                 (a.ctx_voluntary + a.ctx_involuntary)),
            (unsigned long long)(b.ctx_voluntary - a.ctx_voluntary));
    rc |= strop_buf_puts(out, "\n  memory    peak RSS ");
    rc |= strop_health_put_bytes(out, b.rss_peak);
    rc |= strop_buf_puts(out, " (private at the end ");
    rc |= strop_health_put_bytes(out, b.rss_private);
    rc |= strop_buf_puts(out, "); in swap ");
    rc |= strop_health_put_bytes(out, b.swap);
    rc |= strop_buf_printf(out, "; %llu major page faults\n",
                           (unsigned long long)(b.major_faults - a.major_faults));
    if (b.have_io) {
        rc |= strop_buf_puts(out, "  disk      read ");
        rc |= strop_health_put_bytes(out, b.read_bytes - a.read_bytes);
        rc |= strop_buf_puts(out, ", written ");
        rc |= strop_health_put_bytes(out, b.write_bytes - a.write_bytes);
        rc |= strop_buf_puts(out, "\n");
    }
    if (b.have_psi && wall > 0)
        rc |= strop_buf_printf(out,
                               "  pressure  the machine's tasks stalled for CPU %.1f%%, memory "
                               "%.1f%%, I/O %.1f%% of the time\n",
                               100 * share((b.psi_cpu_us - a.psi_cpu_us) * 1000, wall),
                               100 * share((b.psi_mem_us - a.psi_mem_us) * 1000, wall),
                               100 * share((b.psi_io_us - a.psi_io_us) * 1000, wall));
    n_fs = strop_health_filesystems(rec, fs, STROP_HEALTH_MAX_FS);
    for (size_t i = 0; i < n_fs; i++) {
        if (fs[i].total == 0)
            continue;
        rc |= strop_buf_printf(out, "  written   %s: ", fs[i].path);
        rc |= strop_health_put_bytes(out, fs[i].avail);
        rc |= strop_buf_printf(out, " free of ");
        rc |= strop_health_put_bytes(out, fs[i].total);
        rc |= strop_buf_printf(out, " (%.0f%% full)\n",
                               100.0 * (double)(fs[i].total - fs[i].avail) / (double)fs[i].total);
    }
    {
        StropHealthTcp tcp[STROP_HEALTH_MAX_TCP];
        size_t n_tcp = strop_health_tcp(rec, tcp, STROP_HEALTH_MAX_TCP);
        for (size_t i = 0; i < n_tcp; i++) {
            const char *service;
            char endpoint[96];
            if (strncmp(tcp[i].peer, "0.0.0.0:", 8) == 0 || strncmp(tcp[i].peer, "[::]:", 5) == 0)
                continue; /* a listening socket */
            snprintf(endpoint, sizeof endpoint, "tcp %s", tcp[i].peer);
            service = strop_waits_service(endpoint);
            rc |= strop_buf_printf(out, "  network   %s%s%s%s: sent ", endpoint,
                                   service ? " (" : "", service ? service : "",
                                   service ? ")" : "");
            rc |= strop_health_put_bytes(out, tcp[i].sent);
            rc |= strop_buf_puts(out, ", received ");
            rc |= strop_health_put_bytes(out, tcp[i].received);
            rc |= strop_buf_printf(out, ", rtt %.2f ms (± %.2f), %u of %u segments "
                                        "retransmitted%s\n",
                                   tcp[i].rtt_us / 1000.0, tcp[i].rttvar_us / 1000.0,
                                   tcp[i].retrans, tcp[i].segs_out,
                                   tcp[i].gone ? " (closed)" : "");
            if (tcp[i].segs_out >= 100 && tcp[i].retrans * 100 > tcp[i].segs_out)
                rc |= strop_buf_printf(warn,
                                       "%s: %.1f%% of the segments sent were retransmitted: "
                                       "the network to it loses packets\n",
                                       endpoint, 100.0 * tcp[i].retrans / tcp[i].segs_out);
        }
    }
    /* The likely culprits, one line each. */
    if (b.have_sched && waited >= 0.10)
        rc |= strop_buf_printf(warn,
                               "%.0f%% of wall time was spent waiting for a CPU: other "
                               "processes (or a cgroup's CPU quota) took it\n",
                               100 * waited);
    if (b.have_vmstat && b.swap_ins - a.swap_ins >= 256) { /* 1 MiB of 4 KiB pages */
        rc |= strop_buf_puts(warn, "the machine swapped: ");
        rc |= strop_health_put_bytes(warn, (b.swap_ins - a.swap_ins) * 4096);
        rc |= strop_buf_puts(warn, " swapped in during the run\n");
    }
    if (b.swap >= (1u << 20)) {
        rc |= strop_health_put_bytes(warn, b.swap);
        rc |= strop_buf_puts(warn, " of the process was in swap at the end\n");
    }
    if (b.major_faults - a.major_faults >= 1000)
        rc |= strop_buf_printf(warn,
                               "%llu major page faults: memory was read back from disk or swap\n",
                               (unsigned long long)(b.major_faults - a.major_faults));
    if (b.have_psi && share((b.psi_mem_us - a.psi_mem_us) * 1000, wall) >= 0.05)
        rc |= strop_buf_printf(warn,
                               "memory pressure: the machine's tasks stalled waiting for memory "
                               "%.0f%% of the run\n",
                               100 * share((b.psi_mem_us - a.psi_mem_us) * 1000, wall));
    if (b.have_psi && share((b.psi_io_us - a.psi_io_us) * 1000, wall) >= 0.20)
        rc |= strop_buf_printf(warn,
                               "I/O pressure: the machine's tasks stalled on storage %.0f%% of "
                               "the run\n",
                               100 * share((b.psi_io_us - a.psi_io_us) * 1000, wall));
    for (size_t i = 0; i < n_fs; i++) {
        if (fs[i].total == 0)
            continue;
        if (fs[i].avail * 20 < fs[i].total || fs[i].avail < (64u << 20)) {
            rc |= strop_buf_printf(warn, "%s is %.0f%% full (", fs[i].path,
                                   100.0 * (double)(fs[i].total - fs[i].avail) /
                                       (double)fs[i].total);
            rc |= strop_health_put_bytes(warn, fs[i].avail);
            rc |= strop_buf_puts(warn, " free): writes there may fail\n");
        }
        else if (fs[i].files > 0 && fs[i].files_avail * 100 < fs[i].files)
            rc |= strop_buf_printf(warn, "%s has %llu inodes left of %llu\n", fs[i].path,
                                   (unsigned long long)fs[i].files_avail,
                                   (unsigned long long)fs[i].files);
    }
    return rc ? -1 : 0;
}
