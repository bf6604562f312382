/* Inside the store: the bounded pool of request connections. A slot is
 * taken for one request (or a keyed write until its response is recorded)
 * and given back idle; a connection is made, and every statement prepared
 * on it, on first use, and made again after a failure. */
#ifndef STORE_POOL_H
#define STORE_POOL_H
#include <libpq-fe.h>

#include "store/store.h"

/* Opens a connection with the service's session settings; NULL (after a log
 * line) when the database cannot be reached. */
PGconn *db_connect(const char *url, const char *request_id);

struct store_session;
/* The connection of a job's session (store/session.h). */
PGconn *store_session_conn(struct store_session *session);

/* Takes an idle connection, connecting it if needed. Returns the pool index
 * or -1 with *why (pool exhausted for too long, or database unreachable). */
int pool_acquire(const char *request_id, enum store_status *why);
/* The connection in slot index (taken by the caller). */
PGconn *pool_conn(int index);
/* Closes the broken connection of a taken slot; it is made again on next use. */
void pool_drop(int index);
/* Gives a slot back, rolling back a transaction left open. */
void pool_release(int index);
/* Counts a database failure met by a request (db_errors_total). */
void pool_count_error(void);

#endif
