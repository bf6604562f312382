#include "store/forecast_reports.h"

#include "store/db.h"

/* A private report exists for its owner only: every statement sees the
 * shared ones and the caller's own, nothing else. */
const struct db_statement forecast_report_statements[] = {
    {"forecast_report_list", "SELECT forecast_report_json(r)::text, r.id::text FROM forecast_reports r "
                             "WHERE (r.shared OR r.owner_id = api_caller()) AND ($1::bigint IS NULL OR r.id > $1) "
                             "AND ($2::bigint IS NULL OR r.owner_id = $2) AND ($3::boolean IS NULL OR r.shared = $3) "
                             "ORDER BY r.id LIMIT $4::int + 1"},
    {"forecast_report_get", "SELECT forecast_report_json(r)::text, r.version, r.id FROM forecast_reports r "
                            "WHERE r.id = $1 AND (r.shared OR r.owner_id = api_caller())"},
    {"forecast_report_create", "SELECT body::text, version, id FROM api_forecast_report_create($1::jsonb)"},
    {"forecast_report_patch", "SELECT body::text, version, id FROM api_forecast_report_patch($1, $2::jsonb, $3)"},
    {"forecast_report_delete", "SELECT body::text, version, id FROM api_forecast_report_delete($1, $2)"},
    /* The check on the request, the result later on a report thread. */
    {"forecast_report_check", "SELECT api_forecast_report_check($1::bigint, $2::jsonb) AS checked"},
    {"forecast_report_compute", "SELECT api_forecast_report_compute($1::jsonb)"},
    {NULL, NULL},
};

enum store_status store_forecast_report_list(const struct store_auth *auth, const struct forecast_report_filter *f,
                                             struct store_result *res)
{
    char lim[24];
    struct db_query q = {"forecast_report_list", 4, {f->after, f->owner_id, f->shared, db_int(lim, f->limit)}};
    return db_run_list(auth, &q, f->limit, res);
}

enum store_status store_forecast_report_get(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"forecast_report_get", 1, {db_int(idbuf, id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_create(const struct store_auth *auth, const char *json,
                                               struct store_result *res)
{
    struct db_query q = {"forecast_report_create", 1, {json}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_patch(const struct store_auth *auth, int64_t id, const char *json,
                                              int64_t if_match, struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"forecast_report_patch", 3, {db_int(idbuf, id), json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_report_delete(const struct store_auth *auth, int64_t id, int64_t if_match,
                                               struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"forecast_report_delete", 2, {db_int(idbuf, id), db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_check(const struct store_auth *auth, int64_t id, const char *definition_json,
                                       struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"forecast_report_check", 2, {id > 0 ? db_int(idbuf, id) : NULL, definition_json}};
    return db_run_document(auth, &q, res);
}

enum store_status store_forecast_compute(const char *request_id, const char *checked_json, struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id}; /* checked already: no caller needed */
    struct db_query q = {"forecast_report_compute", 1, {checked_json}};
    return db_run_document(&auth, &q, res);
}
