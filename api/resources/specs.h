/* The fields of every request body, in one place: pure data and the checks
 * the specs cannot describe, with no store calls, so the unit tests and
 * the fuzzers (tests/fuzz) link them without a database. */
#ifndef RESOURCES_SPECS_H
#define RESOURCES_SPECS_H
#include "app/validate.h"

/* At most this many lines in one opportunity body or PUT .../lines. */
#define MAX_LINES 1000

/* POST and PATCH /accounts; PUT /accounts/by-external-id/{external_id}. */
extern const struct field_spec account_fields[];
extern const struct field_spec account_replace_fields[];
/* POST /users; PATCH /users/{id}. */
extern const struct field_spec user_fields[];
extern const struct field_spec user_patch_fields[];
/* POST /users/{id}/tokens. */
extern const struct field_spec token_fields[];
/* POST and PATCH /lookups/{table}, by table. */
extern const struct field_spec lookup_status_fields[];
extern const struct field_spec lookup_forecast_fields[];
extern const struct field_spec lookup_product_fields[];
extern const struct field_spec lookup_plain_fields[];
/* POST and PATCH /webhooks, but events (resources/webhooks.c). */
extern const struct field_spec webhook_create_fields[];
extern const struct field_spec webhook_patch_fields[];
/* PATCH /settings. */
extern const struct field_spec settings_fields[];
/* POST /opportunities; PATCH /opportunities/{id}; PUT by external id. */
extern const struct field_spec opportunity_create_fields[];
extern const struct field_spec opportunity_patch_fields[];
extern const struct field_spec opportunity_replace_fields[];
/* A new line (also inside POST /opportunities and PUT .../lines); PATCH of one. */
extern const struct field_spec line_create_fields[];
extern const struct field_spec line_patch_fields[];
/* POST and PATCH /forecast-reports: the scalar fields; the list fields are
 * checked by forecast_report_validate. */
extern const struct field_spec forecast_report_create_fields[];
extern const struct field_spec forecast_report_patch_fields[];

/* Validates a forecast report body (req->body, an object): the fields by
 * specs, then the lists of ids and outcomes. Records errors on req and
 * returns false when any field is invalid. */
bool forecast_report_validate(struct request *req, const struct field_spec *specs, enum validate_mode mode);

#endif
