/* /forecast-reports: saved forecast report definitions (SPEC 4.1). A
 * private report exists only for its owner; shared ones are visible to
 * everyone; only the owner or an admin may change or delete one. Those
 * rules, the window rules and the id checks live in the SQL functions
 * (db/migrations/0008_forecast_reports.sql); this file checks the shape of
 * the body. Running a report is in report_results.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "store/forecast_reports.h"
#include "util/text.h"
#include "validate.h"

#define READ_ONLY(name)                                                                                                \
    {                                                                                                                  \
        name, FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL                                                          \
    }
#define REPORT_FIELDS(name_required)                                                                                   \
    {"name", FIELD_TEXT, 1, 200, false, name_required, NULL, NULL},                                                    \
        {"shared", FIELD_BOOLEAN, 0, 0, false, false, NULL, NULL},                                                     \
        {"from", FIELD_DATE, 0, 0, true, false, NULL, NULL}, {"to", FIELD_DATE, 0, 0, true, false, NULL, NULL},        \
        {"period", FIELD_CHOICE, 0, 0, true, false, forecast_periods, NULL},                                           \
        {"group_by", FIELD_CHOICE, 0, 0, false, false, forecast_group_bys, NULL},                                      \
        {"split_by", FIELD_CHOICE, 0, 0, false, false, forecast_split_bys, NULL}, READ_ONLY("id"),                     \
        READ_ONLY("owner_id"), READ_ONLY("results_url"), READ_ONLY("created_at"), READ_ONLY("updated_at"),             \
        READ_ONLY("version"),                                                                                          \
    {                                                                                                                  \
        NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL                                                               \
    }

static const struct field_spec report_create_fields[] = {REPORT_FIELDS(true)};
static const struct field_spec report_patch_fields[] = {REPORT_FIELDS(false)};

/* The list fields, which the field specs cannot describe: arrays of ids,
 * and the array of outcomes. */
static const char *const id_lists[] = {"owner_ids", "status_ids", "forecast_ids", NULL};

static bool is_choice(const char *const *choices, const char *s)
{
    for (const char *const *c = choices; *c; c++)
        if (strcmp(*c, s) == 0)
            return true;
    return false;
}

/* An array of distinct positive ids, or of distinct outcomes. */
static void check_list(struct request *req, const char *name, const json_t *value, bool outcomes)
{
    char field[64];
    if (json_is_null(value)) {
        http_field_error(req, name, "cannot be null");
        return;
    }
    if (!json_is_array(value)) {
        http_field_error(req, name,
                         outcomes ? "must be an array of outcomes (open, won, lost)" : "must be an array of ids");
        return;
    }
    if (json_array_size(value) > FORECAST_MAX_LIST) {
        http_field_error(req, name, "must have at most %d elements", FORECAST_MAX_LIST);
        return;
    }
    if (outcomes && json_array_size(value) == 0) {
        http_field_error(req, name, "must name at least one of open, won, lost");
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        snprintf(field, sizeof field, "%s[%zu]", name, i);
        bool ok = outcomes ? json_is_string(item) && is_choice(forecast_outcomes, json_string_value(item))
                           : json_is_integer(item) && json_integer_value(item) > 0;
        if (!ok) {
            http_field_error(req, field,
                             outcomes ? "must be one of: open, won, lost" : "must be a positive whole number (an id)");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (json_equal(item, json_array_get(value, j))) {
                http_field_error(req, field, "repeats %s[%zu]", name, j);
                break;
            }
    }
}

/* Checks the body: the scalar fields by spec, then the lists. */
static bool validate_report(struct request *req, const struct field_spec *specs, enum validate_mode mode)
{
    json_t *lists = json_object();
    const char *names[] = {id_lists[0], id_lists[1], id_lists[2], "outcomes"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *value = json_object_get(req->body, names[i]);
        if (value) {
            json_object_set(lists, names[i], value);
            json_object_del(req->body, names[i]);
        }
    }
    validate_body(req, specs, mode);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *value = json_object_get(lists, names[i]);
        if (value)
            check_list(req, names[i], value, strcmp(names[i], "outcomes") == 0);
    }
    json_object_update(req->body, lists);
    json_decref(lists);
    return req->error_count == 0;
}

void forecast_reports_list(struct request *req)
{
    struct forecast_report_filter f = {0};
    int64_t owner_id;
    bool has_owner, shared;
    char owner_text[24];
    char *after = NULL;
    bool ok = http_query_page(req, "forecast-reports", http_key_is_id, &f.limit, &after) &
              http_query_id(req, "owner_id", &owner_id, &has_owner) & http_query_bool(req, "shared", &shared);
    if (!ok) {
        free(after);
        http_reply_query_errors(req);
        return;
    }
    if (has_owner) {
        snprintf(owner_text, sizeof owner_text, "%lld", (long long)owner_id);
        f.owner_id = owner_text;
    }
    f.shared = http_query(req, "shared");
    f.after = after;
    struct store_result res;
    store_result_init(&res);
    store_forecast_report_list(&req->auth, &f, &res);
    http_reply_list_result(req, &res, "forecast-reports");
    store_result_cleanup(&res);
    free(after);
}

static const struct resource_kind forecast_reports = {
    .name = "forecast report",
    .location = "/forecast-reports",
    .create_fields = report_create_fields,
    .patch_fields = report_patch_fields,
    .validate = validate_report,
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
