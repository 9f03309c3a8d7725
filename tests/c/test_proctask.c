/* test_proctask.c: proctask.c's thread states, names and waiting labels,
 * checked on this very process: threads blocked in read() on a pipe, in
 * recv() on a loopback TCP connection and in nanosleep(), one of them named.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proctask.h"

static int pipe_fds[2], client_fd;
static volatile long tids[3];

static void *
reader(void *arg)
{
    char c;
    (void)arg;
    tids[0] = syscall(SYS_gettid);
    pthread_setname_np(pthread_self(), "pipe-reader");
    (void)!read(pipe_fds[0], &c, 1);
    return NULL;
}

static void *
receiver(void *arg)
{
    char c;
    (void)arg;
    tids[1] = syscall(SYS_gettid);
    (void)!recv(client_fd, &c, 1, 0);
    return NULL;
}

static void *
sleeper(void *arg)
{
    struct timespec ts = {2, 0};
    (void)arg;
    tids[2] = syscall(SYS_gettid);
    nanosleep(&ts, NULL);
    return NULL;
}

int
main(void)
{
    pthread_t threads[3];
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int server, peer;
    char label[256], want[128];
    StropTasks *t;

    server = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(server, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(server, 1) == 0);
    CHECK(getsockname(server, (struct sockaddr *)&addr, &len) == 0);
    client_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(client_fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    peer = accept(server, NULL, NULL);
    CHECK(pipe(pipe_fds) == 0);
    pthread_create(&threads[0], NULL, reader, NULL);
    pthread_create(&threads[1], NULL, receiver, NULL);
    pthread_create(&threads[2], NULL, sleeper, NULL);
    usleep(200000);

    t = strop_tasks_new(getpid());
    CHECK(t != NULL);
    CHECK(strop_tasks_state(t, tids[0]) == 'S');
    snprintf(want, sizeof want, "<thread %ld main>", (long)getpid());
    CHECK(strcmp(strop_tasks_thread_label(t, getpid()), want) == 0);
    snprintf(want, sizeof want, "<thread %ld \"pipe-reader\">", tids[0]);
    CHECK(strcmp(strop_tasks_thread_label(t, tids[0]), want) == 0);
    snprintf(want, sizeof want, "<thread %ld>", tids[1]);
    CHECK(strcmp(strop_tasks_thread_label(t, tids[1]), want) == 0);

    /* threading's names: the label follows the name; the old one is given
     * back; no name keeps the kernel's label; ';' and controls show as '?'. */
    {
        char old[128];
        CHECK(strop_tasks_named(t, tids[1]) == 0);
        CHECK(strop_tasks_set_name(t, tids[1], "worker-1", old, sizeof old) == 1);
        snprintf(want, sizeof want, "<thread %ld>", tids[1]);
        CHECK(strcmp(old, want) == 0);
        CHECK(strop_tasks_named(t, tids[1]) == 1);
        snprintf(want, sizeof want, "<thread %ld \"worker-1\">", tids[1]);
        CHECK(strcmp(strop_tasks_thread_label(t, tids[1]), want) == 0);
        CHECK(strop_tasks_set_name(t, tids[1], "worker-1", old, sizeof old) == 0);
        CHECK(strop_tasks_set_name(t, tids[1], NULL, old, sizeof old) == 0);
        CHECK(strcmp(strop_tasks_thread_label(t, tids[1]), want) == 0);
        CHECK(strop_tasks_set_name(t, tids[1], "a;b\n", old, sizeof old) == 1);
        CHECK(strcmp(old, want) == 0);
        snprintf(want, sizeof want, "<thread %ld \"a?b?\">", tids[1]);
        CHECK(strcmp(strop_tasks_thread_label(t, tids[1]), want) == 0);
        /* Never asked for a label: nothing to give back. */
        CHECK(strop_tasks_set_name(t, tids[2], "sleeper", old, sizeof old) == 1 && old[0] == 0);
        CHECK(strop_tasks_set_name(t, 0, "nobody", old, sizeof old) == 0);
        CHECK(strop_tasks_named(t, 0) == 1);
    }

    CHECK(strop_tasks_wait_label(t, tids[0], 0, 0, label, sizeof label) == 1);
    snprintf(want, sizeof want, "<waiting: read on fd %d (pipe:[", pipe_fds[0]);
    CHECK(strncmp(label, want, strlen(want)) == 0);
    CHECK(strop_tasks_wait_label(t, tids[1], 0, 0, label, sizeof label) == 1);
    snprintf(want, sizeof want, "<waiting: recvfrom on tcp 127.0.0.1:%u>", ntohs(addr.sin_port));
    CHECK(strcmp(label, want) == 0);
    /* The second time comes from the socket cache: the same answer. */
    CHECK(strop_tasks_wait_label(t, tids[1], 0, 0, label, sizeof label) == 1 && strcmp(label, want) == 0);
    CHECK(strop_tasks_wait_label(t, tids[2], 0, 0, label, sizeof label) == 1);
    CHECK(strncmp(label, "<sleeping: ", 11) == 0);
    CHECK(strop_tasks_wait_label(t, 999999999, 0, 0, label, sizeof label) == 0);
    CHECK(strop_tasks_state(t, 999999999) == 0);
    CHECK(strcmp(strop_tasks_syscall_name(SYS_read), "read") == 0);
    CHECK(strop_tasks_syscall_name(-5) == NULL);
    strop_tasks_free(t);
    strop_tasks_free(NULL);

    (void)!write(pipe_fds[1], "x", 1);
    (void)!write(peer, "x", 1);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    close(peer);
    close(server);
    close(client_fd);
    return CHECK_SUMMARY();
}
