#include "store/lookups.h"

#include "store/db.h"

/* The list key is "position,id": items are ordered by position, then id. */
DB_STATEMENT(lookup_list,
             "SELECT lookup_json(l)::text, l.position || ',' || l.id FROM lookup_items l "
             "WHERE l.kind = $1 AND ($2::boolean IS NULL OR l.active = $2) "
             "AND ($3::int IS NULL OR (l.position, l.id) > ($3, $4::bigint)) "
             "ORDER BY l.position, l.id LIMIT $5::int + 1",
             DB_TYPE_TEXT, DB_TYPE_OPT_BOOL, DB_TYPE_OPT_INT, DB_TYPE_OPT_ID, DB_TYPE_INT);
DB_STATEMENT(lookup_get,
             "SELECT lookup_json(l)::text, l.version, l.id FROM lookup_items l WHERE l.kind = $1 AND l.id = $2",
             DB_TYPE_TEXT, DB_TYPE_ID);
DB_STATEMENT(lookup_create, "SELECT body::text, version, id FROM api_lookup_create($1, $2::jsonb)", DB_TYPE_TEXT,
             DB_TYPE_JSON);
DB_STATEMENT(lookup_patch, "SELECT body::text, version, id FROM api_lookup_patch($1, $2, $3::jsonb, $4)", DB_TYPE_TEXT,
             DB_TYPE_ID, DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(lookup_delete, "SELECT body::text, version, id FROM api_lookup_delete($1, $2, $3)", DB_TYPE_TEXT,
             DB_TYPE_ID, DB_TYPE_IF_MATCH);

const struct db_statement *const lookup_statements[] = {&lookup_list,  &lookup_get,    &lookup_create,
                                                        &lookup_patch, &lookup_delete, NULL};

enum store_status store_lookup_list(struct store_auth *auth, const char *table, struct store_opt_bool active,
                                    const char *after, int limit, struct store_result *res)
{
    /* after is "position,id" as produced by the list itself (checked by the cursor decoder). */
    struct store_opt_int position, id;
    db_key_pair(after, &position, &id);
    struct db_query q = {&lookup_list,
                         {DB_TEXT(table), DB_OPT_BOOL(active), DB_OPT_INT(position), DB_OPT_ID(id), DB_INT(limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_lookup_get(struct store_auth *auth, const char *table, int64_t id, struct store_result *res)
{
    struct db_query q = {&lookup_get, {DB_TEXT(table), DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_create(struct store_auth *auth, const char *table, const char *json,
                                      struct store_result *res)
{
    struct db_query q = {&lookup_create, {DB_TEXT(table), DB_JSON(json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_patch(struct store_auth *auth, const char *table, int64_t id, const char *json,
                                     struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&lookup_patch, {DB_TEXT(table), DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_delete(struct store_auth *auth, const char *table, int64_t id,
                                      struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&lookup_delete, {DB_TEXT(table), DB_ID(id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}
