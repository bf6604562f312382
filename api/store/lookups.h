/* Lookup tables (statuses, forecast categories, loss reasons, products, sources). */
#ifndef STORE_LOOKUPS_H
#define STORE_LOOKUPS_H
#include "store/store.h"

/* table is one of the five table names; active absent for all items. */
enum store_status store_lookup_list(struct store_auth *auth, const char *table, struct store_opt_bool active,
                                    const char *after, int limit, struct store_result *res);
enum store_status store_lookup_get(struct store_auth *auth, const char *table, int64_t id, struct store_result *res);
enum store_status store_lookup_create(struct store_auth *auth, const char *table, const char *json,
                                      struct store_result *res);
enum store_status store_lookup_patch(struct store_auth *auth, const char *table, int64_t id, const char *json,
                                     struct store_if_match if_match, struct store_result *res);
enum store_status store_lookup_delete(struct store_auth *auth, const char *table, int64_t id,
                                      struct store_if_match if_match, struct store_result *res);

#endif
