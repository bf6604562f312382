#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <ulfius.h>

#include "acceptor.h"
#include "deferred_body.h"
#include "dispatch.h"
#include "log.h"
#include "mhd_connection.h"
#include "store/store.h"

/* Exported by Ulfius but not declared in ulfius.h; needed with
 * ulfius_start_framework_with_mhd_options (see PERFORMANCE.md). */
void mhd_redirect_log(void *cls, const char *fmt, va_list ap);

#define CONNECTION_LIMIT 1024
#define CONNECTION_TIMEOUT_SECONDS 30
/* A little over the body limit so an oversized body is seen as such
 * (Ulfius truncates silently at its own limit). */
#define ULFIUS_BODY_LIMIT (1048576 + 1)

static int start_mode_is_default(void)
{
    const char *mode = getenv("SERVER_MODE");
    return mode && strcmp(mode, "thread-per-connection") == 0;
}

static int start(struct _u_instance *instance, const struct config *cfg, struct sockaddr_in *addr)
{
    if (start_mode_is_default())
        return ulfius_start_framework(instance);
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_redirect_log, NULL}, /* first, or MHD logs on its own */
        {MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_SECONDS, NULL},
        /* MHD clears a connection's memory pool for every request: 16 KiB
         * (request line and headers; bodies are kept apart) instead of the
         * 32 KiB default halves that work. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16384, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        /* Counts each pool thread's connections (acceptor.h). */
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)acceptor_notify, NULL},
        /* Ulfius' own, after recording the connection (mhd_connection.h). */
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)mhd_connection_uri_logger, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* Suspend/resume: a connection waits for its deferred body outside the
     * event loop (deferred_body.h). */
    return ulfius_start_framework_with_mhd_options(
        instance, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, options);
}

int server_run(const struct config *cfg)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    /* Block the signals before any thread starts so only sigwait sees them. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    inet_pton(AF_INET, cfg->bind, &addr.sin_addr);

    struct _u_instance instance;
    if (ulfius_init_instance(&instance, cfg->port, &addr, NULL) != U_OK) {
        log_error(NULL, "cannot initialise the HTTP server");
        return 1;
    }
    instance.max_post_body_size = ULFIUS_BODY_LIMIT;
    instance.check_utf8 = 0; /* we check, and answer 400 instead of dropping values */
    instance.allowed_post_processor = U_POST_PROCESS_NONE; /* bodies are JSON, parsed by us */
    instance.timeout = CONNECTION_TIMEOUT_SECONDS;
    int status = 1;
    if (ulfius_add_endpoint_by_val(&instance, "*", NULL, "*", 0, dispatch_request, NULL) != U_OK ||
        ulfius_set_default_endpoint(&instance, dispatch_request, NULL) != U_OK) {
        log_error(NULL, "cannot register the request handler");
        goto out;
    }
    if (start(&instance, cfg, &addr) != U_OK) {
        log_error(NULL, "cannot listen on %s:%u", cfg->bind, cfg->port);
        goto out;
    }
    if (!start_mode_is_default() && !acceptor_start(instance.mhd_daemon, cfg->threads)) {
        ulfius_stop_framework(&instance);
        acceptor_close();
        goto out;
    }
    log_info(NULL, "listening on http://%s:%u (%u threads, %u report threads, %u database connections)", cfg->bind,
             cfg->port, cfg->threads, cfg->report_threads, cfg->db_pool_size);
    int sig = 0;
    sigwait(&signals, &sig);
    log_info(NULL, "signal %d: finishing in-flight requests", sig);
    /* No new connections; the report threads finish their bodies,
     * resuming the suspended connections (libmicrohttpd must not stop with
     * one suspended). Then MHD_stop_daemon, called by
     * ulfius_stop_framework, waits for its threads, which finish the
     * requests they hold; the listen socket is closed after it. */
    acceptor_stop();
    deferred_stop();
    ulfius_stop_framework(&instance);
    acceptor_close();
    status = 0;
out:
    ulfius_clean_instance(&instance);
    return status;
}
