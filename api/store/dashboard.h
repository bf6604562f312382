/* The dashboard: the sales funnel and the sales grid, each one JSON
 * document built by one SQL function (db/migrations/0009_dashboard.sql). */
#ifndef STORE_DASHBOARD_H
#define STORE_DASHBOARD_H
#include "store/store.h"

/* Filters as text (decimal id, YYYY-MM-DD dates), NULL when absent. */
struct dashboard_funnel_filter {
    const char *owner_id;
    const char *from, *to;
};

/* Parameters as text, NULL when absent (the database fills the defaults):
 * period is month | quarter; owner_ids a PostgreSQL array literal of ids
 * ("{3,7}"). */
struct dashboard_sales_grid_query {
    const char *period;
    const char *from, *to;
    const char *owner_ids;
};

/* On STORE_OK res->body is the whole response document (owned by res);
 * STORE_INVALID lists the fields the database refused. */
enum store_status store_dashboard_funnel(const struct store_auth *auth, const struct dashboard_funnel_filter *filter,
                                         struct store_result *res);
enum store_status store_dashboard_sales_grid(const struct store_auth *auth,
                                             const struct dashboard_sales_grid_query *query, struct store_result *res);

#endif
