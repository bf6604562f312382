/* Users and their API tokens. */
#ifndef STORE_USERS_H
#define STORE_USERS_H
#include "store/store.h"

/* active absent for all; after: the last id seen. */
enum store_status store_user_list(struct store_auth *auth, struct store_opt_bool active, struct store_opt_int after,
                                  int limit, struct store_result *res);
enum store_status store_user_get(struct store_auth *auth, int64_t id, struct store_result *res);
/* The caller. */
enum store_status store_user_me(struct store_auth *auth, struct store_result *res);
enum store_status store_user_create(struct store_auth *auth, const char *json, struct store_result *res);
enum store_status store_user_patch(struct store_auth *auth, int64_t id, const char *json,
                                   struct store_if_match if_match, struct store_result *res);

enum store_status store_token_list(struct store_auth *auth, int64_t user_id, struct store_opt_int after, int limit,
                                   struct store_result *res);
enum store_status store_token_create(struct store_auth *auth, int64_t user_id, const char *name, const char *hash_hex,
                                     struct store_result *res);
enum store_status store_token_revoke(struct store_auth *auth, int64_t id, struct store_result *res);

#endif
