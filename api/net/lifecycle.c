#include "net/lifecycle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <ulfius.h>

#include "util/alloc.h"

/* Per connection (its socket context): libmicrohttpd serves one request of
 * a connection at a time, so one flag says whether it has one in flight,
 * and one link files the connection under that request's Ulfius request
 * (lifecycle_connection_of). */
struct connection_state {
    bool in_request;
    struct MHD_Connection *connection;
    const struct _u_request *request; /* filed under it while not NULL */
    struct connection_state *next, **prev; /* in its bucket of requests */
};

static atomic_uint in_flight;

/* Connections by the Ulfius request in progress on them. One lock: which
 * thread libmicrohttpd closes a connection on (at MHD_stop_daemon) is not
 * documented, so a per-thread table could be changed from two threads. */
#define REQUEST_BUCKETS 1024
static struct {
    pthread_mutex_t lock;
    struct connection_state *buckets[REQUEST_BUCKETS];
} requests = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct connection_state **bucket_of(const struct _u_request *request)
{
    uintptr_t key = (uintptr_t)request;
    return &requests.buckets[(key >> 4 ^ key >> 14) % REQUEST_BUCKETS];
}

static void request_file(struct connection_state *state, const struct _u_request *request)
{
    pthread_mutex_lock(&requests.lock);
    struct connection_state **head = bucket_of(request);
    state->request = request;
    state->next = *head;
    state->prev = head;
    if (*head)
        (*head)->prev = &state->next;
    *head = state;
    pthread_mutex_unlock(&requests.lock);
}

static void request_unfile(struct connection_state *state)
{
    if (state == NULL || state->request == NULL)
        return;
    pthread_mutex_lock(&requests.lock);
    *state->prev = state->next;
    if (state->next)
        state->next->prev = state->prev;
    state->request = NULL;
    state->next = NULL;
    state->prev = NULL;
    pthread_mutex_unlock(&requests.lock);
}

struct MHD_Connection *lifecycle_connection_of(const struct _u_request *request)
{
    struct MHD_Connection *connection = NULL;
    pthread_mutex_lock(&requests.lock);
    for (struct connection_state *s = *bucket_of(request); s; s = s->next)
        if (s->request == request) {
            connection = s->connection;
            break;
        }
    pthread_mutex_unlock(&requests.lock);
    return connection;
}

static void request_ended(struct connection_state *state)
{
    request_unfile(state);
    if (state && state->in_request) {
        state->in_request = false;
        atomic_fetch_sub(&in_flight, 1);
    }
}

void lifecycle_notify_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct connection_state *state = xcalloc(1, sizeof *state);
        state->connection = connection;
        *socket_context = state;
        return;
    }
    /* Closed with a request half-read or half-answered: it ends here. */
    request_ended(*socket_context);
    free(*socket_context);
    *socket_context = NULL;
}

static struct connection_state *state_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* libmicrohttpd passes what this returns as *con_cls to the access handler
 * (MHD_OPTION_URI_LOG_CALLBACK); Ulfius' logger returns its
 * struct connection_info_struct (ulfius.h), whose request is the one
 * Ulfius hands to our callback. */
void *lifecycle_uri_logger(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct connection_state *state = state_of(connection);
    if (state && !state->in_request) {
        state->in_request = true;
        atomic_fetch_add(&in_flight, 1);
    }
    struct connection_info_struct *con_info = ulfius_uri_logger(cls, uri);
    if (state) {
        request_unfile(state);
        if (con_info && con_info->request)
            request_file(state, con_info->request);
    }
    return con_info;
}

void lifecycle_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    /* Unfiled before Ulfius frees the request: its address may be reused. */
    request_ended(state_of(connection));
    mhd_request_completed(cls, connection, con_cls, toe);
}

unsigned lifecycle_requests_in_flight(void)
{
    return atomic_load(&in_flight);
}
