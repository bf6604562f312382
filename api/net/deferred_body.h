/* Reply bodies computed off the HTTP threads. A pool thread holds every
 * connection it accepted, and a handler blocks its thread while it runs:
 * a report taking milliseconds would stall every fast request on that
 * thread's other connections. So a slow handler checks its request
 * (status and headers known: 200, or the 4xx it answers at once), hands
 * the work to a report thread, suspends its connection (out of the event
 * loop, before libmicrohttpd sends anything) and returns; the pool thread
 * serves its other connections, and the report thread resumes the
 * connection when the body is done: the headers then go out right before
 * the body, not alone while it is computed. A body that fails after the
 * check ends the connection (the client sees the chunked body cut short).
 *
 * Stopping: deferred_stop() lets the report threads finish every queued
 * body, which resumes its connection, and refuses new work; call it before
 * libmicrohttpd stops (it must not stop with a connection suspended). */
#ifndef NET_DEFERRED_BODY_H
#define NET_DEFERRED_BODY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/request.h"

struct MHD_Connection;

struct deferred_body;

/* compute (http/request.h) makes a body on a report thread: a new buffer
 * in *body (freed by the deferred body) and its length; false when it
 * cannot be made (logged). */

/* Starts the report threads; stops them, waiting for the queued bodies
 * (their clients are waiting). Stopping twice is harmless. */
void deferred_start(unsigned threads);
void deferred_stop(void);

/* From the handler of connection's current request (libmicrohttpd allows
 * MHD_suspend_connection only from its access handler): suspends
 * connection and queues compute(job) on a report thread, which resumes it
 * when the body is done; job_free(job) runs then. Returns a new body
 * holding two references, the report thread's and the reply's (passed to
 * Ulfius with deferred_body_read and deferred_body_release). Returns NULL,
 * touching neither connection nor job, when no report thread takes work
 * (stopping): the caller then computes the body itself. */
struct deferred_body *deferred_body_start(deferred_compute_fn compute, void *job, void (*job_free)(void *),
                                          struct MHD_Connection *connection);

/* libmicrohttpd's content reader (via Ulfius): the bytes from offset, the
 * end, or an error. */
ssize_t deferred_body_read(void *cls, uint64_t offset, char *buf, size_t max);
/* Drops the reply's reference (libmicrohttpd is done with the response). */
void deferred_body_release(void *cls);

#endif
