/* The change feed (GET /changes): events written by database triggers
 * (db/functions/changes.sql), read here in position order. */
#ifndef STORE_CHANGES_H
#define STORE_CHANGES_H
#include "store/store.h"

/* Up to limit events after position `after` ("major,minor", or NULL for
 * the oldest kept), occurred at or after `since` (RFC 3339 or NULL), of
 * the types or resource types in `types` (a PostgreSQL array literal such
 * as "{opportunity,account.created}", or NULL for all). res->body is the
 * data array; res->next_key is always set: the last event's position when
 * more follow, else the position to poll from later. STORE_GONE when
 * events after the position are no longer kept. */
enum store_status store_changes_page(struct store_auth *auth, const char *after, const char *since,
                                     const char *types, int limit, struct store_result *res);

#endif
