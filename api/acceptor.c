#include "acceptor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define MAX_THREADS 256

static struct {
    atomic_int connections;
    atomic_llong busy_since_ns; /* 0 when between handlers */
} threads[MAX_THREADS];

static _Thread_local int my_thread = -1; /* index of this pool thread, once it got a connection */
static atomic_uint pool_size; /* 0 until the listen socket is taken over */
static char counted; /* the socket context of a connection counted when added */

static struct {
    struct MHD_Daemon *daemon;
    int listen_fd; /* -1 when not taken over */
    int stop_fd; /* eventfd written to stop the thread */
    pthread_t thread;
    bool running;
} acceptor = {.listen_fd = -1, .stop_fd = -1};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void acceptor_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    unsigned n = atomic_load(&pool_size);
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (n == 0 || info == NULL || info->connect_fd < 0)
        return;
    my_thread = (int)((unsigned)info->connect_fd % n);
    /* Counted up when added (below), so a burst is placed before the pool
     * threads see the first of it; one libmicrohttpd accepted before the
     * takeover was never counted. */
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = &counted;
    else if (*socket_context == &counted)
        atomic_fetch_sub(&threads[my_thread].connections, 1);
}

void acceptor_handler_begin(void)
{
    if (my_thread >= 0)
        atomic_store(&threads[my_thread].busy_since_ns, now_ns());
}

void acceptor_handler_end(void)
{
    if (my_thread >= 0)
        atomic_store(&threads[my_thread].busy_since_ns, 0);
}

unsigned acceptor_choose(const int *connections, const long long *busy_since_ns, unsigned count, long long now)
{
    unsigned best = 0;
    long long best_key = INT64_MAX;
    for (unsigned t = 0; t < count; t++) {
        bool stuck = busy_since_ns[t] && now - busy_since_ns[t] > ACCEPTOR_STUCK_NS;
        long long key = connections[t] + (stuck ? 1000000 : 0);
        if (key < best_key) {
            best_key = key;
            best = t;
        }
    }
    return best;
}

static unsigned choose_thread(void)
{
    int connections[MAX_THREADS];
    long long busy_since[MAX_THREADS];
    unsigned n = atomic_load(&pool_size);
    for (unsigned t = 0; t < n; t++) {
        connections[t] = atomic_load(&threads[t].connections);
        busy_since[t] = atomic_load(&threads[t].busy_since_ns);
    }
    return acceptor_choose(connections, busy_since, n, now_ns());
}

int acceptor_numbered_for(int fd, unsigned residue, unsigned count)
{
    int held[2 * MAX_THREADS];
    int n = 0;
    int cur = fd;
    while ((unsigned)cur % count != residue && n < (int)(2 * count) && n < 2 * MAX_THREADS) {
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0)
            break;
        held[n++] = cur;
        cur = dup;
    }
    for (int i = 0; i < n; i++)
        close(held[i]);
    return cur;
}

/* Accepts every pending connection; false once the thread must stop. */
static bool accept_pending(void)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd = accept4(acceptor.listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_warning(NULL, "cannot accept a connection now: %s", strerror(errno));
                usleep(10000); /* it waits in the backlog; descriptors free up as connections close */
                return true;
            }
            log_error(NULL, "accepting connections failed: %s", strerror(errno));
            return false;
        }
        unsigned n = atomic_load(&pool_size);
        fd = acceptor_numbered_for(fd, choose_thread(), n);
        unsigned thread = (unsigned)fd % n;
        /* Counted first: libmicrohttpd may close it (and count it down) at once. */
        atomic_fetch_add(&threads[thread].connections, 1);
        /* On failure libmicrohttpd closes the socket itself. */
        if (MHD_add_connection(acceptor.daemon, fd, (struct sockaddr *)&addr, len) != MHD_YES) {
            atomic_fetch_sub(&threads[thread].connections, 1);
            log_warning(NULL, "a connection was refused: %s", strerror(errno));
        }
    }
}

static void *accept_loop(void *arg)
{
    (void)arg;
    struct pollfd fds[2] = {{.fd = acceptor.listen_fd, .events = POLLIN}, {.fd = acceptor.stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error(NULL, "waiting for connections failed: %s", strerror(errno));
            return NULL;
        }
        if (fds[1].revents)
            return NULL;
        if (fds[0].revents && !accept_pending())
            return NULL;
    }
}

bool acceptor_start(struct MHD_Daemon *daemon, unsigned count)
{
    if (count < 2 || count > MAX_THREADS)
        return true; /* one thread: nothing to spread */
    acceptor.stop_fd = eventfd(0, EFD_CLOEXEC);
    if (acceptor.stop_fd < 0) {
        log_warning(NULL, "no eventfd (%s): connections are not spread evenly", strerror(errno));
        return true;
    }
    MHD_socket fd = MHD_quiesce_daemon(daemon);
    if (fd == MHD_INVALID_SOCKET) { /* the daemon keeps accepting by itself */
        log_warning(NULL, "libmicrohttpd kept its listen socket: connections are not spread evenly");
        close(acceptor.stop_fd);
        acceptor.stop_fd = -1;
        return true;
    }
    acceptor.daemon = daemon;
    acceptor.listen_fd = fd;
    atomic_store(&pool_size, count);
    acceptor.running = pthread_create(&acceptor.thread, NULL, accept_loop, NULL) == 0;
    if (!acceptor.running)
        log_error(NULL, "cannot start the accepting thread");
    return acceptor.running;
}

void acceptor_stop(void)
{
    if (!acceptor.running)
        return;
    uint64_t one = 1;
    if (write(acceptor.stop_fd, &one, sizeof one) != sizeof one)
        log_error(NULL, "cannot stop the accepting thread: %s", strerror(errno));
    pthread_join(acceptor.thread, NULL);
    acceptor.running = false;
    /* Refuse new connections now; the descriptor itself stays open until
     * libmicrohttpd has stopped, as it asks. */
    shutdown(acceptor.listen_fd, SHUT_RDWR);
}

void acceptor_close(void)
{
    if (acceptor.listen_fd >= 0)
        close(acceptor.listen_fd);
    if (acceptor.stop_fd >= 0)
        close(acceptor.stop_fd);
    acceptor.listen_fd = acceptor.stop_fd = -1;
}
