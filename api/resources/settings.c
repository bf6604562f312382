/* /settings: company-wide defaults; everyone reads, admins change. */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"
#include "store/settings.h"
#include "validate.h"

static const char *const periods[] = {"month", "quarter", NULL};

static const struct field_spec settings_fields[] = {
    {"default_close_days", FIELD_INTEGER, 1, 3650, false, false, NULL, NULL},
    {"history_grace_seconds", FIELD_INTEGER, 0, 86400, false, false, NULL, NULL},
    {"currency", FIELD_CURRENCY, 0, 0, false, false, NULL, NULL},
    {"sales_grid_period", FIELD_CHOICE, 0, 0, false, false, periods, NULL},
    {"fiscal_year_start_month", FIELD_INTEGER, 1, 12, false, false, NULL, NULL},
    {"updated_at", FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL},
    {"version", FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL},
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL},
};

void settings_get(struct request *req)
{
    struct store_result res;
    store_result_init(&res);
    store_settings_get(&req->auth, &res);
    http_reply_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
}

void settings_patch(struct request *req)
{
    if (!http_require_object(req))
        return;
    if (!validate_body(req, settings_fields, VALIDATE_PATCH)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The settings have invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_settings_patch(&req->auth, json, req->if_match, &res);
    http_reply_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
    free(json);
}
