/* Opportunity history (written by database triggers, read here). */
#ifndef STORE_HISTORY_H
#define STORE_HISTORY_H
#include "store/store.h"

/* Newest first; after is the last entry id seen (absent for the first page). */
enum store_status store_history_list(struct store_auth *auth, int64_t opportunity_id, struct store_opt_int after,
                                     int limit, struct store_result *res);

#endif
