/* The HTTP server: Ulfius on libmicrohttpd with an epoll thread pool. */
#ifndef SERVER_H
#define SERVER_H
#include "config.h"

/* Serves until SIGINT or SIGTERM, then finishes in-flight requests.
 * Returns the process exit status. */
int server_run(const struct config *cfg);

#endif
