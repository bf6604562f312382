/* The change feed (GET /changes): events written by database triggers
 * (db/functions/changes.sql), read here in position order. */
#ifndef STORE_CHANGES_H
#define STORE_CHANGES_H
#include "store/store.h"

/* Where a page starts: after a position (a transaction id and a sequence
 * number, both absent for the oldest event kept), and at or after since
 * (a validated RFC 3339 timestamp, or NULL). */
struct store_changes_from {
    struct store_opt_int major, minor;
    const char *since;
};

/* Up to limit events from `from`, of the types or resource types in
 * `types` (a PostgreSQL array literal such as
 * "{opportunity,account.created}", or NULL for all). res->body is the data
 * array; res->next_key ("major,minor") is always set: the last event's
 * position when more follow, else the position to poll from later.
 * STORE_GONE when events after the position are no longer kept. */
enum store_status store_changes_page(struct store_auth *auth, const struct store_changes_from *from,
                                     const char *types, int limit, struct store_result *res);

#endif
