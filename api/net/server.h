/* The HTTP server: Ulfius on libmicrohttpd with an epoll thread pool. */
#ifndef NET_SERVER_H
#define NET_SERVER_H
#include "config.h"
#include "net/dispatch.h"

/* Blocks SIGINT and SIGTERM in the calling thread, so the threads it
 * starts from now on inherit the mask: server_run's sigwait alone takes
 * them (a thread with them unblocked would let them kill the process). */
void server_block_signals(void);

/* Serves app until SIGINT or SIGTERM, then finishes in-flight requests.
 * Returns the process exit status. */
int server_run(const struct config *cfg, const struct dispatch_app *app);

#endif
