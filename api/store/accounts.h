/* Customer accounts. */
#ifndef STORE_ACCOUNTS_H
#define STORE_ACCOUNTS_H
#include <stdbool.h>

#include "store/store.h"

struct account_filter {
    const char *q; /* name contains, ignoring case; NULL for any */
    struct store_opt_int owner_id, source_id;
    const char *updated_since; /* RFC 3339 (validated), or NULL */
    const char *external_id;
    bool include_deleted;
    struct store_opt_int after; /* the last id seen */
    int limit;
};

enum store_status store_account_list(struct store_auth *auth, const struct account_filter *filter,
                                     struct store_result *res);
/* The database's checks of a body alone (id absent for a new account): STORE_INVALID lists what it refuses. */
enum store_status store_account_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                      struct store_result *res);
enum store_status store_account_get(struct store_auth *auth, int64_t id, struct store_result *res);
enum store_status store_account_create(struct store_auth *auth, const char *json, struct store_result *res);
enum store_status store_account_patch(struct store_auth *auth, int64_t id, const char *json,
                                      struct store_if_match if_match, struct store_result *res);
enum store_status store_account_upsert(struct store_auth *auth, const char *external_id, const char *json,
                                       struct store_if_match if_match, struct store_result *res);
enum store_status store_account_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                       struct store_result *res);

#endif
