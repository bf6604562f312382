/* The libmicrohttpd connection of the request a handler runs for. Ulfius
 * gives handlers no connection, and a deferred body needs one to suspend
 * it while a report thread computes (deferred_body.h). The URI-log
 * callback, which libmicrohttpd runs on the connection's own pool thread
 * when a request line arrives, records the connection by the client's
 * address; the handler, on the same thread, finds it by that address. */
#ifndef MHD_CONNECTION_H
#define MHD_CONNECTION_H
#include <microhttpd.h>
#include <sys/socket.h>

/* For MHD_OPTION_URI_LOG_CALLBACK: records con, then does Ulfius' part. */
void *mhd_connection_uri_logger(void *cls, const char *uri, struct MHD_Connection *con);
/* The connection recorded on this thread for client, or NULL. */
struct MHD_Connection *mhd_connection_of(const struct sockaddr *client);

#endif
