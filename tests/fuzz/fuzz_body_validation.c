/* Request bodies: JSON text -> the steps the dispatcher and the handlers
 * take (json_keep_written_numbers, json_loadb with JSON_REJECT_DUPLICATES,
 * then every handler's validation with its resource's real field specs in
 * its mode: create, patch or replace; and PUT .../lines' bare array), then
 * the reply. Besides crashes, leaks
 * and undefined behaviour, it checks that validation keeps the body's
 * fields (it only rewrites money and quantities), that a body it accepts
 * holds canonical money and quantities and no number the client wrote
 * with a fraction, and that the problem reply lists every error. */
#include <string.h>

#include "resources/specs.h"
#include "support.h"

typedef bool (*validate_fn)(struct request *req, const struct field_spec *specs, enum validate_mode mode);

/* Every body the handlers validate: the specs and the mode they use. */
static const struct body_kind {
    const char *name;
    const struct field_spec *specs;
    enum validate_mode mode;
    validate_fn validate; /* NULL: validate_body */
} kinds[] = {
    {"POST /accounts", account_fields, VALIDATE_CREATE, NULL},
    {"PATCH /accounts/{id}", account_fields, VALIDATE_PATCH, NULL},
    {"PUT /accounts/by-external-id/{external_id}", account_replace_fields, VALIDATE_REPLACE, NULL},
    {"POST /users", user_fields, VALIDATE_CREATE, NULL},
    {"PATCH /users/{id}", user_patch_fields, VALIDATE_PATCH, NULL},
    {"POST /users/{id}/tokens", token_fields, VALIDATE_CREATE, NULL},
    {"POST /lookups/opportunity-status", lookup_status_fields, VALIDATE_CREATE, NULL},
    {"PATCH /lookups/opportunity-status/{id}", lookup_status_fields, VALIDATE_PATCH, NULL},
    {"POST /lookups/opportunity-forecast", lookup_forecast_fields, VALIDATE_CREATE, NULL},
    {"PATCH /lookups/opportunity-forecast/{id}", lookup_forecast_fields, VALIDATE_PATCH, NULL},
    {"POST /lookups/product", lookup_product_fields, VALIDATE_CREATE, NULL},
    {"PATCH /lookups/product/{id}", lookup_product_fields, VALIDATE_PATCH, NULL},
    {"POST /lookups/source", lookup_plain_fields, VALIDATE_CREATE, NULL},
    {"PATCH /lookups/source/{id}", lookup_plain_fields, VALIDATE_PATCH, NULL},
    {"PATCH /settings", settings_fields, VALIDATE_PATCH, NULL},
    {"POST /opportunities", opportunity_create_fields, VALIDATE_CREATE, NULL},
    {"PATCH /opportunities/{id}", opportunity_patch_fields, VALIDATE_PATCH, NULL},
    {"PUT /opportunities/by-external-id/{external_id}", opportunity_replace_fields, VALIDATE_REPLACE, NULL},
    {"POST /opportunities/{id}/lines", line_create_fields, VALIDATE_CREATE, NULL},
    {"PATCH /opportunities/{id}/lines/{line_id}", line_patch_fields, VALIDATE_PATCH, NULL},
    {"POST /forecast-reports", forecast_report_create_fields, VALIDATE_CREATE, forecast_report_validate},
    {"PATCH /forecast-reports/{id}", forecast_report_patch_fields, VALIDATE_PATCH, forecast_report_validate},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* The fields of an accepted object: money and quantities canonical,
 * lines (FIELD_OBJECTS) checked item by item. */
static void check_accepted(const json_t *object, const struct field_spec *specs)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value)
    {
        const struct field_spec *spec = fuzz_find_spec(specs, key);
        if (spec == NULL) /* the forecast report lists, checked apart */
            continue;
        if (json_is_null(value)) {
            FUZZ_ASSERT(spec->nullable);
            continue;
        }
        switch (spec->type) {
        case FIELD_MONEY:
            FUZZ_ASSERT(json_is_string(value) && fuzz_canonical_money(json_string_value(value)));
            break;
        case FIELD_QUANTITY:
            FUZZ_ASSERT(json_is_string(value) && fuzz_canonical_quantity(json_string_value(value)));
            break;
        case FIELD_OBJECTS: {
            size_t i;
            json_t *item;
            FUZZ_ASSERT(json_array_size(value) <= (size_t)spec->max);
            json_array_foreach(value, i, item) check_accepted(item, spec->items);
            break;
        }
        case FIELD_READ_ONLY:
            FUZZ_ASSERT(!"a read-only field was accepted");
            break;
        default:
            break;
        }
    }
}

/* Same keys in the same numbers: validation rewrites values only. */
static void check_same_keys(const json_t *before, const json_t *after)
{
    FUZZ_ASSERT(json_object_size(before) == json_object_size(after));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)before, key, value) FUZZ_ASSERT(json_object_get(after, key) != NULL);
}

static void run_object(const json_t *parsed, const struct body_kind *kind)
{
    enum validate_mode mode = kind->mode;
    fuzz_context = kind->name;
    struct request req;
    fuzz_request_init(&req, NULL);
    req.body = json_deep_copy(parsed);
    if (!http_require_object(&req))
        goto out;
    if (mode == VALIDATE_REPLACE) /* PUT by external id: an echoed one is dropped */
        http_drop_echoed_external_id(&req, "crm-1001");
    json_t *before = json_copy(req.body);
    bool ok = kind->validate ? kind->validate(&req, kind->specs, mode) : validate_body(&req, kind->specs, mode);
    FUZZ_ASSERT(ok == (req.error_count == 0));
    check_same_keys(before, req.body);
    json_decref(before);
    if (ok) {
        check_accepted(req.body, kind->specs);
        FUZZ_ASSERT(!fuzz_has_written_number(req.body));
        char *json = validate_dump(req.body); /* what the store is given */
        json_t *again = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(again != NULL && json_equal(again, req.body));
        json_decref(again);
        free(json);
        if (mode != VALIDATE_PATCH)
            for (const struct field_spec *s = kind->specs; s->name; s++)
                FUZZ_ASSERT(!s->required || json_object_get(req.body, s->name) != NULL);
    } else {
        http_reply_problem(&req, PROBLEM_VALIDATION, "The body has invalid fields.");
    }
out:
    fuzz_check_reply(&req);
    fuzz_request_cleanup(&req);
}

/* PUT /opportunities/{id}/lines: a bare array of new lines. */
static void run_lines_array(const json_t *parsed)
{
    fuzz_context = "PUT /opportunities/{id}/lines";
    struct request req;
    fuzz_request_init(&req, NULL);
    req.body = json_deep_copy(parsed);
    if (!json_is_array(req.body)) {
        http_reply_problem(&req, PROBLEM_BAD_REQUEST, "The body must be a JSON array of lines.");
    } else if (!validate_array(&req, req.body, line_create_fields, MAX_LINES, "")) {
        FUZZ_ASSERT(req.error_count > 0);
        http_reply_problem(&req, PROBLEM_VALIDATION, "Some lines have invalid fields.");
    } else {
        FUZZ_ASSERT(req.error_count == 0 && json_array_size(req.body) <= MAX_LINES);
        size_t i;
        json_t *line;
        json_array_foreach(req.body, i, line) check_accepted(line, line_create_fields);
        FUZZ_ASSERT(!fuzz_has_written_number(req.body));
        free(validate_dump(req.body));
    }
    fuzz_check_reply(&req);
    fuzz_request_cleanup(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *parsed = fuzz_parse_body(data, size);
    if (parsed == NULL)
        return 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        run_object(parsed, &kinds[k]);
    run_lines_array(parsed);
    json_decref(parsed);
    return 0;
}
