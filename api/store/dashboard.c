#include "store/dashboard.h"

#include "store/db.h"

const struct db_statement dashboard_statements[] = {
    {"dashboard_funnel_check", "SELECT api_dashboard_funnel_check($1::bigint, $2::date, $3::date) AS checked"},
    {"dashboard_funnel_compute", "SELECT api_dashboard_funnel_compute($1::jsonb)"},
    {"dashboard_sales_grid_check",
     "SELECT api_dashboard_sales_grid_check($1::text, $2::date, $3::date, $4::bigint[]) AS checked"},
    {"dashboard_sales_grid_compute", "SELECT api_dashboard_sales_grid_compute($1::jsonb)"},
    {NULL, NULL},
};

enum store_status store_dashboard_funnel_check(const struct store_auth *auth,
                                               const struct dashboard_funnel_filter *filter, struct store_result *res)
{
    struct db_query q = {"dashboard_funnel_check", 3, {filter->owner_id, filter->from, filter->to}};
    return db_run_document(auth, &q, res);
}

enum store_status store_dashboard_funnel_compute(const char *request_id, const char *checked, struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id}; /* checked already: no caller needed */
    struct db_query q = {"dashboard_funnel_compute", 1, {checked}};
    return db_run_document(&auth, &q, res);
}

enum store_status store_dashboard_sales_grid_check(const struct store_auth *auth,
                                                   const struct dashboard_sales_grid_query *query,
                                                   struct store_result *res)
{
    struct db_query q = {"dashboard_sales_grid_check", 4, {query->period, query->from, query->to, query->owner_ids}};
    return db_run_document(auth, &q, res);
}

enum store_status store_dashboard_sales_grid_compute(const char *request_id, const char *checked,
                                                     struct store_result *res)
{
    struct store_auth auth = {.request_id = request_id};
    struct db_query q = {"dashboard_sales_grid_compute", 1, {checked}};
    return db_run_document(&auth, &q, res);
}
