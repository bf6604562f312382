#include "store/users.h"

#include "store/auth_cache.h"
#include "store/db.h"

const struct db_statement user_statements[] = {
    {"user_list", "SELECT user_json(u)::text, u.id::text FROM users u "
                  "WHERE ($1::bigint IS NULL OR u.id > $1) AND ($2::boolean IS NULL OR u.active = $2) "
                  "ORDER BY u.id LIMIT $3::int + 1"},
    {"user_get", "SELECT user_json(u)::text, u.version, u.id FROM users u WHERE u.id = $1"},
    {"user_me", "SELECT user_json(u)::text, u.version, u.id FROM users u WHERE u.id = api_caller()"},
    {"user_create", "SELECT body::text, version, id FROM api_user_create($1::jsonb)"},
    {"user_patch", "SELECT body::text, version, id FROM api_user_patch($1, $2::jsonb, $3)"},
    {NULL, NULL},
};

const struct db_statement token_statements[] = {
    {"token_list", "SELECT body::text, key::text FROM api_token_list($1, $2::bigint, $3::int)"},
    {"token_create", "SELECT body::text, version, id FROM api_token_create($1, $2, decode($3, 'hex'))"},
    {"token_revoke", "SELECT body::text, version, id FROM api_token_revoke($1)"},
    {NULL, NULL},
};

enum store_status store_user_list(const struct store_auth *auth, const char *active, const char *after, int limit,
                                  struct store_result *res)
{
    char lim[24];
    struct db_query q = {"user_list", 3, {after, active, db_int(lim, limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_user_get(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q =
        id ? (struct db_query){"user_get", 1, {db_int(idbuf, id)}} : (struct db_query){"user_me", 0, {0}};
    return db_run_document(auth, &q, res);
}

enum store_status store_user_create(const struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {"user_create", 1, {json}};
    return db_run_document(auth, &q, res);
}

enum store_status store_user_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                   struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"user_patch", 3, {db_int(idbuf, id), json, db_version(vbuf, if_match)}};
    /* This instance forgets checked tokens at once; others on the notification. */
    if (db_run_document(auth, &q, res) == STORE_OK)
        auth_cache_clear();
    return res->status;
}

enum store_status store_token_list(const struct store_auth *auth, int64_t user_id, const char *after, int limit,
                                   struct store_result *res)
{
    char idbuf[24], lim[24];
    struct db_query q = {"token_list", 3, {db_int(idbuf, user_id), after, db_int(lim, limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_token_create(const struct store_auth *auth, int64_t user_id, const char *name,
                                     const char *hash_hex, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"token_create", 3, {db_int(idbuf, user_id), name, hash_hex}};
    return db_run_document(auth, &q, res);
}

enum store_status store_token_revoke(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"token_revoke", 1, {db_int(idbuf, id)}};
    if (db_run_document(auth, &q, res) == STORE_OK)
        auth_cache_clear();
    return res->status;
}
