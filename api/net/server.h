/* The HTTP server: Ulfius on libmicrohttpd with an epoll thread pool. */
#ifndef SERVER_H
#define SERVER_H
#include "config.h"

/* Blocks SIGINT and SIGTERM in the calling thread, so the threads it
 * starts from now on inherit the mask: server_run's sigwait alone takes
 * them (a thread with them unblocked would let them kill the process). */
void server_block_signals(void);

/* Serves until SIGINT or SIGTERM, then finishes in-flight requests.
 * Returns the process exit status. */
int server_run(const struct config *cfg);

#endif
