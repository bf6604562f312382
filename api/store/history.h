/* Opportunity history (written by database triggers, read here). */
#ifndef STORE_HISTORY_H
#define STORE_HISTORY_H
#include "store/store.h"

/* Newest first; after is the last entry id seen or NULL. */
enum store_status store_history_list(const struct store_auth *auth, int64_t opportunity_id, const char *after,
                                     int limit, struct store_result *res);

#endif
