/* /forecast-reports: saved forecast report definitions (SPEC 4.1). A
 * private report exists only for its owner; shared ones are visible to
 * everyone; only the owner or an admin may change or delete one. Those
 * rules, the window rules and the id checks live in the SQL functions
 * (db/functions/forecast_reports.sql); this file checks the shape of
 * the body. Running a report is in report_results.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/forecast_reports.h"
#include "util/text.h"
#include "app/validate.h"

void forecast_reports_list(struct request *req)
{
    struct forecast_report_filter f = {0};
    bool ok = query_id_page(req, "forecast-reports", &f.limit, &f.after) & query_opt_id(req, "owner_id", &f.owner_id) &
              query_opt_bool(req, "shared", &f.shared);
    if (!ok) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_forecast_report_list(&req->app->auth, &f, &res);
    reply_store_list(req, &res, "forecast-reports");
    store_result_cleanup(&res);
}

static const struct resource_kind forecast_reports = {
    .name = "forecast report",
    .location = "/forecast-reports",
    .create_fields = forecast_report_create_fields,
    .patch_fields = forecast_report_patch_fields,
    .validate = forecast_report_validate,
    .get = store_forecast_report_get,
    .create = store_forecast_report_create,
    .patch = store_forecast_report_patch,
    .remove = store_forecast_report_delete,
};

void forecast_reports_create(struct request *req)
{
    crud_create(req, &forecast_reports);
}

void forecast_reports_get(struct request *req)
{
    crud_get(req, &forecast_reports);
}

void forecast_reports_patch(struct request *req)
{
    crud_patch(req, &forecast_reports);
}

void forecast_reports_delete(struct request *req)
{
    crud_delete(req, &forecast_reports);
}
