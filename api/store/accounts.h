/* Customer accounts. */
#ifndef STORE_ACCOUNTS_H
#define STORE_ACCOUNTS_H
#include <stdbool.h>

#include "store/store.h"

struct account_filter {
    const char *q; /* name contains, ignoring case */
    const char *owner_id; /* decimal id text or NULL */
    const char *source_id;
    const char *updated_since; /* RFC 3339 */
    const char *external_id;
    bool include_deleted;
    const char *after; /* cursor key: the last id seen */
    int limit;
};

enum store_status store_account_list(const struct store_auth *auth, const struct account_filter *filter,
                                     struct store_result *res);
/* The database's checks of a body alone (id 0 for a new account): STORE_INVALID lists what it refuses. */
enum store_status store_account_check(const struct store_auth *auth, const char *json, int64_t id,
                                      struct store_result *res);
enum store_status store_account_get(const struct store_auth *auth, int64_t id, struct store_result *res);
enum store_status store_account_create(const struct store_auth *auth, const char *json, struct store_result *res);
enum store_status store_account_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                      struct store_result *res);
enum store_status store_account_upsert(const struct store_auth *auth, const char *external_id, const char *json,
                                       int64_t if_match, struct store_result *res);
enum store_status store_account_delete(const struct store_auth *auth, int64_t id, int64_t if_match,
                                       struct store_result *res);

#endif
