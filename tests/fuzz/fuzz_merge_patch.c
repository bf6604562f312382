/* PATCH bodies, JSON merge patches (RFC 7396): JSON text -> the steps of
 * every PATCH handler (crud_patch, lines_patch, lookups_patch,
 * settings_patch): parse as the dispatcher does, require an object,
 * validate against the resource's patch specs in VALIDATE_PATCH mode (a
 * forecast report's lists too), then either the merge patch the store
 * applies or, for a refused one, the copy of its valid fields that the
 * database checks (validate_valid_fields) to list the errors it finds too.
 *
 * Checked besides crashes, leaks and undefined behaviour:
 * - a null member (RFC 7396: remove the field) is accepted only for a
 *   nullable field, and a patch never needs a required field;
 * - the patch keeps its members (validation rewrites money and quantities
 *   only) and an accepted one holds no number written with a fraction;
 * - the copy sent to the database's check holds no field the specs know
 *   with a value they refuse: its SQL casts the values it reads, so one
 *   such value would turn the 422 into a 500. */
#include <string.h>

#include "resources/specs.h"
#include "support.h"

typedef bool (*validate_fn)(struct request *req, const struct field_spec *specs, enum validate_mode mode);

static const struct patch_kind {
    const char *name;
    const struct field_spec *specs;
    validate_fn validate; /* NULL: validate_body */
    bool checked; /* a refused patch goes to the database's check */
} kinds[] = {
    {"PATCH /accounts/{id}", account_fields, NULL, true},
    {"PATCH /users/{id}", user_patch_fields, NULL, false},
    {"PATCH /lookups/opportunity-status/{id}", lookup_status_fields, NULL, false},
    {"PATCH /lookups/opportunity-forecast/{id}", lookup_forecast_fields, NULL, false},
    {"PATCH /lookups/product/{id}", lookup_product_fields, NULL, false},
    {"PATCH /lookups/source/{id}", lookup_plain_fields, NULL, false},
    {"PATCH /settings", settings_fields, NULL, false},
    {"PATCH /opportunities/{id}", opportunity_patch_fields, NULL, true},
    {"PATCH /opportunities/{id}/lines/{line_id}", line_patch_fields, NULL, true},
    {"PATCH /forecast-reports/{id}", forecast_report_patch_fields, forecast_report_validate, false},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* Validates a lone member of a patch as the handler would: the errors it
 * gets, on a scratch request. */
static int member_errors(const struct patch_kind *kind, const char *key, json_t *value)
{
    struct request req;
    fuzz_request_init(&req, NULL);
    req.body = json_object();
    json_object_set(req.body, key, value);
    if (kind->validate)
        kind->validate(&req, kind->specs, VALIDATE_PATCH);
    else
        validate_body(&req, kind->specs, VALIDATE_PATCH);
    int errors = req.error_count;
    fuzz_request_cleanup(&req);
    return errors;
}

/* What the database's check is given: no member the specs know whose
 * value as sent (in parsed) they refuse, nor a number written with a
 * fraction. */
static void check_valid_copy(const struct patch_kind *kind, const json_t *copy, const json_t *parsed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)copy, key, value)
    {
        if (fuzz_find_spec(kind->specs, key) == NULL)
            continue; /* unknown to the specs: the check ignores it */
        if (member_errors(kind, key, json_object_get(parsed, key)) != 0) {
            fprintf(stderr, "the copy for the check keeps the refused field \"%s\"\n", key);
            FUZZ_ASSERT(!"a refused field reaches the database's check");
        }
        FUZZ_ASSERT(!fuzz_has_written_number(value));
    }
}

static void run_patch(const json_t *parsed, const struct patch_kind *kind)
{
    fuzz_context = kind->name;
    struct request req;
    fuzz_request_init(&req, NULL);
    req.method = "PATCH";
    req.body = json_deep_copy(parsed);
    if (!http_require_object(&req))
        goto out;
    bool ok = kind->validate ? kind->validate(&req, kind->specs, VALIDATE_PATCH)
                             : validate_body(&req, kind->specs, VALIDATE_PATCH);
    FUZZ_ASSERT(ok == (req.error_count == 0));
    FUZZ_ASSERT(json_object_size(req.body) == json_object_size(parsed));
    if (ok) {
        const char *key;
        json_t *value;
        json_object_foreach(req.body, key, value)
        {
            const struct field_spec *spec = fuzz_find_spec(kind->specs, key);
            FUZZ_ASSERT(spec != NULL || kind->validate != NULL); /* unknown fields are refused */
            if (spec && json_is_null(value))
                FUZZ_ASSERT(spec->nullable); /* removing a field that must have a value */
            if (spec && spec->type == FIELD_MONEY && !json_is_null(value))
                FUZZ_ASSERT(fuzz_canonical_money(json_string_value(value)));
            if (spec && spec->type == FIELD_QUANTITY && !json_is_null(value))
                FUZZ_ASSERT(fuzz_canonical_quantity(json_string_value(value)));
        }
        FUZZ_ASSERT(!fuzz_has_written_number(req.body));
        char *json = validate_dump(req.body); /* the merge patch the store applies */
        json_t *again = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(again != NULL && json_equal(again, req.body));
        json_decref(again);
        free(json);
    } else {
        if (kind->checked) {
            json_t *valid = validate_valid_fields(&req, req.body, 0);
            FUZZ_ASSERT(json_is_object(valid));
            check_valid_copy(kind, valid, parsed);
            free(validate_dump(valid));
            json_decref(valid);
        }
        http_reply_problem(&req, PROBLEM_VALIDATION, "The patch has invalid fields.");
    }
out:
    fuzz_check_reply(&req);
    fuzz_request_cleanup(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *parsed = fuzz_parse_body(data, size);
    if (parsed == NULL)
        return 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        run_patch(parsed, &kinds[k]);
    json_decref(parsed);
    return 0;
}
