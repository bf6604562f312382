#include "store/accounts.h"

#include "store/db.h"

DB_STATEMENT(account_list,
             "SELECT account_json(a)::text, a.id::text FROM accounts a "
             "WHERE ($1::bigint IS NULL OR a.id > $1) "
             "AND ($2::boolean OR a.deleted_at IS NULL) "
             "AND ($3::text IS NULL OR a.name ILIKE '%' || replace(replace(replace($3, '\\', '\\\\'), '%', "
             "'\\%'), '_', '\\_') || '%') "
             "AND ($4::bigint IS NULL OR a.owner_id = $4) "
             "AND ($5::bigint IS NULL OR a.source_id = $5) "
             "AND ($6::timestamptz IS NULL OR a.updated_at >= $6) "
             "AND ($7::text IS NULL OR a.external_id = $7) "
             "ORDER BY a.id LIMIT $8::int + 1",
             DB_TYPE_OPT_ID, DB_TYPE_BOOL, DB_TYPE_TEXT, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_TEXT, DB_TYPE_TEXT,
             DB_TYPE_INT);
DB_STATEMENT(account_check, "SELECT api_account_check($1::jsonb, $2)", DB_TYPE_JSON, DB_TYPE_OPT_ID);
DB_STATEMENT(account_get,
             "SELECT account_json(a)::text, a.version, a.id FROM accounts a WHERE a.id = $1 AND a.deleted_at IS NULL",
             DB_TYPE_ID);
DB_STATEMENT(account_create, "SELECT body::text, version, id FROM api_account_create($1::jsonb)", DB_TYPE_JSON);
DB_STATEMENT(account_patch, "SELECT body::text, version, id FROM api_account_patch($1, $2::jsonb, $3)", DB_TYPE_ID,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(account_upsert, "SELECT body::text, version, id, created FROM api_account_upsert($1, $2::jsonb, $3)",
             DB_TYPE_TEXT, DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(account_delete, "SELECT body::text, version, id FROM api_account_delete($1, $2)", DB_TYPE_ID,
             DB_TYPE_IF_MATCH);

const struct db_statement *const account_statements[] = {
    &account_list,  &account_check,  &account_get,    &account_create,
    &account_patch, &account_upsert, &account_delete, NULL,
};

enum store_status store_account_list(struct store_auth *auth, const struct account_filter *f, struct store_result *res)
{
    struct db_query q = {&account_list,
                         {DB_OPT_ID(f->after), DB_BOOL(f->include_deleted), DB_TEXT(f->q), DB_OPT_ID(f->owner_id),
                          DB_OPT_ID(f->source_id), DB_TEXT(f->updated_since), DB_TEXT(f->external_id),
                          DB_INT(f->limit)}};
    return db_run_list(auth, &q, f->limit, res);
}

enum store_status store_account_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                      struct store_result *res)
{
    struct db_query q = {&account_check, {DB_JSON(json), DB_OPT_ID(id)}};
    return db_run_statement(auth, &q, res);
}

enum store_status store_account_get(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&account_get, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_create(struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {&account_create, {DB_JSON(json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_patch(struct store_auth *auth, int64_t id, const char *json,
                                      struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&account_patch, {DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_upsert(struct store_auth *auth, const char *external_id, const char *json,
                                       struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&account_upsert, {DB_TEXT(external_id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                       struct store_result *res)
{
    struct db_query q = {&account_delete, {DB_ID(id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}
