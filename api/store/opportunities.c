#include "store/opportunities.h"

#include <string.h>

#include "store/db.h"

/* Filters shared by every list statement ($1..$12). */
#define OPP_FILTERS                                                                                                    \
    "($1::boolean OR o.deleted_at IS NULL) "                                                                           \
    "AND ($2::bigint IS NULL OR o.account_id = $2) AND ($3::bigint IS NULL OR o.owner_id = $3) "                       \
    "AND ($4::bigint IS NULL OR o.status_id = $4) AND ($5::bigint IS NULL OR o.forecast_id = $5) "                     \
    "AND ($6::bigint IS NULL OR o.source_id = $6) AND ($7::text IS NULL OR o.outcome = $7) "                           \
    "AND ($8::date IS NULL OR o.close_date >= $8) AND ($9::date IS NULL OR o.close_date <= $9) "                       \
    "AND ($10::timestamptz IS NULL OR o.updated_at >= $10) "                                                           \
    "AND ($11::text IS NULL OR o.name ILIKE '%' || "                                                                   \
    "replace(replace(replace($11, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%') "                                    \
    "AND ($12::text IS NULL OR o.external_id = $12) "

/* A listed deal's JSON, with the creator from an inlined LATERAL part
 * (db/functions/opportunities.sql): no function body planned per execution. */
#define OPP_JSON "opportunity_json_of(o, c.ref)::text"
#define OPP_FROM "FROM opportunities o CROSS JOIN LATERAL user_ref(o.created_by) c "

/* One statement per sort and direction, keyset-paged on (sort key, id):
 * $13 is the last row's key (as text), $14 its id, $15 the limit. The row's
 * own key comes back as a JSON array text, which the cursor carries. */
#define OPP_LIST_PARAMS                                                                                                \
    DB_TYPE_BOOL, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_TEXT,        \
        DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_OPT_ID,            \
        DB_TYPE_INT
#define OPP_LIST(id, col, key_text, type, cmp, dir)                                                                    \
    DB_STATEMENT(id,                                                                                                   \
                 "SELECT " OPP_JSON ", json_build_array(" key_text ", o.id)::text " OPP_FROM "WHERE " OPP_FILTERS      \
                 "AND ($13::text IS NULL OR (o." col ", o.id) " cmp " ($13::" type ", $14::bigint)) "                  \
                 "ORDER BY o." col " " dir ", o.id " dir " LIMIT $15::int + 1",                                        \
                 OPP_LIST_PARAMS)

DB_STATEMENT(opportunity_list_id,
             "SELECT " OPP_JSON ", json_build_array(o.id::text, o.id)::text " OPP_FROM "WHERE " OPP_FILTERS
             "AND ($14::bigint IS NULL OR o.id > $14) AND ($13::text IS NULL OR true) ORDER BY o.id LIMIT $15::int + 1",
             OPP_LIST_PARAMS);
DB_STATEMENT(opportunity_list_id_desc,
             "SELECT " OPP_JSON ", json_build_array(o.id::text, o.id)::text " OPP_FROM "WHERE " OPP_FILTERS
             "AND ($14::bigint IS NULL OR o.id < $14) AND ($13::text IS NULL OR true) ORDER BY o.id DESC "
             "LIMIT $15::int + 1",
             OPP_LIST_PARAMS);
OPP_LIST(opportunity_list_close_date, "close_date", "o.close_date::text", "date", ">", "ASC");
OPP_LIST(opportunity_list_close_date_desc, "close_date", "o.close_date::text", "date", "<", "DESC");
OPP_LIST(opportunity_list_updated_at, "updated_at", "api_ts(o.updated_at)", "timestamptz", ">", "ASC");
OPP_LIST(opportunity_list_updated_at_desc, "updated_at", "api_ts(o.updated_at)", "timestamptz", "<", "DESC");
OPP_LIST(opportunity_list_created_at, "created_at", "api_ts(o.created_at)", "timestamptz", ">", "ASC");
OPP_LIST(opportunity_list_created_at_desc, "created_at", "api_ts(o.created_at)", "timestamptz", "<", "DESC");
OPP_LIST(opportunity_list_name, "name", "o.name", "text", ">", "ASC");
OPP_LIST(opportunity_list_name_desc, "name", "o.name", "text", "<", "DESC");
OPP_LIST(opportunity_list_value, "value", "o.value::text", "numeric", ">", "ASC");
OPP_LIST(opportunity_list_value_desc, "value", "o.value::text", "numeric", "<", "DESC");
/* Filters that take no index otherwise must not be planned once for all
 * values: lists ask for a plan made for their own parameters. */
DB_STATEMENT_NO_PARAMS(custom_plans, "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)");
DB_STATEMENT(account_must_exist, "SELECT account_check_live($1)", DB_TYPE_ID);
DB_STATEMENT(opportunity_check, "SELECT api_opportunity_check($1::jsonb, $2)", DB_TYPE_JSON, DB_TYPE_OPT_ID);
DB_STATEMENT(line_check, "SELECT api_line_check($1::jsonb, $2)", DB_TYPE_JSON, DB_TYPE_OPT_ID);
DB_STATEMENT(opportunity_get, "SELECT body, version, id FROM opportunity_document($1)", DB_TYPE_ID);
DB_STATEMENT(opportunity_create, "SELECT body::text, version, id FROM api_opportunity_create($1::jsonb)", DB_TYPE_JSON);
DB_STATEMENT(opportunity_patch, "SELECT body::text, version, id FROM api_opportunity_patch($1, $2::jsonb, $3)",
             DB_TYPE_ID, DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(opportunity_upsert,
             "SELECT body::text, version, id, created FROM api_opportunity_upsert($1, $2::jsonb, $3)", DB_TYPE_TEXT,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(opportunity_delete, "SELECT body::text, version, id FROM api_opportunity_delete($1, $2)", DB_TYPE_ID,
             DB_TYPE_IF_MATCH);
DB_STATEMENT(opportunity_must_exist, "SELECT opportunity_check_live($1)", DB_TYPE_ID);
DB_STATEMENT(line_list,
             "SELECT line_json(l)::text, l.position || ',' || l.id FROM opportunity_lines l "
             "WHERE l.opportunity_id = $1 AND ($2::int IS NULL OR (l.position, l.id) > ($2, $3::bigint)) "
             "ORDER BY l.position, l.id LIMIT $4::int + 1",
             DB_TYPE_ID, DB_TYPE_OPT_INT, DB_TYPE_OPT_ID, DB_TYPE_INT);
DB_STATEMENT(line_get,
             "SELECT line_json(l)::text, l.version, l.id FROM opportunity_lines l "
             "JOIN opportunities o ON o.id = l.opportunity_id "
             "WHERE l.opportunity_id = $1 AND l.id = $2 AND o.deleted_at IS NULL",
             DB_TYPE_ID, DB_TYPE_ID);
DB_STATEMENT(line_create, "SELECT body::text, version, id FROM api_line_create($1, $2::jsonb, $3)", DB_TYPE_ID,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(line_patch, "SELECT body::text, version, id FROM api_line_patch($1, $2, $3::jsonb, $4)", DB_TYPE_ID,
             DB_TYPE_ID, DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(line_delete, "SELECT body::text, version, id FROM api_line_delete($1, $2, $3)", DB_TYPE_ID, DB_TYPE_ID,
             DB_TYPE_IF_MATCH);
DB_STATEMENT(lines_replace, "SELECT body::text, version, id FROM api_lines_replace($1, $2::jsonb, $3)", DB_TYPE_ID,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);

const struct db_statement *const opportunity_statements[] = {
    &opportunity_list_id,
    &opportunity_list_id_desc,
    &opportunity_list_close_date,
    &opportunity_list_close_date_desc,
    &opportunity_list_updated_at,
    &opportunity_list_updated_at_desc,
    &opportunity_list_created_at,
    &opportunity_list_created_at_desc,
    &opportunity_list_name,
    &opportunity_list_name_desc,
    &opportunity_list_value,
    &opportunity_list_value_desc,
    &custom_plans,
    &account_must_exist,
    &opportunity_check,
    &line_check,
    &opportunity_get,
    &opportunity_create,
    &opportunity_patch,
    &opportunity_upsert,
    &opportunity_delete,
    &opportunity_must_exist,
    &line_list,
    &line_get,
    &line_create,
    &line_patch,
    &line_delete,
    &lines_replace,
    NULL,
};

static const struct db_statement *const list_statement[SORT_COUNT][2] = {
    [SORT_ID] = {&opportunity_list_id, &opportunity_list_id_desc},
    [SORT_CLOSE_DATE] = {&opportunity_list_close_date, &opportunity_list_close_date_desc},
    [SORT_UPDATED_AT] = {&opportunity_list_updated_at, &opportunity_list_updated_at_desc},
    [SORT_CREATED_AT] = {&opportunity_list_created_at, &opportunity_list_created_at_desc},
    [SORT_NAME] = {&opportunity_list_name, &opportunity_list_name_desc},
    [SORT_VALUE] = {&opportunity_list_value, &opportunity_list_value_desc},
};

enum store_status store_opportunity_list(struct store_auth *auth, const struct opportunity_filter *f,
                                         struct store_result *res)
{
    struct db_query must_exist = {&account_must_exist, {DB_ID(f->account_id.value)}};
    struct db_query list = {list_statement[f->sort][f->descending],
                            {DB_BOOL(f->include_deleted), DB_OPT_ID(f->account_id), DB_OPT_ID(f->owner_id),
                             DB_OPT_ID(f->status_id), DB_OPT_ID(f->forecast_id), DB_OPT_ID(f->source_id),
                             DB_TEXT(f->outcome), DB_TEXT(f->close_from), DB_TEXT(f->close_to),
                             DB_TEXT(f->updated_since), DB_TEXT(f->q), DB_TEXT(f->external_id), DB_TEXT(f->after_key),
                             DB_OPT_ID(f->after_id), DB_INT(f->limit)}};
    struct db_query q[3] = {{.statement = &custom_plans}, list};
    if (f->account_must_exist) { /* GET /accounts/{id}/opportunities: 404 for no such account */
        q[1] = must_exist;
        q[2] = list;
    }
    return db_run_list_queries(auth, q, f->account_must_exist ? 3 : 2, f->limit, res);
}

static enum store_status run_check(struct store_auth *auth, const struct db_statement *statement, const char *json,
                                   struct store_opt_int id, struct store_result *res)
{
    struct db_query q = {statement, {DB_JSON(json), DB_OPT_ID(id)}};
    return db_run_statement(auth, &q, res);
}

enum store_status store_opportunity_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                          struct store_result *res)
{
    return run_check(auth, &opportunity_check, json, id, res);
}

enum store_status store_line_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                   struct store_result *res)
{
    return run_check(auth, &line_check, json, id, res);
}

enum store_status store_opportunity_get(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&opportunity_get, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_opportunity_create(struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {&opportunity_create, {DB_JSON(json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_opportunity_patch(struct store_auth *auth, int64_t id, const char *json,
                                          struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&opportunity_patch, {DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_opportunity_upsert(struct store_auth *auth, const char *external_id, const char *json,
                                           struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&opportunity_upsert, {DB_TEXT(external_id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_opportunity_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                           struct store_result *res)
{
    struct db_query q = {&opportunity_delete, {DB_ID(id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_line_list(struct store_auth *auth, int64_t opportunity_id, const char *after, int limit,
                                  struct store_result *res)
{
    /* after is "position,id", checked by the resource. */
    struct store_opt_int position, id;
    db_key_pair(after, &position, &id);
    struct db_query q[2] = {
        {&opportunity_must_exist, {DB_ID(opportunity_id)}},
        {&line_list, {DB_ID(opportunity_id), DB_OPT_INT(position), DB_OPT_ID(id), DB_INT(limit)}},
    };
    return db_run_list_queries(auth, q, 2, limit, res);
}

enum store_status store_line_get(struct store_auth *auth, int64_t opportunity_id, int64_t line_id,
                                 struct store_result *res)
{
    struct db_query q = {&line_get, {DB_ID(opportunity_id), DB_ID(line_id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_line_create(struct store_auth *auth, int64_t opportunity_id, const char *json,
                                    struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&line_create, {DB_ID(opportunity_id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_line_patch(struct store_auth *auth, int64_t opportunity_id, int64_t line_id, const char *json,
                                   struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&line_patch, {DB_ID(opportunity_id), DB_ID(line_id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_line_delete(struct store_auth *auth, int64_t opportunity_id, int64_t line_id,
                                    struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&line_delete, {DB_ID(opportunity_id), DB_ID(line_id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_lines_replace(struct store_auth *auth, int64_t opportunity_id, const char *json,
                                      struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&lines_replace, {DB_ID(opportunity_id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}
