/* Connections spread over libmicrohttpd's pool threads by how many each
 * holds. Each pool thread accepts from the shared listen socket by itself,
 * so a burst of connections (a client opening 32 at once) can land mostly
 * on one thread; its connections then wait for each other's blocking
 * handlers (one thread holding 24 of them doubles their latency while the
 * other idles). So once libmicrohttpd listens, its listen socket is taken
 * back (MHD_quiesce_daemon) and one thread here accepts: each connection
 * goes to the pool thread holding the fewest, passing over a thread stuck
 * in one handler (waiting on a lock, say) as libmicrohttpd's own accepting
 * did. MHD_add_connection places a socket on pool thread (socket number
 * mod pool size), so the socket is given a number of that residue. */
#ifndef ACCEPTOR_H
#define ACCEPTOR_H
#include <stdbool.h>
#include <microhttpd.h>

/* Takes over the listen socket of a daemon with `threads` pool threads
 * (started with MHD_USE_ITC or an option implying it, and with
 * acceptor_notify as its MHD_OPTION_NOTIFY_CONNECTION). When libmicrohttpd
 * keeps it, the daemon goes on accepting by itself (logged). False only
 * when the socket was taken but no thread accepts from it. */
bool acceptor_start(struct MHD_Daemon *daemon, unsigned threads);
/* Stops accepting and refuses new connections (before MHD_stop_daemon);
 * closes the socket after it. Both harmless when not started. */
void acceptor_stop(void);
void acceptor_close(void);

/* MHD_OPTION_NOTIFY_CONNECTION: counts a pool thread's connections down
 * as they close, and tells the thread its index. */
void acceptor_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
/* Around a handler, on its pool thread: how long the thread has been busy. */
void acceptor_handler_begin(void);
void acceptor_handler_end(void);

/* The placement, apart for the tests. */
/* A thread in one handler for longer than this is passed over. */
#define ACCEPTOR_STUCK_NS 20000000LL
/* The pool thread for a new connection: the fewest connections among the
 * threads not stuck in a handler (among all when every one is). */
unsigned acceptor_choose(const int *connections, const long long *busy_since_ns, unsigned count, long long now);
/* fd, or a duplicate of it numbered residue mod count (the others closed;
 * fd itself when no duplicate can be made). New descriptors take the
 * lowest free numbers, so a few duplicates go through every residue. */
int acceptor_numbered_for(int fd, unsigned residue, unsigned count);

#endif
