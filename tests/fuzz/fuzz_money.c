/* Money and quantities: money_normalise and quantity_normalise on the
 * values a body can carry: the input as a JSON value read the dispatcher's
 * way (numbers with a fraction kept as written), as a JSON string, and as a
 * number written with a fraction.
 *
 * Checked besides crashes, leaks and undefined behaviour, against an
 * independent reading of the decimal text: a value is accepted exactly
 * when it is a plain decimal in range with few enough decimals; a
 * normalised amount has exactly two decimals and a quantity is in its
 * shortest form, both of the same value as the input; normalising a result
 * again (money from its string or as a written number, a quantity as a
 * written number) gives it back unchanged. */
#include <string.h>

#include "support.h"
#include "util/alloc.h"
#include "util/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* The value of a plain decimal text (digits, optionally a point and at
 * least one digit) in units of 10^-scale; false when it is not one, has
 * more than scale decimals, or exceeds limit units. */
static bool decimal_units(const char *s, int scale, long long limit, long long *units)
{
    const char *p = s;
    long long whole = 0, frac = 0;
    int digits = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > limit)
            return false; /* already too big whatever follows */
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++digits > scale)
                return false;
            frac = frac * 10 + (*p - '0');
        }
    }
    if (*p != '\0')
        return false;
    for (; digits < scale; digits++)
        frac *= 10;
    long long pow = 1;
    for (int i = 0; i < scale; i++)
        pow *= 10;
    *units = whole * pow + frac;
    return *units <= limit;
}

static json_t *written(const char *text)
{
    char *marked = xasprintf("%s%s", JSON_WRITTEN_NUMBER, text);
    json_t *value = json_string(marked);
    free(marked);
    return value;
}

static void check_money_result(const char *out, long long expected_cents)
{
    FUZZ_ASSERT(fuzz_canonical_money(out));
    long long cents;
    FUZZ_ASSERT(decimal_units(out, 2, 100000000000LL, &cents) && cents == expected_cents);
    json_t *again = json_string(out);
    char *same = money_normalise(again);
    FUZZ_ASSERT(same && strcmp(same, out) == 0);
    free(same);
    json_decref(again);
    again = written(out);
    same = money_normalise(again);
    FUZZ_ASSERT(same && strcmp(same, out) == 0);
    free(same);
    json_decref(again);
}

static void check_quantity_result(const char *out, long long expected_milli)
{
    FUZZ_ASSERT(fuzz_canonical_quantity(out));
    long long milli;
    FUZZ_ASSERT(decimal_units(out, 3, 1000000000LL, &milli) && milli == expected_milli);
    json_t *again = strchr(out, '.') ? written(out) : json_integer(strtoll(out, NULL, 10));
    char *same = quantity_normalise(again);
    FUZZ_ASSERT(same && strcmp(same, out) == 0);
    free(same);
    json_decref(again);
}

/* The decimal text a value stands for, as the normalisers read it: a
 * string's text (money only), a written number's, an integer's. NULL for
 * anything else. Writes into buf. */
static const char *value_text(const json_t *value, bool strings, char *buf, size_t size)
{
    if (json_is_integer(value)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(value));
        return buf;
    }
    if (!json_is_string(value))
        return NULL;
    const char *written_text = json_written_number(json_string_value(value));
    if (written_text)
        return written_text;
    return strings ? json_string_value(value) : NULL;
}

static void check_value(const json_t *value)
{
    char buf[32];
    const char *text;
    long long units;

    char *money = money_normalise(value);
    text = value_text(value, true, buf, sizeof buf);
    /* A string too long for the normaliser's buffer is refused whatever it holds. */
    bool fits = !json_is_string(value) || json_string_length(value) < 64;
    bool money_expected = text && fits && decimal_units(text, 2, 100000000000LL, &units);
    FUZZ_ASSERT((money != NULL) == money_expected);
    if (money)
        check_money_result(money, units);
    free(money);

    char *quantity = quantity_normalise(value);
    text = value_text(value, false, buf, sizeof buf);
    bool quantity_expected = text && strlen(text) < 64 && decimal_units(text, 3, 1000000000LL, &units) && units > 0;
    FUZZ_ASSERT((quantity != NULL) == quantity_expected);
    if (quantity)
        check_quantity_result(quantity, units);
    free(quantity);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As a JSON value in a body. */
    size_t text_size;
    char *text = json_keep_written_numbers((const char *)data, size, &text_size);
    if (text) {
        json_t *value = json_loadb(text, text_size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (value)
            check_value(value);
        json_decref(value);
        free(text);
    }
    /* As a string, and as a number written with a fraction. */
    char *raw = xstrndup((const char *)data, size);
    if (utf8_valid(raw, strlen(raw))) {
        json_t *value = json_string(raw);
        check_value(value);
        json_decref(value);
        value = written(raw);
        check_value(value);
        json_decref(value);
    }
    free(raw);
    return 0;
}
