#include "store/dashboard.h"

#include "store/db.h"

const struct db_statement dashboard_statements[] = {
    {"dashboard_funnel", "SELECT api_dashboard_funnel($1::bigint, $2::date, $3::date)::text"},
    {"dashboard_sales_grid", "SELECT api_dashboard_sales_grid($1::text, $2::date, $3::date, $4::bigint[])::text"},
    {NULL, NULL},
};

enum store_status store_dashboard_funnel(const struct store_auth *auth, const struct dashboard_funnel_filter *filter,
                                         struct store_result *res)
{
    struct db_query q = {"dashboard_funnel", 3, {filter->owner_id, filter->from, filter->to}};
    return db_run_document(auth, &q, res);
}

enum store_status store_dashboard_sales_grid(const struct store_auth *auth,
                                             const struct dashboard_sales_grid_query *query, struct store_result *res)
{
    struct db_query q = {"dashboard_sales_grid", 4, {query->period, query->from, query->to, query->owner_ids}};
    return db_run_document(auth, &q, res);
}
