#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/text.h"

static const struct field_spec *find_spec(const struct field_spec *specs, const char *name)
{
    for (const struct field_spec *s = specs; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* Parses a decimal text with at most two fraction digits into cents. */
static bool money_text_to_cents(const char *s, long long *cents)
{
    long long whole = 0;
    int frac_digits = 0;
    long long frac = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 1000000000LL)
            return false;
    }
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++frac_digits > 2)
                return false;
            frac = frac * 10 + (*p - '0');
        }
    }
    if (*p != '\0')
        return false;
    if (frac_digits == 1)
        frac *= 10;
    *cents = whole * 100 + frac;
    return *cents <= 100000000000LL;
}

char *money_normalise(const json_t *value)
{
    char text[64];
    long long cents;
    if (json_is_string(value)) {
        if (json_string_length(value) >= sizeof text)
            return NULL;
        snprintf(text, sizeof text, "%s", json_string_value(value));
    } else if (json_is_integer(value)) {
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(value));
    } else if (json_is_real(value)) {
        /* Jansson hands JSON reals over as doubles. Up to 15 significant
         * digits a double prints back to exactly the decimal the client
         * wrote, and every valid amount has at most 12, so this recovers the
         * written text; the amount itself is then handled as integer cents. */
        snprintf(text, sizeof text, "%.15g", json_real_value(value));
        if (strchr(text, 'e') || strchr(text, 'E'))
            return NULL;
    } else {
        return NULL;
    }
    if (!money_text_to_cents(text, &cents))
        return NULL;
    return xasprintf("%lld.%02lld", cents / 100, cents % 100);
}

bool validate_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && strchr(at + 1, '@') == NULL && strchr(at + 1, '.') && at[1] != '.' &&
           s[strlen(s) - 1] != '.' && strpbrk(s, " \t\r\n<>,;\"") == NULL;
}

static void check_value(struct request *req, const struct field_spec *spec, json_t *body, json_t *value)
{
    const char *name = spec->name;
    switch (spec->type) {
    case FIELD_TEXT:
    case FIELD_EMAIL: {
        if (!json_is_string(value)) {
            http_field_error(req, name, "must be a string");
            return;
        }
        size_t len = utf8_length(json_string_value(value));
        if ((long)len < spec->min || (long)len > spec->max) {
            if (spec->min > 0)
                http_field_error(req, name, "must be %ld to %ld characters long", spec->min, spec->max);
            else
                http_field_error(req, name, "must be at most %ld characters long", spec->max);
            return;
        }
        if (spec->type == FIELD_EMAIL && !validate_email(json_string_value(value)))
            http_field_error(req, name, "must be an email address such as ada@example.com");
        return;
    }
    case FIELD_ID:
        if (!json_is_integer(value) || json_integer_value(value) <= 0)
            http_field_error(req, name, "must be a positive whole number (an id)");
        return;
    case FIELD_INTEGER:
        if (!json_is_integer(value) || json_integer_value(value) < spec->min || json_integer_value(value) > spec->max)
            http_field_error(req, name, "must be a whole number from %ld to %ld", spec->min, spec->max);
        return;
    case FIELD_BOOLEAN:
        if (!json_is_boolean(value))
            http_field_error(req, name, "must be true or false");
        return;
    case FIELD_MONEY: {
        char *money = money_normalise(value);
        if (money == NULL) {
            http_field_error(req, name,
                             "must be an amount from 0 to 1000000000.00 with at most two decimals, e.g. \"1250.00\"");
            return;
        }
        json_object_set_new(body, name, json_string(money));
        free(money);
        return;
    }
    case FIELD_CHOICE:
        if (json_is_string(value))
            for (const char *const *c = spec->choices; *c; c++)
                if (strcmp(*c, json_string_value(value)) == 0)
                    return;
        {
            char list[256] = "";
            for (const char *const *c = spec->choices; *c; c++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", c == spec->choices ? "" : ", ", *c);
            http_field_error(req, name, "must be one of: %s", list);
        }
        return;
    case FIELD_READ_ONLY:
        http_field_error(req, name, "is read-only");
        return;
    }
}

bool validate_body(struct request *req, const struct field_spec *specs, enum validate_mode mode)
{
    int errors_before = req->error_count;
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(req->body, tmp, key, value)
    {
        const struct field_spec *spec = find_spec(specs, key);
        if (spec == NULL) {
            http_field_error(req, key, "is not a field of this resource");
            continue;
        }
        if (json_is_null(value) && spec->type != FIELD_READ_ONLY) {
            if (!spec->nullable)
                http_field_error(req, key, spec->required ? "is required and cannot be null" : "cannot be null");
            continue;
        }
        check_value(req, spec, req->body, value);
    }
    if (mode != VALIDATE_PATCH)
        for (const struct field_spec *s = specs; s->name; s++)
            if (s->required && json_object_get(req->body, s->name) == NULL)
                http_field_error(req, s->name, "is required");
    return req->error_count == errors_before;
}

char *validate_dump(const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        abort(); /* only out of memory makes json_dumps fail on a valid object */
    return text;
}
