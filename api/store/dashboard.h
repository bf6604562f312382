/* The dashboard: the sales funnel and the sales grid, each one JSON
 * document built by PostgreSQL in two calls (as the forecast results,
 * db/functions/dashboard.sql): the check answers every
 * refusal and resolves the defaults; the computation of what it returned
 * cannot fail on the request. */
#ifndef STORE_DASHBOARD_H
#define STORE_DASHBOARD_H
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Dates are validated YYYY-MM-DD text; absent values are NULL (the
 * database fills the defaults). */
struct dashboard_funnel_filter {
    struct store_opt_int owner_id;
    const char *from, *to;
};

/* period is month | quarter; owner_ids NULL for every salesperson. */
struct dashboard_sales_grid_query {
    const char *period;
    const char *from, *to;
    const int64_t *owner_ids;
    size_t owner_id_count;
};

/* The checks: on STORE_OK res->body is the checked request, to be passed
 * to the computation; STORE_INVALID lists the fields the database refused. */
enum store_status store_dashboard_funnel_check(struct store_auth *auth, const struct dashboard_funnel_filter *filter,
                                               struct store_result *res);
enum store_status store_dashboard_sales_grid_check(struct store_auth *auth,
                                                   const struct dashboard_sales_grid_query *query,
                                                   struct store_result *res);
/* The computations (computed_reply.h): on STORE_OK res->body is the whole
 * response document (owned by res). */
enum store_status store_dashboard_funnel_compute(const char *request_id, const char *checked, struct store_result *res);
enum store_status store_dashboard_sales_grid_compute(const char *request_id, const char *checked,
                                                     struct store_result *res);

#endif
