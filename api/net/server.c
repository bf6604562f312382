#include "net/server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <ulfius.h>

#include "draining.h"
#include "log.h"
#include "net/deferred_body.h"
#include "net/lifecycle.h"
#include "net/mhd_log.h"

/* A little over the body limit so an oversized body is seen as such
 * (Ulfius truncates silently at its own limit). */
#define ULFIUS_BODY_LIMIT (1048576 + 1)
/* Per connection; see start(). README "Request size limits" has the cost. */
#define CONNECTION_MEMORY 65536
/* A drain ends once no request has been in flight for this long: a client
 * that got its last reply just before the signal may already be sending
 * its next request on the same connection. */
#define DRAIN_SETTLE_NS 100000000LL
#define DRAIN_POLL_US 10000
/* What the drain leaves libmicrohttpd to stop within SHUTDOWN_TIMEOUT. */
#define DRAIN_STOP_RESERVE_NS 500000000LL

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Every connection is a descriptor: raise the soft limit as far as the
 * hard one allows, so MAX_CONNECTIONS can be reached (with room for the
 * database connections, the listen socket, epoll and the log). */
static void raise_descriptor_limit(const struct config *cfg)
{
    rlim_t wanted = (rlim_t)cfg->max_connections + cfg->db_pool_size + 64;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted)
        return;
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= wanted ? wanted : limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < wanted)
        log_warning(NULL, "only %llu file descriptors allowed: fewer than MAX_CONNECTIONS=%u connections fit",
                    (unsigned long long)limit.rlim_cur, cfg->max_connections);
}

/* libmicrohttpd's epoll thread pool: each pool thread accepts and serves
 * its own connections (a handler blocks its thread on PostgreSQL, so the
 * pool is sized like the database pool). */
static int start(struct _u_instance *instance, const struct config *cfg, struct sockaddr_in *addr)
{
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL}, /* first, or MHD logs on its own */
        {MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, NULL},
        /* The request line and headers must fit in a connection's memory
         * pool (bodies are kept apart), or MHD answers 414/431 itself with
         * an HTML page; sized well above our own limits (request_limits.h)
         * so that larger requests get our problem instead. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, addr},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)lifecycle_notify_connection, NULL},
        /* Ulfius' two required callbacks, called from these (lifecycle.h). */
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)lifecycle_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)lifecycle_uri_logger, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* MHD_USE_ITC: MHD_quiesce_daemon needs it (the drain), and a resumed
     * connection is served at once. MHD_ALLOW_SUSPEND_RESUME: a connection
     * waits for its report body outside the event loop (deferred_body.h). */
    return ulfius_start_framework_with_mhd_options(
        instance, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, options);
}

/* The drain's last resort: a handler stuck past SHUTDOWN_TIMEOUT (a
 * database that stopped answering) must not keep the process alive. */
static void *shutdown_watchdog(void *arg)
{
    const struct config *cfg = arg;
    sleep(cfg->shutdown_timeout);
    log_error(NULL, "shutdown: still stopping after SHUTDOWN_TIMEOUT=%us; exiting with %u requests cut",
              cfg->shutdown_timeout, lifecycle_requests_in_flight());
    log_close();
    _exit(0);
}

/* SIGTERM: /readyz says 503 and replies close their connections; no new
 * connection is accepted; the requests in flight are answered in full;
 * then libmicrohttpd stops, closing the idle keep-alive connections. */
static void drain(struct _u_instance *instance, const struct config *cfg)
{
    pthread_t watchdog;
    if (pthread_create(&watchdog, NULL, shutdown_watchdog, (void *)cfg) == 0)
        pthread_detach(watchdog);
    draining_begin();
    MHD_socket listen_fd = MHD_quiesce_daemon(instance->mhd_daemon);
    long long start = now_ns();
    long long deadline = start + (long long)cfg->shutdown_timeout * 1000000000LL - DRAIN_STOP_RESERVE_NS;
    long long idle_since = 0;
    for (;;) {
        long long now = now_ns();
        if (lifecycle_requests_in_flight() > 0)
            idle_since = 0;
        else if (idle_since == 0)
            idle_since = now;
        if ((idle_since && now - idle_since >= DRAIN_SETTLE_NS) || now >= deadline)
            break;
        usleep(DRAIN_POLL_US);
    }
    unsigned cut = lifecycle_requests_in_flight();
    /* The report threads finish the bodies queued (normally none by now)
     * and resume their connections: libmicrohttpd must not stop with one
     * suspended. A report asked for from here on is computed on its HTTP
     * thread. Then MHD_stop_daemon (in ulfius_stop_framework). */
    deferred_stop();
    ulfius_stop_framework(instance);
    /* libmicrohttpd asks to close a quiesced socket only after it stopped. */
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    long long ms = (now_ns() - start) / 1000000LL;
    if (cut)
        log_warning(NULL, "stopped after %lld ms: %u requests cut at SHUTDOWN_TIMEOUT", ms, cut);
    else
        log_info(NULL, "stopped after %lld ms: every request answered, 0 cut", ms);
}

static void stop_signals(sigset_t *signals)
{
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
}

void server_block_signals(void)
{
    sigset_t signals;
    stop_signals(&signals);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
}

int server_run(const struct config *cfg, const struct dispatch_app *app)
{
    sigset_t signals;
    stop_signals(&signals);
    /* Blocked before any thread starts (main calls server_block_signals
     * before the store's threads), so only sigwait sees them. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);
    deferred_start(cfg->report_threads); /* after the mask: they inherit it */

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    inet_pton(AF_INET, cfg->bind, &addr.sin_addr);

    struct _u_instance instance;
    if (ulfius_init_instance(&instance, cfg->port, &addr, NULL) != U_OK) {
        log_error(NULL, "cannot initialise the HTTP server");
        deferred_stop();
        return 1;
    }
    instance.max_post_body_size = ULFIUS_BODY_LIMIT;
    instance.check_utf8 = 0; /* we check, and answer 400 instead of dropping values */
    instance.allowed_post_processor = U_POST_PROCESS_NONE; /* bodies are JSON, parsed by us */
    int status = 1;
    /* The dispatcher's user data is what it serves (dispatch.h). */
    void *user_data = (void *)app;
    if (ulfius_add_endpoint_by_val(&instance, "*", NULL, "*", 0, dispatch_request, user_data) != U_OK ||
        ulfius_set_default_endpoint(&instance, dispatch_request, user_data) != U_OK) {
        log_error(NULL, "cannot register the request handler");
        goto out;
    }
    raise_descriptor_limit(cfg);
    if (start(&instance, cfg, &addr) != U_OK) {
        log_error(NULL, "cannot listen on %s:%u", cfg->bind, cfg->port);
        goto out;
    }
    log_info(NULL,
             "listening on http://%s:%u (%u threads, %u report threads, %u database connections, at most %u "
             "connections)",
             cfg->bind, cfg->port, cfg->threads, cfg->report_threads, cfg->db_pool_size, cfg->max_connections);
    int sig = 0;
    sigwait(&signals, &sig);
    log_info(NULL, "signal %d: draining (SHUTDOWN_TIMEOUT=%us)", sig, cfg->shutdown_timeout);
    drain(&instance, cfg);
    status = 0;
out:
    deferred_stop(); /* done by drain() once the server ran; harmless twice */
    ulfius_clean_instance(&instance);
    return status;
}
