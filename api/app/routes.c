/* The route table. Literal segments are listed before parameters that
 * could match them (/users/me before /users/:id). */
#include "app/batch.h"
#include "app/metrics.h"
#include "http/router.h"
#include "resources/resources.h"

#define LIST "limit cursor"
#define OPPORTUNITY_FILTERS                                                                                            \
    " sort owner_id status_id forecast_id source_id outcome close_from close_to updated_since q external_id"           \
    " include_deleted"

/* A route that always exists; the one that exists only while a setting
 * says so names its check as a last member. */
#define ROUTE(method, pattern, access, body, query_params, handler)                                                    \
    {                                                                                                                  \
        method, pattern, access, body, query_params, handler, NULL                                                     \
    }

const struct route routes[] = {
    ROUTE("GET", "/healthz", ACCESS_PUBLIC, BODY_NONE, "", health_live),
    ROUTE("GET", "/readyz", ACCESS_PUBLIC, BODY_NONE, "", health_ready),
    ROUTE("GET", "/openapi.yaml", ACCESS_PUBLIC, BODY_NONE, "", openapi_document),
    {"GET", "/metrics", ACCESS_PUBLIC, BODY_NONE, "", metrics_scrape, metrics_enabled},
    ROUTE("GET", "/docs", ACCESS_PUBLIC, BODY_NONE, "", docs_page),
    ROUTE("GET", "/docs/:asset", ACCESS_PUBLIC, BODY_NONE, "", docs_asset),

    ROUTE("GET", "/users", ACCESS_USER, BODY_NONE, LIST " active", users_list),
    ROUTE("POST", "/users", ACCESS_ADMIN, BODY_JSON, "", users_create),
    ROUTE("GET", "/users/me", ACCESS_USER, BODY_NONE, "", users_me),
    ROUTE("GET", "/users/:id", ACCESS_USER, BODY_NONE, "", users_get),
    ROUTE("PATCH", "/users/:id", ACCESS_ADMIN, BODY_PATCH, "", users_patch),
    ROUTE("GET", "/users/:id/tokens", ACCESS_USER, BODY_NONE, LIST, tokens_list),
    ROUTE("POST", "/users/:id/tokens", ACCESS_USER, BODY_JSON, "", tokens_create),
    ROUTE("DELETE", "/tokens/:id", ACCESS_USER, BODY_NONE, "", tokens_revoke),

    ROUTE("GET", "/lookups", ACCESS_USER, BODY_NONE, "", lookups_tables),
    ROUTE("GET", "/lookups/:table", ACCESS_USER, BODY_NONE, LIST " active", lookups_list),
    ROUTE("POST", "/lookups/:table", ACCESS_ADMIN, BODY_JSON, "", lookups_create),
    ROUTE("GET", "/lookups/:table/:item_id", ACCESS_USER, BODY_NONE, "", lookups_get),
    ROUTE("PATCH", "/lookups/:table/:item_id", ACCESS_ADMIN, BODY_PATCH, "", lookups_patch),
    ROUTE("DELETE", "/lookups/:table/:item_id", ACCESS_ADMIN, BODY_NONE, "", lookups_delete),

    ROUTE("GET", "/accounts", ACCESS_USER, BODY_NONE,
          LIST " q owner_id source_id updated_since external_id include_deleted", accounts_list),
    ROUTE("POST", "/accounts", ACCESS_USER, BODY_JSON, "", accounts_create),
    ROUTE("PUT", "/accounts/by-external-id/:external_id", ACCESS_USER, BODY_JSON, "", accounts_upsert),
    ROUTE("GET", "/accounts/:id", ACCESS_USER, BODY_NONE, "", accounts_get),
    ROUTE("PATCH", "/accounts/:id", ACCESS_USER, BODY_PATCH, "", accounts_patch),
    ROUTE("DELETE", "/accounts/:id", ACCESS_USER, BODY_NONE, "", accounts_delete),

    ROUTE("GET", "/accounts/:id/opportunities", ACCESS_USER, BODY_NONE, LIST OPPORTUNITY_FILTERS,
          account_opportunities_list),

    ROUTE("GET", "/opportunities", ACCESS_USER, BODY_NONE, LIST " account_id" OPPORTUNITY_FILTERS, opportunities_list),
    ROUTE("POST", "/opportunities", ACCESS_USER, BODY_JSON, "", opportunities_create),
    ROUTE("PUT", "/opportunities/by-external-id/:external_id", ACCESS_USER, BODY_JSON, "", opportunities_upsert),
    ROUTE("GET", "/opportunities/:id", ACCESS_USER, BODY_NONE, "", opportunities_get),
    ROUTE("PATCH", "/opportunities/:id", ACCESS_USER, BODY_PATCH, "", opportunities_patch),
    ROUTE("DELETE", "/opportunities/:id", ACCESS_USER, BODY_NONE, "", opportunities_delete),
    ROUTE("GET", "/opportunities/:id/history", ACCESS_USER, BODY_NONE, LIST, history_list),
    ROUTE("GET", "/opportunities/:id/lines", ACCESS_USER, BODY_NONE, LIST, lines_list),
    ROUTE("POST", "/opportunities/:id/lines", ACCESS_USER, BODY_JSON, "", lines_create),
    ROUTE("PUT", "/opportunities/:id/lines", ACCESS_USER, BODY_JSON, "", lines_replace),
    ROUTE("GET", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_NONE, "", lines_get),
    ROUTE("PATCH", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_PATCH, "", lines_patch),
    ROUTE("DELETE", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_NONE, "", lines_delete),

    ROUTE("GET", "/changes", ACCESS_USER, BODY_NONE, LIST " since types", changes_list),
    ROUTE("POST", "/batch", ACCESS_USER, BODY_JSON, "", batch_run),

    ROUTE("GET", "/dashboard/funnel", ACCESS_USER, BODY_NONE, "owner_id from to", dashboard_funnel),
    ROUTE("GET", "/dashboard/sales-grid", ACCESS_USER, BODY_NONE, "period from to owner_ids", dashboard_sales_grid),

    ROUTE("GET", "/forecast-reports", ACCESS_USER, BODY_NONE, LIST " owner_id shared", forecast_reports_list),
    ROUTE("POST", "/forecast-reports", ACCESS_USER, BODY_JSON, "", forecast_reports_create),
    ROUTE("GET", "/forecast-reports/:id", ACCESS_USER, BODY_NONE, "", forecast_reports_get),
    ROUTE("PATCH", "/forecast-reports/:id", ACCESS_USER, BODY_PATCH, "", forecast_reports_patch),
    ROUTE("DELETE", "/forecast-reports/:id", ACCESS_USER, BODY_NONE, "", forecast_reports_delete),
    ROUTE("GET", "/forecast-reports/:id/results", ACCESS_USER, BODY_NONE, "format", forecast_report_results),
    ROUTE("GET", "/reports/forecast", ACCESS_USER, BODY_NONE,
          "owner_ids from to period status_ids forecast_ids outcomes group_by split_by format", forecast_results),

    ROUTE("GET", "/webhooks", ACCESS_ADMIN, BODY_NONE, LIST, webhooks_list),
    ROUTE("POST", "/webhooks", ACCESS_ADMIN, BODY_JSON, "", webhooks_create),
    ROUTE("GET", "/webhooks/:id", ACCESS_ADMIN, BODY_NONE, "", webhooks_get),
    ROUTE("PATCH", "/webhooks/:id", ACCESS_ADMIN, BODY_PATCH, "", webhooks_patch),
    ROUTE("DELETE", "/webhooks/:id", ACCESS_ADMIN, BODY_NONE, "", webhooks_delete),
    ROUTE("POST", "/webhooks/:id/ping", ACCESS_ADMIN, BODY_NONE, "", webhooks_ping),
    ROUTE("GET", "/webhooks/:id/deliveries", ACCESS_ADMIN, BODY_NONE, LIST, webhook_deliveries_list),
    ROUTE("POST", "/webhooks/:id/deliveries/:delivery_id/retry", ACCESS_ADMIN, BODY_NONE, "", webhook_delivery_retry),

    ROUTE("GET", "/settings", ACCESS_USER, BODY_NONE, "", settings_get),
    ROUTE("PATCH", "/settings", ACCESS_ADMIN, BODY_PATCH, "", settings_patch),

    {.method = NULL}, /* the end */
};
