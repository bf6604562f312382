/* Lookup tables (statuses, forecast categories, loss reasons, products, sources). */
#ifndef STORE_LOOKUPS_H
#define STORE_LOOKUPS_H
#include "store/store.h"

/* table is one of the five table names; active: "true", "false" or NULL. */
enum store_status store_lookup_list(const struct store_auth *auth, const char *table, const char *active,
                                    const char *after, int limit, struct store_result *res);
enum store_status store_lookup_get(const struct store_auth *auth, const char *table, int64_t id,
                                   struct store_result *res);
enum store_status store_lookup_create(const struct store_auth *auth, const char *table, const char *json,
                                      struct store_result *res);
enum store_status store_lookup_patch(const struct store_auth *auth, const char *table, int64_t id, const char *json,
                                     int64_t if_match, struct store_result *res);
enum store_status store_lookup_delete(const struct store_auth *auth, const char *table, int64_t id, int64_t if_match,
                                      struct store_result *res);

#endif
