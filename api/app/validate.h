/* Declarative validation of JSON request bodies: each resource lists its
 * fields once; the walker reports every problem (unknown, read-only,
 * missing, wrong type, out of range) before anything reaches the store. */
#ifndef VALIDATE_H
#define VALIDATE_H
#include <stdbool.h>

#include "http/reply.h"

enum field_type {
    FIELD_TEXT, /* string, length in characters within [min, max] */
    FIELD_EMAIL, /* text that looks like an address */
    FIELD_ID, /* positive integer */
    FIELD_INTEGER, /* integer within [min, max] */
    FIELD_BOOLEAN,
    FIELD_MONEY, /* decimal string or number, <= 2 fraction digits, [0, 1e9]; normalised to a string */
    FIELD_CHOICE, /* one of the strings in choices */
    FIELD_DATE, /* "YYYY-MM-DD" */
    FIELD_TIMESTAMP, /* RFC 3339 */
    FIELD_QUANTITY, /* number > 0 and <= 1e6, <= 3 fraction digits; normalised to a decimal string */
    FIELD_CURRENCY, /* an ISO 4217 code in use */
    FIELD_OBJECTS, /* array (at most max) of objects checked against `items` */
    FIELD_READ_ONLY, /* present in representations, refused in input */
};

struct field_spec {
    const char *name;
    enum field_type type;
    long min, max;
    bool nullable;
    bool required; /* on create and replace */
    const char *const *choices; /* FIELD_CHOICE, NULL-terminated */
    const struct field_spec *items; /* FIELD_OBJECTS: the fields of each element */
};

enum validate_mode { VALIDATE_CREATE, VALIDATE_PATCH, VALIDATE_REPLACE };

/* Checks req->body (an object) against specs; money values are rewritten in
 * place to their canonical string. Records errors on req and returns false
 * when any field is invalid. */
bool validate_body(struct request *req, const struct field_spec *specs, enum validate_mode mode);
/* Same for any object; error field names get the prefix ("lines[2]."). */
bool validate_object(struct request *req, json_t *object, const struct field_spec *specs, enum validate_mode mode,
                     const char *prefix);
/* Validates an array of objects (a bare JSON array body such as PUT lines). */
bool validate_array(struct request *req, json_t *array, const struct field_spec *items, size_t max, const char *prefix);

/* Validates and normalises one money value; returns a new "123.40" or NULL. */
char *money_normalise(const json_t *value);
/* Validates and normalises one quantity; returns a new "1.5" or NULL. */
char *quantity_normalise(const json_t *value);

/* True when s looks like an email address (the rule POST /users applies). */
bool validate_email(const char *s);

/* A copy of object (new reference) without the fields named in req's errors
 * from errors_before on (a field, or anything inside it: "lines[2].x");
 * an empty object when the error list is full (HTTP_MAX_FIELD_ERRORS), as
 * the fields refused after it filled are named nowhere. */
json_t *validate_valid_fields(const struct request *req, const json_t *object, int errors_before);

/* Returns the body as compact JSON text (new). */
char *validate_dump(const json_t *body);

#endif
