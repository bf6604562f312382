/* Users and their API tokens. */
#ifndef STORE_USERS_H
#define STORE_USERS_H
#include "store/store.h"

/* active: "true", "false" or NULL for all; after: the cursor key or NULL. */
enum store_status store_user_list(const struct store_auth *auth, const char *active, const char *after, int limit,
                                  struct store_result *res);
/* id 0 reads the caller. */
enum store_status store_user_get(const struct store_auth *auth, int64_t id, struct store_result *res);
enum store_status store_user_create(const struct store_auth *auth, const char *json, struct store_result *res);
/* if_match < 0: no precondition. */
enum store_status store_user_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                   struct store_result *res);

enum store_status store_token_list(const struct store_auth *auth, int64_t user_id, const char *after, int limit,
                                   struct store_result *res);
enum store_status store_token_create(const struct store_auth *auth, int64_t user_id, const char *name,
                                     const char *hash_hex, struct store_result *res);
enum store_status store_token_revoke(const struct store_auth *auth, int64_t id, struct store_result *res);

#endif
