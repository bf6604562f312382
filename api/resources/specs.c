#include "resources/specs.h"

#include <stdio.h>
#include <string.h>

#include "store/forecast_reports.h"

#define READ_ONLY(name)                                                                                                \
    {                                                                                                                  \
        name, FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL                                                          \
    }

const struct field_spec account_fields[] = {
    {"name", FIELD_TEXT, 1, 200, false, true, NULL},
    {"source_id", FIELD_ID, 0, 0, true, false, NULL},
    {"owner_id", FIELD_ID, 0, 0, false, false, NULL},
    {"website", FIELD_TEXT, 0, 500, true, false, NULL},
    {"phone", FIELD_TEXT, 0, 500, true, false, NULL},
    {"notes", FIELD_TEXT, 0, 10000, true, false, NULL},
    {"external_id", FIELD_TEXT, 1, 200, true, false, NULL},
    READ_ONLY("id"),
    READ_ONLY("created_at"),
    READ_ONLY("updated_at"),
    READ_ONLY("version"),
    READ_ONLY("deleted_at"),
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL},
};

/* PUT by external id: the external id is in the path, not the body. */
const struct field_spec account_replace_fields[] = {
    {"name", FIELD_TEXT, 1, 200, false, true, NULL},
    {"source_id", FIELD_ID, 0, 0, true, false, NULL},
    {"owner_id", FIELD_ID, 0, 0, false, false, NULL},
    {"website", FIELD_TEXT, 0, 500, true, false, NULL},
    {"phone", FIELD_TEXT, 0, 500, true, false, NULL},
    {"notes", FIELD_TEXT, 0, 10000, true, false, NULL},
    READ_ONLY("external_id"),
    READ_ONLY("id"),
    READ_ONLY("created_at"),
    READ_ONLY("updated_at"),
    READ_ONLY("version"),
    READ_ONLY("deleted_at"),
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL},
};

static const char *const roles[] = {"admin", "member", NULL};

const struct field_spec user_fields[] = {
    {"name", FIELD_TEXT, 1, 200, false, true, NULL},
    {"email", FIELD_EMAIL, 3, 254, false, true, NULL},
    {"role", FIELD_CHOICE, 0, 0, false, false, roles},
    {"active", FIELD_BOOLEAN, 0, 0, false, false, NULL},
    {"id", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"created_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"updated_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"version", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL},
};

/* Email is fixed once created: it identifies the person to other systems. */
const struct field_spec user_patch_fields[] = {
    {"name", FIELD_TEXT, 1, 200, false, false, NULL},
    {"role", FIELD_CHOICE, 0, 0, false, false, roles},
    {"active", FIELD_BOOLEAN, 0, 0, false, false, NULL},
    {"email", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"id", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"created_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"updated_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {"version", FIELD_READ_ONLY, 0, 0, false, false, NULL},
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL},
};

const struct field_spec token_fields[] = {
    {"name", FIELD_TEXT, 1, 200, false, true, NULL},
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL},
};

#define COMMON_FIELDS(required_label)                                                                                  \
    {"label", FIELD_TEXT, 1, 100, false, required_label, NULL},                                                        \
        {"position", FIELD_INTEGER, -1000000, 1000000, false, false, NULL},                                            \
        {"active", FIELD_BOOLEAN, 0, 0, false, false, NULL}, {"is_default", FIELD_BOOLEAN, 0, 0, false, false, NULL},  \
        {"id", FIELD_READ_ONLY, 0, 0, false, false, NULL}, {"created_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},  \
        {"updated_at", FIELD_READ_ONLY, 0, 0, false, false, NULL},                                                     \
    {                                                                                                                  \
        "version", FIELD_READ_ONLY, 0, 0, false, false, NULL                                                           \
    }
#define END_FIELDS                                                                                                     \
    {                                                                                                                  \
        NULL, FIELD_TEXT, 0, 0, false, false, NULL                                                                     \
    }

const struct field_spec lookup_status_fields[] = {
    COMMON_FIELDS(true), {"probability", FIELD_INTEGER, 0, 100, true, false, NULL}, END_FIELDS};
const struct field_spec lookup_forecast_fields[] = {
    COMMON_FIELDS(true), {"include_in_forecast", FIELD_BOOLEAN, 0, 0, false, false, NULL}, END_FIELDS};
const struct field_spec lookup_product_fields[] = {
    COMMON_FIELDS(true), {"unit_price", FIELD_MONEY, 0, 0, true, false, NULL}, END_FIELDS};
const struct field_spec lookup_plain_fields[] = {COMMON_FIELDS(true), END_FIELDS};

static const char *const periods[] = {"month", "quarter", NULL};

const struct field_spec settings_fields[] = {
    {"default_close_days", FIELD_INTEGER, 1, 3650, false, false, NULL, NULL},
    {"history_grace_seconds", FIELD_INTEGER, 0, 86400, false, false, NULL, NULL},
    {"currency", FIELD_CURRENCY, 0, 0, false, false, NULL, NULL},
    {"sales_grid_period", FIELD_CHOICE, 0, 0, false, false, periods, NULL},
    {"fiscal_year_start_month", FIELD_INTEGER, 1, 12, false, false, NULL, NULL},
    {"updated_at", FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL},
    {"version", FIELD_READ_ONLY, 0, 0, false, false, NULL, NULL},
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL},
};

#define LINE_FIELDS(product_required)                                                                                  \
    {"product_id", FIELD_ID, 0, 0, false, product_required, NULL, NULL},                                               \
        {"description", FIELD_TEXT, 0, 500, true, false, NULL, NULL},                                                  \
        {"quantity", FIELD_QUANTITY, 0, 0, false, false, NULL, NULL},                                                  \
        {"unit_price", FIELD_MONEY, 0, 0, false, false, NULL, NULL},                                                   \
        {"position", FIELD_INTEGER, -1000000, 1000000, false, false, NULL, NULL}, READ_ONLY("id"),                     \
        READ_ONLY("opportunity_id"), READ_ONLY("total"), READ_ONLY("created_at"), READ_ONLY("updated_at"),             \
        READ_ONLY("version"),                                                                                          \
    {                                                                                                                  \
        NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL                                                               \
    }

const struct field_spec line_create_fields[] = {LINE_FIELDS(true)};
const struct field_spec line_patch_fields[] = {LINE_FIELDS(false)};

#define OPPORTUNITY_FIELDS                                                                                             \
    {"name", FIELD_TEXT, 1, 200, false, false, NULL, NULL}, {"owner_id", FIELD_ID, 0, 0, false, false, NULL, NULL},    \
        {"status_id", FIELD_ID, 0, 0, false, false, NULL, NULL},                                                       \
        {"close_date", FIELD_DATE, 0, 0, false, false, NULL, NULL},                                                    \
        {"next_step", FIELD_TEXT, 0, 500, true, false, NULL, NULL},                                                    \
        {"forecast_id", FIELD_ID, 0, 0, false, false, NULL, NULL},                                                     \
        {"probability", FIELD_INTEGER, 0, 100, false, false, NULL, NULL},                                              \
        {"competitor", FIELD_TEXT, 0, 200, true, false, NULL, NULL},                                                   \
        {"source_id", FIELD_ID, 0, 0, true, false, NULL, NULL},                                                        \
        {"loss_reason_id", FIELD_ID, 0, 0, true, false, NULL, NULL},                                                   \
        {"description", FIELD_TEXT, 0, 10000, true, false, NULL, NULL},                                                \
        {"win_loss_report", FIELD_TEXT, 0, 10000, true, false, NULL, NULL}, READ_ONLY("id"), READ_ONLY("value"),       \
        READ_ONLY("weighted_value"), READ_ONLY("outcome"), READ_ONLY("created_by"), READ_ONLY("updated_at"),           \
        READ_ONLY("version"), READ_ONLY("deleted_at")

const struct field_spec opportunity_create_fields[] = {
    {"account_id", FIELD_ID, 0, 0, false, true, NULL, NULL},
    {"external_id", FIELD_TEXT, 1, 200, true, false, NULL, NULL},
    {"created_at", FIELD_TIMESTAMP, 0, 0, false, false, NULL, NULL}, /* admins only: checked with the caller */
    {"lines", FIELD_OBJECTS, 0, MAX_LINES, false, false, NULL, line_create_fields},
    OPPORTUNITY_FIELDS,
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL},
};

const struct field_spec opportunity_patch_fields[] = {
    {"account_id", FIELD_ID, 0, 0, false, false, NULL, NULL},
    {"external_id", FIELD_TEXT, 1, 200, true, false, NULL, NULL},
    READ_ONLY("created_at"),
    READ_ONLY("lines"),
    OPPORTUNITY_FIELDS,
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL},
};

/* PUT by external id: the id is in the path; lines, when given, replace the set. */
const struct field_spec opportunity_replace_fields[] = {
    {"account_id", FIELD_ID, 0, 0, false, true, NULL, NULL},
    READ_ONLY("external_id"),
    {"created_at", FIELD_TIMESTAMP, 0, 0, false, false, NULL, NULL},
    {"lines", FIELD_OBJECTS, 0, MAX_LINES, false, false, NULL, line_create_fields},
    OPPORTUNITY_FIELDS,
    {NULL, FIELD_TEXT, 0, 0, false, false, NULL, NULL},
};

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

const struct field_spec forecast_report_create_fields[] = {REPORT_FIELDS(true)};
const struct field_spec forecast_report_patch_fields[] = {REPORT_FIELDS(false)};

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
bool forecast_report_validate(struct request *req, const struct field_spec *specs, enum validate_mode mode)
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
