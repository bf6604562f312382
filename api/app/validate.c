#include "app/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/query.h"
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
        if (*p == '\0') /* "5." is not an amount */
            return false;
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
    /* A string, or a number (kept as written, see json_keep_written_numbers). */
    if (json_is_string(value)) {
        const char *written = json_written_number(json_string_value(value));
        if (json_string_length(value) >= sizeof text)
            return NULL;
        snprintf(text, sizeof text, "%s", written ? written : json_string_value(value));
    } else if (json_is_integer(value)) {
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(value));
    } else {
        return NULL;
    }
    if (!money_text_to_cents(text, &cents))
        return NULL;
    return xasprintf("%lld.%02lld", cents / 100, cents % 100);
}

/* Parses a decimal text with at most three fraction digits into thousandths. */
static bool quantity_text_to_milli(const char *s, long long *milli)
{
    long long whole = 0, frac = 0;
    int frac_digits = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > 1000000LL)
            return false;
    }
    if (*p == '.') {
        p++;
        if (*p == '\0')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++frac_digits > 3)
                return false;
            frac = frac * 10 + (*p - '0');
        }
    }
    if (*p != '\0')
        return false;
    for (; frac_digits < 3; frac_digits++)
        frac *= 10;
    *milli = whole * 1000 + frac;
    return *milli > 0 && *milli <= 1000000000LL;
}

char *quantity_normalise(const json_t *value)
{
    char text[64];
    long long milli;
    /* A JSON number only: an integer, or a fraction kept as written. */
    const char *written = json_is_string(value) ? json_written_number(json_string_value(value)) : NULL;
    if (json_is_integer(value)) {
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(value));
    } else if (written && strlen(written) < sizeof text) {
        snprintf(text, sizeof text, "%s", written);
    } else {
        return NULL;
    }
    if (!quantity_text_to_milli(text, &milli))
        return NULL;
    /* Shortest form: 2, 1.5, 0.125 */
    long long whole = milli / 1000, frac = milli % 1000;
    if (frac == 0)
        return xasprintf("%lld", whole);
    if (frac % 100 == 0)
        return xasprintf("%lld.%lld", whole, frac / 100);
    if (frac % 10 == 0)
        return xasprintf("%lld.%02lld", whole, frac / 10);
    return xasprintf("%lld.%03lld", whole, frac);
}

/* ISO 4217 codes of currencies in use (2026). */
static const char iso4217[] =
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF "
    "CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG "
    "HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA "
    "MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD "
    "RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX "
    "USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

static bool is_currency(const char *code)
{
    if (strlen(code) != 3)
        return false;
    for (size_t i = 0; i + 3 <= sizeof iso4217 - 1; i += 4) /* codes are 3 letters and a space apart */
        if (strncmp(iso4217 + i, code, 3) == 0)
            return true;
    return false;
}

bool validate_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && strchr(at + 1, '@') == NULL && strchr(at + 1, '.') && at[1] != '.' &&
           s[strlen(s) - 1] != '.' && strpbrk(s, " \t\r\n<>,;\"") == NULL;
}

static void check_value(struct request *req, const struct field_spec *spec, json_t *body, json_t *value,
                        const char *name)
{
    bool written_number = json_is_string(value) && json_written_number(json_string_value(value));
    if (written_number && spec->type != FIELD_MONEY && spec->type != FIELD_QUANTITY) {
        value = json_real(0); /* a number with a fraction: judged as one below */
        check_value(req, spec, body, value, name);
        json_decref(value);
        return;
    }
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
        json_object_set_new(body, spec->name, json_string(money));
        free(money);
        return;
    }
    case FIELD_QUANTITY: {
        char *quantity = quantity_normalise(value);
        if (quantity == NULL) {
            http_field_error(req, name, "must be a number above 0 and at most 1000000 with at most three decimals");
            return;
        }
        json_object_set_new(body, spec->name, json_string(quantity));
        free(quantity);
        return;
    }
    case FIELD_CURRENCY:
        if (!json_is_string(value) || !is_currency(json_string_value(value)))
            http_field_error(req, name, "must be an ISO 4217 currency code in capitals, such as GBP or EUR");
        return;
    case FIELD_DATE:
        if (!json_is_string(value) || !http_valid_date(json_string_value(value)))
            http_field_error(req, name, "must be a date written YYYY-MM-DD");
        return;
    case FIELD_TIMESTAMP:
        if (!json_is_string(value) || !http_valid_timestamp(json_string_value(value)))
            http_field_error(req, name, "must be an RFC 3339 timestamp such as 2026-11-27T08:00:00Z");
        return;
    case FIELD_OBJECTS:
        if (!json_is_array(value)) {
            http_field_error(req, name, "must be an array");
            return;
        }
        validate_array(req, value, spec->items, (size_t)spec->max, name);
        return;
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

bool validate_object(struct request *req, json_t *object, const struct field_spec *specs, enum validate_mode mode,
                     const char *prefix)
{
    int errors_before = req->error_count;
    const char *key;
    json_t *value;
    void *tmp;
    char name[160];
    json_object_foreach_safe(object, tmp, key, value)
    {
        snprintf(name, sizeof name, "%s%s", prefix, key);
        const struct field_spec *spec = find_spec(specs, key);
        if (spec == NULL) {
            http_field_error(req, name, "is not a field of this resource");
            continue;
        }
        if (json_is_null(value) && spec->type != FIELD_READ_ONLY) {
            if (!spec->nullable)
                http_field_error(req, name, spec->required ? "is required and cannot be null" : "cannot be null");
            continue;
        }
        check_value(req, spec, object, value, name);
    }
    if (mode != VALIDATE_PATCH)
        for (const struct field_spec *s = specs; s->name; s++)
            if (s->required && json_object_get(object, s->name) == NULL) {
                snprintf(name, sizeof name, "%s%s", prefix, s->name);
                http_field_error(req, name, "is required");
            }
    return req->error_count == errors_before;
}

bool validate_body(struct request *req, const struct field_spec *specs, enum validate_mode mode)
{
    return validate_object(req, req->body, specs, mode, "");
}

bool validate_array(struct request *req, json_t *array, const struct field_spec *items, size_t max, const char *prefix)
{
    int errors_before = req->error_count;
    if (json_array_size(array) > max) {
        http_field_error(req, prefix[0] ? prefix : "lines", "must have at most %zu elements", max);
        return false;
    }
    size_t i;
    json_t *item;
    char name[160];
    json_array_foreach(array, i, item)
    {
        snprintf(name, sizeof name, "%s[%zu]", prefix, i);
        if (!json_is_object(item)) {
            http_field_error(req, name, "must be an object");
            continue;
        }
        snprintf(name, sizeof name, "%s[%zu].", prefix, i);
        validate_object(req, item, items, VALIDATE_CREATE, name);
    }
    return req->error_count == errors_before;
}

json_t *validate_valid_fields(const struct request *req, const json_t *object, int errors_before)
{
    /* A full list names only the first refused fields: the others cannot
     * be told from valid ones, so none is passed on. */
    if (req->error_count >= HTTP_MAX_FIELD_ERRORS)
        return json_object();
    json_t *copy = json_copy((json_t *)object);
    for (int i = errors_before; i < req->error_count; i++) {
        const char *field = req->errors[i].field;
        size_t len = strcspn(field, "[.");
        char key[160];
        snprintf(key, sizeof key, "%.*s", (int)len, field);
        json_object_del(copy, key);
    }
    return copy;
}

char *validate_dump(const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        abort(); /* only out of memory makes json_dumps fail on a valid object */
    return text;
}
