#include "store/users.h"

#include "store/auth_cache.h"
#include "store/db.h"

DB_STATEMENT(user_list,
             "SELECT user_json(u)::text, u.id::text FROM users u "
             "WHERE ($1::bigint IS NULL OR u.id > $1) AND ($2::boolean IS NULL OR u.active = $2) "
             "ORDER BY u.id LIMIT $3::int + 1",
             DB_TYPE_OPT_ID, DB_TYPE_OPT_BOOL, DB_TYPE_INT);
DB_STATEMENT(user_get, "SELECT user_json(u)::text, u.version, u.id FROM users u WHERE u.id = $1", DB_TYPE_ID);
DB_STATEMENT_NO_PARAMS(user_me, "SELECT user_json(u)::text, u.version, u.id FROM users u WHERE u.id = api_caller()");
DB_STATEMENT(user_create, "SELECT body::text, version, id FROM api_user_create($1::jsonb)", DB_TYPE_JSON);
DB_STATEMENT(user_patch, "SELECT body::text, version, id FROM api_user_patch($1, $2::jsonb, $3)", DB_TYPE_ID,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);

const struct db_statement *const user_statements[] = {&user_list, &user_get, &user_me, &user_create, &user_patch, NULL};

DB_STATEMENT(token_list, "SELECT body::text, key::text FROM api_token_list($1, $2::bigint, $3::int)", DB_TYPE_ID,
             DB_TYPE_OPT_ID, DB_TYPE_INT);
DB_STATEMENT(token_create, "SELECT body::text, version, id FROM api_token_create($1, $2, decode($3, 'hex'))",
             DB_TYPE_ID, DB_TYPE_TEXT, DB_TYPE_TEXT);
DB_STATEMENT(token_revoke, "SELECT body::text, version, id FROM api_token_revoke($1)", DB_TYPE_ID);

const struct db_statement *const token_statements[] = {&token_list, &token_create, &token_revoke, NULL};

enum store_status store_user_list(struct store_auth *auth, struct store_opt_bool active, struct store_opt_int after,
                                  int limit, struct store_result *res)
{
    struct db_query q = {&user_list, {DB_OPT_ID(after), DB_OPT_BOOL(active), DB_INT(limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_user_get(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&user_get, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_user_me(struct store_auth *auth, struct store_result *res)
{
    struct db_query q = {.statement = &user_me};
    return db_run_document(auth, &q, res);
}

enum store_status store_user_create(struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {&user_create, {DB_JSON(json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_user_patch(struct store_auth *auth, int64_t id, const char *json,
                                   struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&user_patch, {DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    /* This instance forgets checked tokens at once; others on the notification. */
    if (db_run_document(auth, &q, res) == STORE_OK)
        auth_cache_clear();
    return res->status;
}

enum store_status store_token_list(struct store_auth *auth, int64_t user_id, struct store_opt_int after, int limit,
                                   struct store_result *res)
{
    struct db_query q = {&token_list, {DB_ID(user_id), DB_OPT_ID(after), DB_INT(limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_token_create(struct store_auth *auth, int64_t user_id, const char *name, const char *hash_hex,
                                     struct store_result *res)
{
    struct db_query q = {&token_create, {DB_ID(user_id), DB_TEXT(name), DB_TEXT(hash_hex)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_token_revoke(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&token_revoke, {DB_ID(id)}};
    if (db_run_document(auth, &q, res) == STORE_OK)
        auth_cache_clear();
    return res->status;
}
