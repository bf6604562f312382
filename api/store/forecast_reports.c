#include "store/forecast_reports.h"

#include "store/db.h"

/* A private report exists for its owner only: every statement sees the
 * shared ones and the caller's own, nothing else. */
DB_STATEMENT(forecast_report_list,
             "SELECT forecast_report_json(r)::text, r.id::text FROM forecast_reports r "
             "WHERE (r.shared OR r.owner_id = api_caller()) AND ($1::bigint IS NULL OR r.id > $1) "
             "AND ($2::bigint IS NULL OR r.owner_id = $2) AND ($3::boolean IS NULL OR r.shared = $3) "
             "ORDER BY r.id LIMIT $4::int + 1",
             DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_OPT_BOOL, DB_TYPE_INT);
DB_STATEMENT(forecast_report_get,
             "SELECT forecast_report_json(r)::text, r.version, r.id FROM forecast_reports r "
             "WHERE r.id = $1 AND (r.shared OR r.owner_id = api_caller())",
             DB_TYPE_ID);
DB_STATEMENT(forecast_report_create, "SELECT body::text, version, id FROM api_forecast_report_create($1::jsonb)",
             DB_TYPE_JSON);
DB_STATEMENT(forecast_report_patch, "SELECT body::text, version, id FROM api_forecast_report_patch($1, $2::jsonb, $3)",
             DB_TYPE_ID, DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(forecast_report_delete, "SELECT body::text, version, id FROM api_forecast_report_delete($1, $2)",
             DB_TYPE_ID, DB_TYPE_IF_MATCH);
/* The check on the request, the result later on a report thread. */
DB_STATEMENT(forecast_report_check, "SELECT api_forecast_report_check($1::bigint, $2::jsonb) AS checked",
             DB_TYPE_OPT_ID, DB_TYPE_JSON);
DB_STATEMENT(forecast_report_compute, "SELECT api_forecast_report_compute($1::jsonb)", DB_TYPE_JSON);

const struct db_statement *const forecast_report_statements[] = {
    &forecast_report_list,   &forecast_report_get,   &forecast_report_create,  &forecast_report_patch,
    &forecast_report_delete, &forecast_report_check, &forecast_report_compute, NULL,
};

enum store_status store_forecast_report_list(struct store_auth *auth, const struct forecast_report_filter *f,
                                             struct store_result *res)
{
    struct db_query q = {&forecast_report_list,
                         {DB_OPT_ID(f->after), DB_OPT_ID(f->owner_id), DB_OPT_BOOL(f->shared), DB_INT(f->limit)}};
    return db_run_list(auth, &q, f->limit, res);
}

enum store_status store_forecast_report_get(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&forecast_report_get, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_create(struct store_auth *auth, const char *json, struct store_result *res)
{
    struct db_query q = {&forecast_report_create, {DB_JSON(json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_patch(struct store_auth *auth, int64_t id, const char *json,
                                              struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&forecast_report_patch, {DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                               struct store_result *res)
{
    struct db_query q = {&forecast_report_delete, {DB_ID(id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_check(struct store_auth *auth, struct store_opt_int id, const char *definition_json,
                                       struct store_result *res)
{
    struct db_query q = {&forecast_report_check, {DB_OPT_ID(id), DB_JSON(definition_json)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_compute(const char *request_id, const char *checked_json, struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id}; /* checked already: no caller needed */
    struct db_query q = {&forecast_report_compute, {DB_JSON(checked_json)}};
    return db_run_document(&auth, &q, res);
}
