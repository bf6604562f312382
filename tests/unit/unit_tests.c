/* Unit tests of the pure helpers. Prints "N passed, N failed". */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#include "http.h"
#include "router.h"
#include "util/strbuf.h"
#include "util/text.h"
#include "util/token.h"
#include "validate.h"

static int passed, failed;

#define CHECK(cond)                                                                                                   \
    do {                                                                                                              \
        if (cond) {                                                                                                   \
            passed++;                                                                                                 \
        } else {                                                                                                      \
            failed++;                                                                                                 \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                           \
        }                                                                                                             \
    } while (0)

/* A JSON number with a fraction as the body parser hands it over. */
static json_t *written(const char *text)
{
    char marked[128];
    snprintf(marked, sizeof marked, "%s%s", JSON_WRITTEN_NUMBER, text);
    return json_string(marked);
}

static void check_money(json_t *value, const char *expected)
{
    char *got = money_normalise(value);
    if (expected == NULL)
        CHECK(got == NULL);
    else
        CHECK(got != NULL && strcmp(got, expected) == 0);
    if (got && expected && strcmp(got, expected) != 0)
        fprintf(stderr, "  money: got %s want %s\n", got, expected);
    free(got);
    json_decref(value);
}

static void test_money(void)
{
    check_money(json_string("1250"), "1250.00");
    check_money(json_string("1250.5"), "1250.50");
    check_money(json_string("0.05"), "0.05");
    check_money(json_string("1000000000.00"), "1000000000.00");
    check_money(json_string("1000000000.01"), NULL);
    check_money(json_string("0.125"), NULL);
    check_money(json_string("-1"), NULL);
    check_money(json_string("1e3"), NULL);
    check_money(json_string(" 1"), NULL);
    check_money(json_string("1."), NULL);
    check_money(written("0.1000000000000001"), NULL);
    check_money(written("12.340000000000000001"), NULL);
    check_money(json_string(".5"), NULL);
    check_money(json_string(""), NULL);
    check_money(json_integer(42), "42.00");
    check_money(json_integer(-42), NULL);
    check_money(written("0.1"), "0.10");
    check_money(written("12.34"), "12.34");
    check_money(written("12.50"), "12.50");
    check_money(written("999999999.99"), "999999999.99");
    check_money(written("0.125"), NULL);
    check_money(written("1e300"), NULL);
    check_money(json_real(12.5), NULL); /* the parser never hands over a double */
    check_money(json_true(), NULL);
    check_money(json_null(), NULL);
}

static void test_utf8(void)
{
    CHECK(utf8_valid("plain", 5));
    CHECK(utf8_valid("\xc3\xa9t\xc3\xa9", 5));
    CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(!utf8_valid("\xc3", 1));          /* truncated */
    CHECK(!utf8_valid("\xc0\xaf", 2));      /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));  /* surrogate */
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    CHECK(utf8_length("\xc3\xa9t\xc3\xa9") == 3);
}

static void test_ids_and_numbers(void)
{
    int64_t id;
    long n;
    CHECK(parse_id("1", &id) && id == 1);
    CHECK(parse_id("9223372036854775807", &id) && id == INT64_MAX);
    CHECK(!parse_id("9223372036854775808", &id));
    CHECK(!parse_id("0", &id));
    CHECK(!parse_id("01", &id));
    CHECK(!parse_id("-1", &id));
    CHECK(!parse_id("1a", &id));
    CHECK(!parse_id("", &id));
    CHECK(parse_int_range("500", 1, 500, &n) && n == 500);
    CHECK(!parse_int_range("501", 1, 500, &n));
    CHECK(!parse_int_range("0", 1, 500, &n));
    CHECK(!parse_int_range("1.5", 1, 500, &n));
}

static void test_base64url(void)
{
    const char *samples[] = {"", "a", "ab", "abc", "accounts|12345", "lookups|-3,7"};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char *enc = base64url_encode((const unsigned char *)samples[i], strlen(samples[i]));
        size_t len;
        char *dec = base64url_decode(enc, &len);
        CHECK(dec && len == strlen(samples[i]) && memcmp(dec, samples[i], len) == 0);
        CHECK(strpbrk(enc, "+/=") == NULL);
        free(enc);
        free(dec);
    }
    CHECK(base64url_decode("a", NULL) == NULL);
    char *bad = base64url_decode("ab$d", NULL);
    CHECK(bad == NULL);
}

/* Runs http_query_page on a request with the given limit and cursor (each
 * NULL when absent); returns its result, the key in *after (new or NULL)
 * and the fields named, in order, in fields. */
static bool query_page(const char *limit, const char *cursor_text, char **after, char *fields, size_t size)
{
    struct request *req = calloc(1, sizeof *req);
    char *cursor = cursor_text ? base64url_encode((const unsigned char *)cursor_text, strlen(cursor_text)) : NULL;
    if (limit)
        req->query[req->query_count++] = (struct query_param){"limit", (char *)limit};
    if (cursor)
        req->query[req->query_count++] = (struct query_param){"cursor", cursor};
    int page_limit = 0;
    *after = (char *)"not set";
    bool ok = http_query_page(req, "lines:7", http_key_is_position_id, &page_limit, after);
    fields[0] = '\0';
    for (int i = 0; i < req->error_count; i++)
        snprintf(fields + strlen(fields), size - strlen(fields), "%s%s", i ? " " : "", req->errors[i].field);
    http_reply_reset(req);
    free(cursor);
    free(req);
    return ok;
}

/* Every query error is reported at once; a key is handed over only with
 * true (on false *after is NULL, so no caller can leak it). */
static void test_query_page(void)
{
    char *after, fields[64];
    CHECK(query_page(NULL, NULL, &after, fields, sizeof fields) && after == NULL && fields[0] == '\0');
    CHECK(query_page("1", "lines:7|2,9", &after, fields, sizeof fields) && after && strcmp(after, "2,9") == 0);
    free(after);
    CHECK(!query_page("0", "lines:7|2,9", &after, fields, sizeof fields) && after == NULL &&
          strcmp(fields, "limit") == 0);
    CHECK(!query_page("501", "lines:7|2,9", &after, fields, sizeof fields) && after == NULL &&
          strcmp(fields, "limit") == 0);
    CHECK(!query_page("1", "lines:7|9", &after, fields, sizeof fields) && after == NULL &&
          strcmp(fields, "cursor") == 0);
    CHECK(!query_page("1", "lines:8|2,9", &after, fields, sizeof fields) && after == NULL &&
          strcmp(fields, "cursor") == 0);
    /* Both errors listed, whichever way the cursor is wrong. */
    CHECK(!query_page("0", "lines:7|9", &after, fields, sizeof fields) && after == NULL && strstr(fields, "limit") &&
          strstr(fields, "cursor"));
    CHECK(!query_page("x", "tokens|9", &after, fields, sizeof fields) && after == NULL && strstr(fields, "limit") &&
          strstr(fields, "cursor"));
}

static void test_dates(void)
{
    CHECK(http_valid_date("2026-02-28"));
    CHECK(http_valid_date("2024-02-29"));
    CHECK(!http_valid_date("2026-02-29"));
    CHECK(!http_valid_date("2026-13-01"));
    CHECK(!http_valid_date("2026-1-01"));
    CHECK(http_valid_timestamp("2026-11-27T08:00:00Z"));
    CHECK(http_valid_timestamp("2026-11-27T08:00:00.123456Z"));
    CHECK(http_valid_timestamp("2026-11-27T08:00:00+01:00"));
    CHECK(!http_valid_timestamp("2026-11-27 08:00:00Z"));
    CHECK(!http_valid_timestamp("2026-11-27T25:00:00Z"));
    CHECK(!http_valid_timestamp("2026-11-27T08:00:00"));
}

static void test_tokens(void)
{
    char a[TOKEN_TEXT_SIZE], b[TOKEN_TEXT_SIZE], ha[TOKEN_HASH_HEX_SIZE], hb[TOKEN_HASH_HEX_SIZE];
    token_generate(a);
    token_generate(b);
    CHECK(strncmp(a, "crm_", 4) == 0 && strlen(a) == 47);
    CHECK(strcmp(a, b) != 0);
    CHECK(token_hash(a, ha) && token_hash(b, hb) && strcmp(ha, hb) != 0 && strlen(ha) == 64);
    CHECK(token_hash("abc", ha) &&
          strcmp(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
}

static void test_request_ids(void)
{
    char a[33], b[33];
    request_id_generate(a);
    request_id_generate(b);
    CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32);
    CHECK(strcmp(a, b) != 0);
}

static void test_strbuf(void)
{
    struct strbuf b;
    strbuf_init(&b, 16);
    CHECK(strbuf_puts(&b, "0123456789"));
    CHECK(!strbuf_puts(&b, "0123456789")); /* would pass the maximum */
    CHECK(b.len == 10);
    strbuf_cleanup(&b);
    strbuf_init(&b, 1024);
    strbuf_json_string(&b, "a\"b\\c\n\x01");
    CHECK(strcmp(b.data, "\"a\\\"b\\\\c\\n\\u0001\"") == 0);
    strbuf_cleanup(&b);
}

static void check_rewrite(const char *in, const char *want)
{
    size_t len;
    char *out = json_keep_written_numbers(in, strlen(in), &len);
    CHECK(strcmp(out, want) == 0 && len == strlen(want));
    if (strcmp(out, want) != 0)
        fprintf(stderr, "  rewrite: got %s want %s\n", out, want);
    free(out);
}

static void test_written_numbers(void)
{
    check_rewrite("{\"a\": 12, \"b\": -7}", "{\"a\": 12, \"b\": -7}");
    check_rewrite("{\"p\": 12.340000000000000001}", "{\"p\": \"\\ue00012.340000000000000001\"}");
    check_rewrite("[1e3,-0.5]", "[\"\\ue0001e3\",\"\\ue000-0.5\"]");
    check_rewrite("{\"s\": \"1.5 \\\" 2.5\"}", "{\"s\": \"1.5 \\\" 2.5\"}");
    json_t *doc = json_loads("{\"p\": \"\\ue0001.50\"}", 0, NULL);
    CHECK(strcmp(json_written_number(json_string_value(json_object_get(doc, "p"))), "1.50") == 0);
    json_decref(doc);
    CHECK(json_written_number("1.50") == NULL);
    check_rewrite("[99999999999999999999, 9223372036854775807, 9223372036854775808]",
                  "[\"\\ue00099999999999999999999\", 9223372036854775807, \"\\ue0009223372036854775808\"]");
    check_rewrite("[01.5, 1.2.3, 1.]", "[01.5, 1.2.3, 1.]"); /* not numbers: left for the parser to refuse */
    size_t len;
    CHECK(json_keep_written_numbers("{\"n\": \"\\ue000x\"}", 14, &len) == NULL);
    CHECK(json_keep_written_numbers("{\"n\": \"\xee\x80\x80x\"}", 12, &len) == NULL);
}

static void test_router(void)
{
    char *seg_user[] = {"users", "me"};
    char *seg_acc[] = {"accounts", "7"};
    char *seg_ext[] = {"accounts", "by-external-id", "crm-1"};
    const struct route *r = NULL;
    const char *params[HTTP_MAX_PATH_PARAMS];
    int n = 0;
    char allow[64];
    CHECK(router_match("GET", seg_user, 2, &r, params, &n, allow, sizeof allow) == ROUTE_FOUND &&
          strcmp(r->pattern, "/users/me") == 0);
    CHECK(router_match("GET", seg_acc, 2, &r, params, &n, allow, sizeof allow) == ROUTE_FOUND && n == 1 &&
          strcmp(params[0], "7") == 0);
    CHECK(router_match("POST", seg_acc, 2, &r, params, &n, allow, sizeof allow) == ROUTE_NO_METHOD &&
          strcmp(allow, "GET, PATCH, DELETE") == 0);
    CHECK(router_match("PUT", seg_ext, 3, &r, params, &n, allow, sizeof allow) == ROUTE_FOUND &&
          strcmp(params[0], "crm-1") == 0);
    char *seg_none[] = {"nothing"};
    CHECK(router_match("GET", seg_none, 1, &r, params, &n, allow, sizeof allow) == ROUTE_NO_PATH);
}

int main(void)
{
    test_money();
    test_utf8();
    test_ids_and_numbers();
    test_base64url();
    test_query_page();
    test_dates();
    test_tokens();
    test_request_ids();
    test_strbuf();
    test_written_numbers();
    test_router();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
