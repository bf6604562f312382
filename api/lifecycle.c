#include "lifecycle.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <ulfius.h>

#include "util/alloc.h"

/* Per connection (its socket context): libmicrohttpd serves one request of
 * a connection at a time, so one flag says whether it has one in flight. */
struct connection_state {
    bool in_request;
};

static atomic_uint in_flight;
static atomic_bool draining;

static void request_ended(struct connection_state *state)
{
    if (state && state->in_request) {
        state->in_request = false;
        atomic_fetch_sub(&in_flight, 1);
    }
}

void lifecycle_notify_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)connection;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = xcalloc(1, sizeof(struct connection_state));
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

void *lifecycle_uri_logger(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct connection_state *state = state_of(connection);
    if (state && !state->in_request) {
        state->in_request = true;
        atomic_fetch_add(&in_flight, 1);
    }
    return ulfius_uri_logger(cls, uri);
}

void lifecycle_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
    mhd_request_completed(cls, connection, con_cls, toe);
    request_ended(state_of(connection));
}

unsigned lifecycle_requests_in_flight(void)
{
    return atomic_load(&in_flight);
}

void lifecycle_begin_drain(void)
{
    atomic_store(&draining, true);
}

bool lifecycle_draining(void)
{
    return atomic_load(&draining);
}
