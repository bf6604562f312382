/* The server's life after start: which requests are in flight, and the
 * drain that SIGTERM begins (SPEC 10; draining.h). A request is in flight from its
 * request line until libmicrohttpd has sent the whole reply (or the
 * connection is gone), so a drain waits for replies still being written,
 * not only for handlers. The three callbacks are libmicrohttpd options;
 * the two that Ulfius requires (its URI logger and its completion
 * callback) are called from ours unchanged. The URI logger also files
 * the connection under Ulfius' request, so a handler can find its
 * connection (to suspend it: deferred_body.h). */
#ifndef NET_LIFECYCLE_H
#define NET_LIFECYCLE_H
#include <stdbool.h>
#include <microhttpd.h>

/* MHD_OPTION_NOTIFY_CONNECTION: keeps a little state per connection. */
void lifecycle_notify_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code);
/* MHD_OPTION_URI_LOG_CALLBACK: a request begins; then Ulfius' logger. */
void *lifecycle_uri_logger(void *cls, const char *uri, struct MHD_Connection *connection);
/* MHD_OPTION_NOTIFY_COMPLETED: Ulfius' completion, then the request ends. */
void lifecycle_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                 enum MHD_RequestTerminationCode toe);

struct _u_request;
/* The connection whose request in progress Ulfius passes to a callback as
 * request, or NULL; valid while that callback runs. */
struct MHD_Connection *lifecycle_connection_of(const struct _u_request *request);

/* Requests between their request line and their last byte sent. */
unsigned lifecycle_requests_in_flight(void);

#endif
