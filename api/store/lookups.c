#include "store/lookups.h"

#include <string.h>

#include "store/db.h"

/* The list key is "position,id": items are ordered by position, then id. */
const struct db_statement lookup_statements[] = {
    {"lookup_list", "SELECT lookup_json(l)::text, l.position || ',' || l.id FROM lookup_items l "
                    "WHERE l.kind = $1 AND ($2::boolean IS NULL OR l.active = $2) "
                    "AND ($3::int IS NULL OR (l.position, l.id) > ($3, $4::bigint)) "
                    "ORDER BY l.position, l.id LIMIT $5::int + 1"},
    {"lookup_get", "SELECT lookup_json(l)::text, l.version, l.id FROM lookup_items l WHERE l.kind = $1 AND l.id = $2"},
    {"lookup_create", "SELECT body::text, version, id FROM api_lookup_create($1, $2::jsonb)"},
    {"lookup_patch", "SELECT body::text, version, id FROM api_lookup_patch($1, $2, $3::jsonb, $4)"},
    {"lookup_delete", "SELECT body::text, version, id FROM api_lookup_delete($1, $2, $3)"},
    {NULL, NULL},
};

enum store_status store_lookup_list(const struct store_auth *auth, const char *table, const char *active,
                                    const char *after, int limit, struct store_result *res)
{
    /* after is "position,id" as produced by the list itself (checked by the cursor decoder). */
    char position[24] = "", id[24] = "", lim[24];
    const char *comma = after ? strchr(after, ',') : NULL;
    if (comma && (size_t)(comma - after) < sizeof position && strlen(comma + 1) < sizeof id) {
        memcpy(position, after, (size_t)(comma - after));
        memcpy(id, comma + 1, strlen(comma + 1) + 1);
    }
    struct db_query q = {
        "lookup_list", 5, {table, active, comma ? position : NULL, comma ? id : NULL, db_int(lim, limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_lookup_get(const struct store_auth *auth, const char *table, int64_t id,
                                   struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"lookup_get", 2, {table, db_int(idbuf, id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_create(const struct store_auth *auth, const char *table, const char *json,
                                      struct store_result *res)
{
    struct db_query q = {"lookup_create", 2, {table, json}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_patch(const struct store_auth *auth, const char *table, int64_t id, const char *json,
                                     int64_t if_match, struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"lookup_patch", 4, {table, db_int(idbuf, id), json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lookup_delete(const struct store_auth *auth, const char *table, int64_t id, int64_t if_match,
                                      struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"lookup_delete", 3, {table, db_int(idbuf, id), db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}
