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

const struct route routes[] = {
    {"GET", "/healthz", ACCESS_PUBLIC, BODY_NONE, "", health_live},
    {"GET", "/readyz", ACCESS_PUBLIC, BODY_NONE, "", health_ready},
    {"GET", "/openapi.yaml", ACCESS_PUBLIC, BODY_NONE, "", openapi_document},
    {"GET", "/metrics", ACCESS_PUBLIC, BODY_NONE, "", metrics_scrape, metrics_enabled},
    {"GET", "/docs", ACCESS_PUBLIC, BODY_NONE, "", docs_page},
    {"GET", "/docs/:asset", ACCESS_PUBLIC, BODY_NONE, "", docs_asset},

    {"GET", "/users", ACCESS_USER, BODY_NONE, LIST " active", users_list},
    {"POST", "/users", ACCESS_ADMIN, BODY_JSON, "", users_create},
    {"GET", "/users/me", ACCESS_USER, BODY_NONE, "", users_me},
    {"GET", "/users/:id", ACCESS_USER, BODY_NONE, "", users_get},
    {"PATCH", "/users/:id", ACCESS_ADMIN, BODY_PATCH, "", users_patch},
    {"GET", "/users/:id/tokens", ACCESS_USER, BODY_NONE, LIST, tokens_list},
    {"POST", "/users/:id/tokens", ACCESS_USER, BODY_JSON, "", tokens_create},
    {"DELETE", "/tokens/:id", ACCESS_USER, BODY_NONE, "", tokens_revoke},

    {"GET", "/lookups", ACCESS_USER, BODY_NONE, "", lookups_tables},
    {"GET", "/lookups/:table", ACCESS_USER, BODY_NONE, LIST " active", lookups_list},
    {"POST", "/lookups/:table", ACCESS_ADMIN, BODY_JSON, "", lookups_create},
    {"GET", "/lookups/:table/:item_id", ACCESS_USER, BODY_NONE, "", lookups_get},
    {"PATCH", "/lookups/:table/:item_id", ACCESS_ADMIN, BODY_PATCH, "", lookups_patch},
    {"DELETE", "/lookups/:table/:item_id", ACCESS_ADMIN, BODY_NONE, "", lookups_delete},

    {"GET", "/accounts", ACCESS_USER, BODY_NONE, LIST " q owner_id source_id updated_since external_id include_deleted",
     accounts_list},
    {"POST", "/accounts", ACCESS_USER, BODY_JSON, "", accounts_create},
    {"PUT", "/accounts/by-external-id/:external_id", ACCESS_USER, BODY_JSON, "", accounts_upsert},
    {"GET", "/accounts/:id", ACCESS_USER, BODY_NONE, "", accounts_get},
    {"PATCH", "/accounts/:id", ACCESS_USER, BODY_PATCH, "", accounts_patch},
    {"DELETE", "/accounts/:id", ACCESS_USER, BODY_NONE, "", accounts_delete},

    {"GET", "/accounts/:id/opportunities", ACCESS_USER, BODY_NONE, LIST OPPORTUNITY_FILTERS,
     account_opportunities_list},

    {"GET", "/opportunities", ACCESS_USER, BODY_NONE, LIST " account_id" OPPORTUNITY_FILTERS, opportunities_list},
    {"POST", "/opportunities", ACCESS_USER, BODY_JSON, "", opportunities_create},
    {"PUT", "/opportunities/by-external-id/:external_id", ACCESS_USER, BODY_JSON, "", opportunities_upsert},
    {"GET", "/opportunities/:id", ACCESS_USER, BODY_NONE, "", opportunities_get},
    {"PATCH", "/opportunities/:id", ACCESS_USER, BODY_PATCH, "", opportunities_patch},
    {"DELETE", "/opportunities/:id", ACCESS_USER, BODY_NONE, "", opportunities_delete},
    {"GET", "/opportunities/:id/history", ACCESS_USER, BODY_NONE, LIST, history_list},
    {"GET", "/opportunities/:id/lines", ACCESS_USER, BODY_NONE, LIST, lines_list},
    {"POST", "/opportunities/:id/lines", ACCESS_USER, BODY_JSON, "", lines_create},
    {"PUT", "/opportunities/:id/lines", ACCESS_USER, BODY_JSON, "", lines_replace},
    {"GET", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_NONE, "", lines_get},
    {"PATCH", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_PATCH, "", lines_patch},
    {"DELETE", "/opportunities/:id/lines/:line_id", ACCESS_USER, BODY_NONE, "", lines_delete},

    {"GET", "/changes", ACCESS_USER, BODY_NONE, LIST " since types", changes_list},
    {"POST", "/batch", ACCESS_USER, BODY_JSON, "", batch_run},

    {"GET", "/dashboard/funnel", ACCESS_USER, BODY_NONE, "owner_id from to", dashboard_funnel},
    {"GET", "/dashboard/sales-grid", ACCESS_USER, BODY_NONE, "period from to owner_ids", dashboard_sales_grid},

    {"GET", "/forecast-reports", ACCESS_USER, BODY_NONE, LIST " owner_id shared", forecast_reports_list},
    {"POST", "/forecast-reports", ACCESS_USER, BODY_JSON, "", forecast_reports_create},
    {"GET", "/forecast-reports/:id", ACCESS_USER, BODY_NONE, "", forecast_reports_get},
    {"PATCH", "/forecast-reports/:id", ACCESS_USER, BODY_PATCH, "", forecast_reports_patch},
    {"DELETE", "/forecast-reports/:id", ACCESS_USER, BODY_NONE, "", forecast_reports_delete},
    {"GET", "/forecast-reports/:id/results", ACCESS_USER, BODY_NONE, "format", forecast_report_results},
    {"GET", "/reports/forecast", ACCESS_USER, BODY_NONE,
     "owner_ids from to period status_ids forecast_ids outcomes group_by split_by format", forecast_results},

    {"GET", "/webhooks", ACCESS_ADMIN, BODY_NONE, LIST, webhooks_list},
    {"POST", "/webhooks", ACCESS_ADMIN, BODY_JSON, "", webhooks_create},
    {"GET", "/webhooks/:id", ACCESS_ADMIN, BODY_NONE, "", webhooks_get},
    {"PATCH", "/webhooks/:id", ACCESS_ADMIN, BODY_PATCH, "", webhooks_patch},
    {"DELETE", "/webhooks/:id", ACCESS_ADMIN, BODY_NONE, "", webhooks_delete},
    {"POST", "/webhooks/:id/ping", ACCESS_ADMIN, BODY_NONE, "", webhooks_ping},
    {"GET", "/webhooks/:id/deliveries", ACCESS_ADMIN, BODY_NONE, LIST, webhook_deliveries_list},
    {"POST", "/webhooks/:id/deliveries/:delivery_id/retry", ACCESS_ADMIN, BODY_NONE, "", webhook_delivery_retry},

    {"GET", "/settings", ACCESS_USER, BODY_NONE, "", settings_get},
    {"PATCH", "/settings", ACCESS_ADMIN, BODY_PATCH, "", settings_patch},

    {NULL, NULL, ACCESS_PUBLIC, BODY_NONE, NULL, NULL},
};
