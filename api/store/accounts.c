#include "store/accounts.h"

#include "store/db.h"

const struct db_statement account_statements[] = {
    {"account_list", "SELECT account_json(a)::text, a.id::text FROM accounts a "
                     "WHERE ($1::bigint IS NULL OR a.id > $1) "
                     "AND ($2::boolean OR a.deleted_at IS NULL) "
                     "AND ($3::text IS NULL OR a.name ILIKE '%' || replace(replace(replace($3, '\\', '\\\\'), '%', "
                     "'\\%'), '_', '\\_') || '%') "
                     "AND ($4::bigint IS NULL OR a.owner_id = $4) "
                     "AND ($5::bigint IS NULL OR a.source_id = $5) "
                     "AND ($6::timestamptz IS NULL OR a.updated_at >= $6) "
                     "AND ($7::text IS NULL OR a.external_id = $7) "
                     "ORDER BY a.id LIMIT $8::int + 1"},
    {"account_check", "SELECT api_account_check($1::jsonb, $2)"},
    {"account_get",
     "SELECT account_json(a)::text, a.version, a.id FROM accounts a WHERE a.id = $1 AND a.deleted_at IS NULL"},
    {"account_create", "SELECT body::text, version, id FROM api_account_create($1::jsonb)"},
    {"account_patch", "SELECT body::text, version, id FROM api_account_patch($1, $2::jsonb, $3)"},
    {"account_upsert", "SELECT body::text, version, id, created FROM api_account_upsert($1, $2::jsonb, $3)"},
    {"account_delete", "SELECT body::text, version, id FROM api_account_delete($1, $2)"},
    {NULL, NULL},
};

enum store_status store_account_list(const struct store_auth *auth, const struct account_filter *f,
                                     struct store_result *res)
{
    char lim[24];
    struct db_query q = {"account_list",
                         8,
                         {f->after, f->include_deleted ? "t" : "f", f->q, f->owner_id, f->source_id, f->updated_since,
                          f->external_id, db_int(lim, f->limit)}};
    return db_run_list(auth, &q, f->limit, res);
}

enum store_status store_account_check(const struct store_auth *auth, const char *json, int64_t id,
                                      struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"account_check", 2, {json, id ? db_int(idbuf, id) : NULL}};
    return db_run_statement(auth, &q, res);
}

enum store_status store_account_get(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"account_get", 1, {db_int(idbuf, id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_create(const struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {"account_create", 1, {json}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                      struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"account_patch", 3, {db_int(idbuf, id), json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_upsert(const struct store_auth *auth, const char *external_id, const char *json,
                                       int64_t if_match, struct store_result *res)
{
    char vbuf[24];
    struct db_query q = {"account_upsert", 3, {external_id, json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_account_delete(const struct store_auth *auth, int64_t id, int64_t if_match,
                                       struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"account_delete", 2, {db_int(idbuf, id), db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}
