/* Connections of their own, outside the request pool, for the background
 * jobs (jobs/): listening for notifications, folding the opportunity
 * totals. One session belongs to one thread. */
#ifndef STORE_SESSION_H
#define STORE_SESSION_H
#include <stdbool.h>
#include <stddef.h>

struct store_session;

/* Connects with the service's session settings; NULL (after a log line)
 * when the database cannot be reached. */
struct store_session *store_session_open(const char *database_url);
void store_session_close(struct store_session *session);
/* Whether the connection is still good (else close it and open another). */
bool store_session_ok(const struct store_session *session);

/* LISTENs on channel; false when the database refused. */
bool store_session_listen(struct store_session *session, const char *channel);
/* Waits up to timeout_ms for notifications on the channels listened to;
 * *count gets how many came. False when the connection was lost. */
bool store_session_wait(struct store_session *session, int timeout_ms, unsigned *count);

/* Folds the changes appended to the opportunity totals into the totals
 * (db/functions/totals.sql); false with the database's message in error. */
bool store_totals_fold(struct store_session *session, char *error, size_t error_size);

/* Deletes up to batch change feed events older than days
 * (db/functions/changes.sql); *deleted gets how many went. False with the
 * database's message in error. */
bool store_changes_purge(struct store_session *session, unsigned days, unsigned batch, long *deleted, char *error,
                         size_t error_size);

#endif
