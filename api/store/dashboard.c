#include "store/dashboard.h"

#include "store/db.h"

DB_STATEMENT(dashboard_funnel_check, "SELECT api_dashboard_funnel_check($1::bigint, $2::date, $3::date) AS checked",
             DB_TYPE_OPT_ID, DB_TYPE_TEXT, DB_TYPE_TEXT);
DB_STATEMENT(dashboard_funnel_compute, "SELECT api_dashboard_funnel_compute($1::jsonb)", DB_TYPE_JSON);
DB_STATEMENT(dashboard_sales_grid_check,
             "SELECT api_dashboard_sales_grid_check($1::text, $2::date, $3::date, $4::bigint[]) AS checked",
             DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_ID_ARRAY);
DB_STATEMENT(dashboard_sales_grid_compute, "SELECT api_dashboard_sales_grid_compute($1::jsonb)", DB_TYPE_JSON);

const struct db_statement *const dashboard_statements[] = {
    &dashboard_funnel_check,
    &dashboard_funnel_compute,
    &dashboard_sales_grid_check,
    &dashboard_sales_grid_compute,
    NULL,
};

enum store_status store_dashboard_funnel_check(struct store_auth *auth, const struct dashboard_funnel_filter *filter,
                                               struct store_result *res)
{
    struct db_query q = {&dashboard_funnel_check,
                         {DB_OPT_ID(filter->owner_id), DB_TEXT(filter->from), DB_TEXT(filter->to)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_dashboard_funnel_compute(const char *request_id, const char *checked, struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id}; /* checked already: no caller needed */
    struct db_query q = {&dashboard_funnel_compute, {DB_JSON(checked)}};
    return db_run_document(&auth, &q, res);
}

enum store_status store_dashboard_sales_grid_check(struct store_auth *auth,
                                                   const struct dashboard_sales_grid_query *query,
                                                   struct store_result *res)
{
    struct db_query q = {&dashboard_sales_grid_check,
                         {DB_TEXT(query->period), DB_TEXT(query->from), DB_TEXT(query->to),
                          DB_ID_ARRAY(query->owner_ids, query->owner_id_count)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_dashboard_sales_grid_compute(const char *request_id, const char *checked,
                                                     struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id};
    struct db_query q = {&dashboard_sales_grid_compute, {DB_JSON(checked)}};
    return db_run_document(&auth, &q, res);
}
