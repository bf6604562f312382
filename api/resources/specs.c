#include "resources/specs.h"

#include <stdio.h>
#include <string.h>

#include "store/forecast_reports.h"

/* Field specs name only what differs from zero: min and max 0, not
 * nullable, not required, no choices, no items. */
#define READ_ONLY(field_name)                                                                                          \
    {                                                                                                                  \
        .name = field_name, .type = FIELD_READ_ONLY                                                                    \
    }
#define END_FIELDS                                                                                                     \
    {                                                                                                                  \
        .name = NULL                                                                                                   \
    }

/* The fields of an account but its external id. */
#define ACCOUNT_FIELDS                                                                                                 \
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200, .required = true},                                      \
        {.name = "source_id", .type = FIELD_ID, .nullable = true}, {.name = "owner_id", .type = FIELD_ID},             \
        {.name = "website", .type = FIELD_TEXT, .max = 500, .nullable = true},                                         \
        {.name = "phone", .type = FIELD_TEXT, .max = 500, .nullable = true},                                           \
    {                                                                                                                  \
        .name = "notes", .type = FIELD_TEXT, .max = 10000, .nullable = true                                            \
    }
#define ACCOUNT_READ_ONLY_FIELDS                                                                                       \
    READ_ONLY("id"), READ_ONLY("created_at"), READ_ONLY("updated_at"), READ_ONLY("version"), READ_ONLY("deleted_at")

const struct field_spec account_fields[] = {
    ACCOUNT_FIELDS,
    {.name = "external_id", .type = FIELD_TEXT, .min = 1, .max = 200, .nullable = true},
    ACCOUNT_READ_ONLY_FIELDS,
    END_FIELDS,
};

/* PUT by external id: the external id is in the path, not the body. */
const struct field_spec account_replace_fields[] = {
    ACCOUNT_FIELDS,
    READ_ONLY("external_id"),
    ACCOUNT_READ_ONLY_FIELDS,
    END_FIELDS,
};

static const char *const roles[] = {"admin", "member", NULL};

#define USER_READ_ONLY_FIELDS READ_ONLY("id"), READ_ONLY("created_at"), READ_ONLY("updated_at"), READ_ONLY("version")

const struct field_spec user_fields[] = {
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200, .required = true},
    {.name = "email", .type = FIELD_EMAIL, .min = 3, .max = 254, .required = true},
    {.name = "role", .type = FIELD_CHOICE, .choices = roles},
    {.name = "active", .type = FIELD_BOOLEAN},
    USER_READ_ONLY_FIELDS,
    END_FIELDS,
};

/* Email is fixed once created: it identifies the person to other systems. */
const struct field_spec user_patch_fields[] = {
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200},
    {.name = "role", .type = FIELD_CHOICE, .choices = roles},
    {.name = "active", .type = FIELD_BOOLEAN},
    READ_ONLY("email"),
    USER_READ_ONLY_FIELDS,
    END_FIELDS,
};

const struct field_spec token_fields[] = {
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200, .required = true},
    END_FIELDS,
};

/* POST and PATCH /webhooks: events is checked by its handler (a list of
 * strings, which the specs do not describe), url by the URL policy too. */
#define WEBHOOK_READ_ONLY_FIELDS                                                                                       \
    READ_ONLY("id"), READ_ONLY("secret"), READ_ONLY("disabled_reason"), READ_ONLY("disabled_at"),                      \
        READ_ONLY("created_at"), READ_ONLY("updated_at"), READ_ONLY("version")

const struct field_spec webhook_create_fields[] = {
    {.name = "url", .type = FIELD_TEXT, .min = 1, .max = 2000, .required = true},
    {.name = "description", .type = FIELD_TEXT, .max = 500, .nullable = true},
    {.name = "active", .type = FIELD_BOOLEAN},
    WEBHOOK_READ_ONLY_FIELDS,
    END_FIELDS,
};

const struct field_spec webhook_patch_fields[] = {
    {.name = "url", .type = FIELD_TEXT, .min = 1, .max = 2000},
    {.name = "description", .type = FIELD_TEXT, .max = 500, .nullable = true},
    {.name = "active", .type = FIELD_BOOLEAN},
    WEBHOOK_READ_ONLY_FIELDS,
    END_FIELDS,
};

#define COMMON_FIELDS(required_label)                                                                                  \
    {.name = "label", .type = FIELD_TEXT, .min = 1, .max = 100, .required = required_label},                           \
        {.name = "position", .type = FIELD_INTEGER, .min = -1000000, .max = 1000000},                                  \
        {.name = "active", .type = FIELD_BOOLEAN}, {.name = "is_default", .type = FIELD_BOOLEAN}, READ_ONLY("id"),     \
        READ_ONLY("created_at"), READ_ONLY("updated_at"), READ_ONLY("version")

const struct field_spec lookup_status_fields[] = {
    COMMON_FIELDS(true), {.name = "probability", .type = FIELD_INTEGER, .max = 100, .nullable = true}, END_FIELDS};
const struct field_spec lookup_forecast_fields[] = {
    COMMON_FIELDS(true), {.name = "include_in_forecast", .type = FIELD_BOOLEAN}, END_FIELDS};
const struct field_spec lookup_product_fields[] = {
    COMMON_FIELDS(true), {.name = "unit_price", .type = FIELD_MONEY, .nullable = true}, END_FIELDS};
const struct field_spec lookup_plain_fields[] = {COMMON_FIELDS(true), END_FIELDS};

static const char *const periods[] = {"month", "quarter", NULL};

const struct field_spec settings_fields[] = {
    {.name = "default_close_days", .type = FIELD_INTEGER, .min = 1, .max = 3650},
    {.name = "history_grace_seconds", .type = FIELD_INTEGER, .max = 86400},
    {.name = "currency", .type = FIELD_CURRENCY},
    {.name = "sales_grid_period", .type = FIELD_CHOICE, .choices = periods},
    {.name = "fiscal_year_start_month", .type = FIELD_INTEGER, .min = 1, .max = 12},
    READ_ONLY("updated_at"),
    READ_ONLY("version"),
    END_FIELDS,
};

#define LINE_FIELDS(product_required)                                                                                  \
    {.name = "product_id", .type = FIELD_ID, .required = product_required},                                            \
        {.name = "description", .type = FIELD_TEXT, .max = 500, .nullable = true},                                     \
        {.name = "quantity", .type = FIELD_QUANTITY}, {.name = "unit_price", .type = FIELD_MONEY},                     \
        {.name = "position", .type = FIELD_INTEGER, .min = -1000000, .max = 1000000}, READ_ONLY("id"),                 \
        READ_ONLY("opportunity_id"), READ_ONLY("total"), READ_ONLY("created_at"), READ_ONLY("updated_at"),             \
        READ_ONLY("version"), END_FIELDS

const struct field_spec line_create_fields[] = {LINE_FIELDS(true)};
const struct field_spec line_patch_fields[] = {LINE_FIELDS(false)};

#define OPPORTUNITY_FIELDS                                                                                             \
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200}, {.name = "owner_id", .type = FIELD_ID},                \
        {.name = "status_id", .type = FIELD_ID}, {.name = "close_date", .type = FIELD_DATE},                           \
        {.name = "next_step", .type = FIELD_TEXT, .max = 500, .nullable = true},                                       \
        {.name = "forecast_id", .type = FIELD_ID}, {.name = "probability", .type = FIELD_INTEGER, .max = 100},         \
        {.name = "competitor", .type = FIELD_TEXT, .max = 200, .nullable = true},                                      \
        {.name = "source_id", .type = FIELD_ID, .nullable = true},                                                     \
        {.name = "loss_reason_id", .type = FIELD_ID, .nullable = true},                                                \
        {.name = "description", .type = FIELD_TEXT, .max = 10000, .nullable = true},                                   \
        {.name = "win_loss_report", .type = FIELD_TEXT, .max = 10000, .nullable = true}, READ_ONLY("id"),              \
        READ_ONLY("value"), READ_ONLY("weighted_value"), READ_ONLY("outcome"), READ_ONLY("created_by"),                \
        READ_ONLY("updated_at"), READ_ONLY("version"), READ_ONLY("deleted_at")

const struct field_spec opportunity_create_fields[] = {
    {.name = "account_id", .type = FIELD_ID, .required = true},
    {.name = "external_id", .type = FIELD_TEXT, .min = 1, .max = 200, .nullable = true},
    {.name = "created_at", .type = FIELD_TIMESTAMP}, /* admins only: checked with the caller */
    {.name = "lines", .type = FIELD_OBJECTS, .max = MAX_LINES, .items = line_create_fields},
    OPPORTUNITY_FIELDS,
    END_FIELDS,
};

const struct field_spec opportunity_patch_fields[] = {
    {.name = "account_id", .type = FIELD_ID},
    {.name = "external_id", .type = FIELD_TEXT, .min = 1, .max = 200, .nullable = true},
    READ_ONLY("created_at"),
    READ_ONLY("lines"),
    OPPORTUNITY_FIELDS,
    END_FIELDS,
};

/* PUT by external id: the id is in the path; lines, when given, replace the set. */
const struct field_spec opportunity_replace_fields[] = {
    {.name = "account_id", .type = FIELD_ID, .required = true},
    READ_ONLY("external_id"),
    {.name = "created_at", .type = FIELD_TIMESTAMP},
    {.name = "lines", .type = FIELD_OBJECTS, .max = MAX_LINES, .items = line_create_fields},
    OPPORTUNITY_FIELDS,
    END_FIELDS,
};

#define REPORT_FIELDS(name_required)                                                                                   \
    {.name = "name", .type = FIELD_TEXT, .min = 1, .max = 200, .required = name_required},                             \
        {.name = "shared", .type = FIELD_BOOLEAN}, {.name = "from", .type = FIELD_DATE, .nullable = true},             \
        {.name = "to", .type = FIELD_DATE, .nullable = true},                                                          \
        {.name = "period", .type = FIELD_CHOICE, .nullable = true, .choices = forecast_periods},                       \
        {.name = "group_by", .type = FIELD_CHOICE, .choices = forecast_group_bys},                                     \
        {.name = "split_by", .type = FIELD_CHOICE, .choices = forecast_split_bys}, READ_ONLY("id"),                    \
        READ_ONLY("owner_id"), READ_ONLY("results_url"), READ_ONLY("created_at"), READ_ONLY("updated_at"),             \
        READ_ONLY("version"), END_FIELDS

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
