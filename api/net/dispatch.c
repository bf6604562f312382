#include "net/dispatch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/reply.h"
#include "log.h"
#include "net/cors_headers.h"
#include "net/deferred_body.h"
#include "net/lifecycle.h"
#include "net/request_limits.h"
#include "draining.h"

#define DEFERRED_BLOCK_SIZE 16384 /* bytes per read of a deferred body */

static long elapsed_us(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000L + (now.tv_nsec - start->tv_nsec) / 1000L;
}

static const char *header_of(const void *transport, const char *name)
{
    const struct _u_request *u_req = transport;
    return u_map_get_case(u_req->map_header, name);
}

/* request_defer_fn: the body is computed on a report thread while this
 * connection waits suspended (deferred_body.h). */
static enum defer_result defer(struct request *req, int status, const char *content_type, deferred_compute_fn compute,
                               void *job, void (*job_free)(void *job))
{
    struct MHD_Connection *connection = lifecycle_connection_of(req->transport);
    if (connection == NULL)
        return DEFER_NO_CONNECTION;
    struct deferred_body *body = deferred_body_start(compute, job, job_free, connection);
    if (body == NULL)
        return DEFER_STOPPING;
    http_reply_deferred(req, status, content_type, body, deferred_body_release);
    return DEFER_STARTED;
}

static void send_reply(struct request *req, struct _u_response *u_resp)
{
    u_resp->status = req->status;
    u_map_put(u_resp->map_header, "X-Request-Id", req->request_id);
    if (req->content_type)
        u_map_put(u_resp->map_header, "Content-Type", req->content_type);
    for (int i = 0; i < req->header_count; i++)
        u_map_put(u_resp->map_header, req->headers[i].name, req->headers[i].value);
    if (draining()) /* libmicrohttpd closes the connection after this reply */
        u_map_put(u_resp->map_header, "Connection", "close");
    if (req->deferred) { /* computed on a report thread while this one serves other connections */
        ulfius_set_stream_response(u_resp, (unsigned)req->status, deferred_body_read, req->deferred_release,
                                   U_STREAM_SIZE_UNKNOWN, DEFERRED_BLOCK_SIZE, req->deferred);
        req->deferred = NULL;
    } else if (req->reply_body) { /* MHD itself leaves the body out of a HEAD reply, keeping its length */
        /* Hand our buffer to Ulfius instead of copying it. */
        u_resp->binary_body = req->reply_body;
        u_resp->binary_body_length = req->reply_length;
        req->reply_body = NULL;
    }
}

int dispatch_request(const struct _u_request *u_req, struct _u_response *u_resp, void *user_data)
{
    const struct dispatch_app *app = user_data;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct request req;
    memset(&req, 0, sizeof req);
    req.method = u_req->http_verb;
    req.url = u_req->http_url;
    req.body_bytes = u_req->binary_body;
    req.body_length = u_req->binary_body_length;
    req.transport = u_req;
    req.header_of = header_of;
    req.defer = defer;
    http_request_set_id(&req, header_of(u_req, "X-Request-Id"));
    if (request_within_limits(&req, u_req))
        app->serve(&req, app->cors);
    send_reply(&req, u_resp);
    cors_add_reply_headers(app->cors, header_of(u_req, "Origin"), u_resp->map_header);
    app->completed(&req, elapsed_us(&start));
    http_request_cleanup(&req);
    return U_CALLBACK_COMPLETE;
}
