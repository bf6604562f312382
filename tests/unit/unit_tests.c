/* Unit tests of the pure helpers. Prints "N passed, N failed". */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#include "app/batch_references.h"
#include "app/metrics.h"
#include "app/validate.h"
#include "http/cors.h"
#include "http/query.h"
#include "http/query_string.h"
#include "http/reply.h"
#include "http/router.h"
#include "net/cors_headers.h"
#include "resources/specs.h"
#include "store/params.h"
#include "util/strbuf.h"
#include "util/text.h"
#include "util/token.h"
#include "util/url_policy.h"
#include "util/webhook_signature.h"

static int passed, failed;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            passed++;                                                                                                  \
        } else {                                                                                                       \
            failed++;                                                                                                  \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                            \
        }                                                                                                              \
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
    CHECK(!utf8_valid("\xc3", 1)); /* truncated */
    CHECK(!utf8_valid("\xc0\xaf", 2)); /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
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

static void check_decode(const char *in, bool plus_is_space, const char *expected)
{
    char *got = percent_decode(in, strlen(in), plus_is_space);
    CHECK(expected ? got && strcmp(got, expected) == 0 : got == NULL);
    free(got);
}

/* Frees what parse_query and the replies left on a request. */
static void query_request_cleanup(struct request *req)
{
    for (int i = 0; i < req->query_count; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    req->query_count = 0;
    http_reply_reset(req);
}

static void test_query_string(void)
{
    check_decode("a%20b+c", true, "a b c");
    check_decode("a%20b+c", false, "a b+c");
    check_decode("%C3%a9", true, "\xc3\xa9");
    check_decode("", true, "");
    check_decode("%00", true, NULL);
    check_decode("%4", true, NULL);
    check_decode("%zz", true, NULL);
    check_decode("%FF", true, NULL);
    check_decode("%ED%A0%80", true, NULL); /* a surrogate */

    const struct route route = {.query_params = "limit cursor"};
    struct request req;
    memset(&req, 0, sizeof req);
    req.route = &route;
    CHECK(parse_query(&req, "limit=5&cursor=a%2Bb&&limit2") && req.error_count == 1);
    CHECK(req.query_count == 2 && strcmp(http_query(&req, "cursor"), "a+b") == 0);
    CHECK(strcmp(req.errors[0].field, "limit2") == 0);
    query_request_cleanup(&req);
    CHECK(parse_query(&req, "limit") && req.error_count == 0 && strcmp(http_query(&req, "limit"), "") == 0);
    query_request_cleanup(&req);
    CHECK(!parse_query(&req, "limit=1&limit=2") && req.status == 400);
    query_request_cleanup(&req);
    CHECK(!parse_query(&req, "limit=%zz") && req.status == 400);
    query_request_cleanup(&req);
    CHECK(parse_query(&req, NULL) && req.query_count == 0);
    CHECK(parse_query(&req, "limit+cursor=1&limit%20=2&+limit=3") && req.query_count == 0 && req.error_count == 3);
    CHECK(strcmp(req.errors[0].field, "limit cursor") == 0);
    query_request_cleanup(&req);

    /* A good cursor beside a bad limit: refused, and nothing left to free. */
    char *after = (char *)"sentinel";
    int limit = 0;
    char *cursor = base64url_encode((const unsigned char *)"tokens|5", 8);
    char query[64];
    snprintf(query, sizeof query, "limit=0&cursor=%s", cursor);
    free(cursor);
    CHECK(parse_query(&req, query) && req.error_count == 0);
    CHECK(!http_query_page(&req, "tokens", http_key_is_id, &limit, &after) && after == NULL);
    CHECK(req.error_count == 1 && strcmp(req.errors[0].field, "limit") == 0);
    query_request_cleanup(&req);
    CHECK(parse_query(&req, query + strlen("limit=0&")));
    CHECK(http_query_page(&req, "tokens", http_key_is_id, &limit, &after) && after && strcmp(after, "5") == 0);
    CHECK(limit == 50);
    free(after);
    query_request_cleanup(&req);
}

/* The copy of a refused body's valid fields, which the database checks. */
static void test_valid_fields(void)
{
    struct request req;
    memset(&req, 0, sizeof req);
    req.body = json_loads("{\"name\": 5, \"notes\": \"fine\", \"owner_id\": \"x\", \"nmae\": 1}", 0, NULL);
    CHECK(!validate_body(&req, account_fields, VALIDATE_PATCH) && req.error_count == 3);
    json_t *valid = validate_valid_fields(&req, req.body, 0);
    CHECK(json_object_size(valid) == 1 && json_object_get(valid, "notes"));
    json_decref(valid);
    http_reply_reset(&req);
    json_decref(req.body);

    /* More refused fields than the list holds: the unlisted bad owner_id
     * must not pass for a valid one. */
    json_t *body = json_object();
    for (int i = 0; i < HTTP_MAX_FIELD_ERRORS + 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        json_object_set_new(body, name, json_integer(0));
    }
    json_object_set_new(body, "owner_id", json_string("bad"));
    json_object_set_new(body, "notes", json_string("fine"));
    req.body = body;
    CHECK(!validate_body(&req, account_fields, VALIDATE_PATCH) && req.error_count == HTTP_MAX_FIELD_ERRORS);
    valid = validate_valid_fields(&req, req.body, 0);
    CHECK(json_is_object(valid) && json_object_get(valid, "owner_id") == NULL);
    json_decref(valid);
    http_reply_reset(&req);
    json_decref(req.body);
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
    CHECK(token_hash("abc", ha) && strcmp(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
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
    CHECK(!strbuf_failed(&b));
    CHECK(!strbuf_puts(&b, "0123456789")); /* would pass the maximum */
    CHECK(strbuf_failed(&b));
    CHECK(b.data == NULL && b.len == 0); /* what was built is gone, not cut */
    CHECK(!strbuf_puts(&b, "x")); /* it fits, but the buffer failed */
    CHECK(!strbuf_printf(&b, "%d", 1));
    CHECK(!strbuf_json_string(&b, "x"));
    CHECK(strbuf_take(&b) == NULL);
    CHECK(!strbuf_failed(&b)); /* take resets */
    CHECK(strbuf_puts(&b, "0123456789abcdef")); /* exactly the maximum */
    CHECK(!strbuf_append(&b, "", 1));
    char *s = strbuf_take(&b);
    CHECK(s == NULL);
    free(s);

    /* printf past the maximum, long enough to be formatted apart */
    strbuf_init(&b, 300);
    CHECK(strbuf_printf(&b, "%0*d", 290, 7));
    CHECK(!strbuf_printf(&b, "%0*d", 290, 7));
    CHECK(strbuf_failed(&b));
    strbuf_cleanup(&b);
    CHECK(!strbuf_failed(&b)); /* cleanup resets */

    /* Reserving: room at once (no growth after), up to the maximum and its NUL */
    strbuf_init(&b, 16);
    CHECK(strbuf_reserve(&b, 17) && b.cap == 17);
    CHECK(strbuf_puts(&b, "0123456789abcdef") && b.cap == 17);
    strbuf_cleanup(&b);
    CHECK(!strbuf_reserve(&b, 18) && strbuf_failed(&b)); /* past the maximum */
    strbuf_cleanup(&b);

    /* A JSON string that stops at the maximum in the middle of an escape */
    strbuf_init(&b, 8);
    CHECK(!strbuf_json_string(&b, "ab\x01"));
    CHECK(strbuf_take(&b) == NULL);

    /* Nothing appended: an empty string, not NULL */
    strbuf_init(&b, 4);
    s = strbuf_take(&b);
    CHECK(s != NULL && strcmp(s, "") == 0);
    free(s);

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

static bool cors_parses(const char *setting, enum cors_mode mode, int count)
{
    struct cors_policy policy;
    char error[320] = "";
    bool ok = cors_policy_parse(setting, &policy, error, sizeof error);
    return ok && policy.mode == mode && policy.count == count && error[0] == '\0';
}

/* A refused setting: the error quotes the bad origin and says why. */
static bool cors_refuses(const char *setting, const char *quoted, const char *why)
{
    struct cors_policy policy;
    char error[320] = "";
    bool refused = !cors_policy_parse(setting, &policy, error, sizeof error);
    bool named = strstr(error, quoted) != NULL && strstr(error, why) != NULL;
    if (!refused || !named)
        fprintf(stderr, "  cors %s: %s\n", setting, refused ? error : "accepted");
    return refused && named && policy.mode == CORS_OFF;
}

static void test_cors_policy(void)
{
    CHECK(cors_parses("", CORS_OFF, 0));
    CHECK(cors_parses("  ", CORS_OFF, 0));
    CHECK(cors_parses("*", CORS_ANY, 0));
    CHECK(cors_parses(" * ", CORS_ANY, 0));
    CHECK(cors_parses("https://app.example.com", CORS_LIST, 1));
    CHECK(cors_parses("https://app.example.com, http://localhost:5173", CORS_LIST, 2));
    CHECK(cors_parses("http://127.0.0.1:8081,http://[::1]:5173,https://a-b_c.example", CORS_LIST, 3));
    CHECK(cors_parses("chrome-extension://abcdef,http://localhost:65535", CORS_LIST, 2));
    CHECK(cors_refuses("https://app.example.com/", "\"https://app.example.com/\"", "no path"));
    CHECK(cors_refuses("https://app.example.com/app", "app.example.com/app", "no path"));
    CHECK(cors_refuses("app.example.com", "\"app.example.com\"", "scheme://host"));
    CHECK(cors_refuses("https://App.example.com", "App.example.com", "lower case"));
    CHECK(cors_refuses("HTTPS://app.example.com", "HTTPS", "lower case"));
    CHECK(cors_refuses("http://a.example:80", "a.example:80", "default port"));
    CHECK(cors_refuses("https://a.example:443", "a.example:443", "default port"));
    CHECK(cors_refuses("http://a.example:0", "a.example:0", "1 to 65535"));
    CHECK(cors_refuses("http://a.example:08080", "08080", "leading zeros"));
    CHECK(cors_refuses("http://a.example:65536", "65536", "1 to 65535"));
    CHECK(cors_refuses("http://a.example:", "a.example:", "port"));
    CHECK(cors_refuses("http://a.example:80a", "80a", "number"));
    CHECK(cors_refuses("http://user@a.example", "user@a.example", "user name"));
    CHECK(cors_refuses("http://a.example?x=1", "?x=1", "no path, query"));
    CHECK(cors_refuses("http://", "\"http://\"", "host is missing"));
    CHECK(cors_refuses("http://[::1", "[::1", "brackets"));
    CHECK(cors_refuses("http://a.example,,http://b.example", "\"\"", "empty origin"));
    CHECK(cors_refuses("http://a.example,", "\"\"", "empty origin"));
    CHECK(cors_refuses("*,http://a.example", "\"*\"", "stands alone"));
    CHECK(cors_refuses("http://a.example, *", "\"*\"", "stands alone"));
    CHECK(cors_refuses("null", "\"null\"", "cannot be allowed"));
    CHECK(cors_refuses("http://a b.example", "a b.example", "host holds only"));
    char many[40 * 24];
    size_t used = 0;
    for (int i = 0; i <= CORS_MAX_ORIGINS; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "%shttp://h%d.example", i ? "," : "", i);
    CHECK(cors_refuses(many, "h32.example", "more than 32"));

    struct cors_policy list, any, off;
    char error[320];
    CHECK(cors_policy_parse("http://localhost:5173, https://app.example.com", &list, error, sizeof error));
    CHECK(cors_policy_parse("*", &any, error, sizeof error));
    CHECK(cors_policy_parse("", &off, error, sizeof error));
    CHECK(cors_origin_allowed(&list, "http://localhost:5173"));
    CHECK(cors_origin_allowed(&list, "https://app.example.com"));
    CHECK(!cors_origin_allowed(&list, "https://app.example.com.evil.example"));
    CHECK(!cors_origin_allowed(&list, "https://app.example.co"));
    CHECK(!cors_origin_allowed(&list, "http://localhost:517"));
    CHECK(!cors_origin_allowed(&list, "http://localhost:51730"));
    CHECK(!cors_origin_allowed(&list, "HTTP://localhost:5173"));
    CHECK(!cors_origin_allowed(&list, NULL));
    CHECK(cors_origin_allowed(&any, "https://anywhere.example"));
    CHECK(!cors_origin_allowed(&any, NULL));
    CHECK(!cors_origin_allowed(&off, "http://localhost:5173"));
}

/* The header's value, "(twice)" when it is there twice, or "(none)". */
static const char *map_value(struct _u_map *map, const char *key)
{
    int found = 0;
    for (int i = 0; i < map->nb_values; i++)
        found += strcasecmp(map->keys[i], key) == 0;
    return found == 1 ? u_map_get_case(map, key) : found ? "(twice)" : "(none)";
}

static void test_cors_reply_headers(void)
{
    struct cors_policy list, any, off;
    char error[320];
    cors_policy_parse("http://localhost:5173", &list, error, sizeof error);
    cors_policy_parse("*", &any, error, sizeof error);
    cors_policy_parse("", &off, error, sizeof error);
    struct _u_map map;

    u_map_init(&map);
    cors_add_reply_headers(&list, "http://localhost:5173", &map);
    CHECK(strcmp(map_value(&map, "Access-Control-Allow-Origin"), "http://localhost:5173") == 0);
    CHECK(strcmp(map_value(&map, "Access-Control-Expose-Headers"), CORS_EXPOSED_HEADERS) == 0);
    CHECK(strcmp(map_value(&map, "Vary"), "Origin") == 0);
    CHECK(strcmp(map_value(&map, "Access-Control-Allow-Credentials"), "(none)") == 0);
    u_map_clean(&map);

    u_map_init(&map); /* merged into the Vary a reply set, under any spelling */
    u_map_put(&map, "vary", "Accept");
    cors_add_reply_headers(&list, "http://localhost:5173", &map);
    CHECK(strcmp(map_value(&map, "Vary"), "Accept, Origin") == 0);
    u_map_clean(&map);

    u_map_init(&map);
    u_map_put(&map, "Vary", "Accept, origin");
    cors_add_reply_headers(&list, "http://localhost:5173", &map);
    CHECK(strcmp(map_value(&map, "Vary"), "Accept, origin") == 0);
    u_map_clean(&map);

    u_map_init(&map); /* another origin, or none: not readable, but the reply still varies */
    cors_add_reply_headers(&list, "http://localhost:5174", &map);
    CHECK(strcmp(map_value(&map, "Access-Control-Allow-Origin"), "(none)") == 0 &&
          strcmp(map_value(&map, "Vary"), "Origin") == 0);
    cors_add_reply_headers(&list, NULL, &map);
    CHECK(strcmp(map_value(&map, "Access-Control-Allow-Origin"), "(none)") == 0 &&
          strcmp(map_value(&map, "Vary"), "Origin") == 0);
    CHECK(map.nb_values == 1);
    u_map_clean(&map);

    u_map_init(&map);
    cors_add_reply_headers(&any, "http://anywhere.example", &map);
    CHECK(strcmp(map_value(&map, "Access-Control-Allow-Origin"), "*") == 0 &&
          strcmp(map_value(&map, "Vary"), "(none)") == 0);
    u_map_clean(&map);

    u_map_init(&map);
    cors_add_reply_headers(&off, "http://localhost:5173", &map);
    CHECK(map.nb_values == 0);
    u_map_clean(&map);
}

static void test_cors_options(void)
{
    struct cors_policy list;
    char error[320];
    cors_policy_parse("http://localhost:5173", &list, error, sizeof error);
    struct request req;

    memset(&req, 0, sizeof req);
    cors_reply_options(&req, &list, "http://localhost:5173", "PATCH", "GET, PATCH, DELETE");
    CHECK(req.status == 204 && req.reply_body == NULL && req.header_count == 4);
    CHECK(strcmp(req.headers[1].name, "Access-Control-Allow-Methods") == 0 &&
          strcmp(req.headers[1].value, "GET, PATCH, DELETE") == 0);
    http_reply_reset(&req);

    memset(&req, 0, sizeof req); /* not a preflight: Allow only */
    cors_reply_options(&req, &list, NULL, NULL, "GET");
    CHECK(req.status == 204 && req.header_count == 1 && strcmp(req.headers[0].name, "Allow") == 0);
    http_reply_reset(&req);

    memset(&req, 0, sizeof req);
    cors_reply_options(&req, &list, "http://evil.example", "GET", "GET");
    CHECK(req.status == 403 && req.header_count == 0 && req.reply_body && strstr(req.reply_body, "\"Origin\""));
    http_reply_reset(&req);
}

/* Requests counted by threads of their own: a thread's slot outlives it,
 * and no thread counts again after metrics_cleanup. */
static const struct route *metrics_get_route, *metrics_patch_route;

static void *count_gets(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++)
        metrics_count_request(metrics_get_route, "GET", 200, i % 2 ? 1000 : 1001);
    return NULL;
}

static void *count_others(void *arg)
{
    (void)arg;
    metrics_count_request(metrics_patch_route, "PATCH", 422, 0);
    metrics_count_request(NULL, "BREW", 405, 10000000); /* exactly 10 s: the last bucket */
    metrics_count_request(NULL, "get", 299, 10000001); /* past every bucket; unknown method and status */
    return NULL;
}

static int label_index(const char *const *labels, int count, const char *label)
{
    for (int i = 0; i < count; i++)
        if (strcmp(labels[i], label) == 0)
            return i;
    return -1;
}

static void test_metrics(void)
{
    char *seg[] = {"metrics"};
    const struct route *r = NULL;
    const char *params[HTTP_MAX_PATH_PARAMS];
    int n = 0;
    char allow[64];
    CHECK(router_match("GET", seg, 1, &r, params, &n, allow, sizeof allow) == ROUTE_NO_PATH); /* off */
    metrics_init(true);
    CHECK(router_match("GET", seg, 1, &r, params, &n, allow, sizeof allow) == ROUTE_FOUND &&
          strcmp(r->pattern, "/metrics") == 0);
    for (const struct route *x = routes; x->method; x++)
        if (strcmp(x->pattern, "/opportunities/:id") == 0 && strcmp(x->method, "GET") == 0)
            metrics_get_route = x;
        else if (strcmp(x->pattern, "/opportunities/:id") == 0 && strcmp(x->method, "PATCH") == 0)
            metrics_patch_route = x;
    pthread_t threads[5];
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, count_gets, NULL);
    pthread_create(&threads[4], NULL, count_others, NULL);
    for (int i = 0; i < 5; i++)
        pthread_join(threads[i], NULL);

    struct metrics_totals t;
    metrics_totals_take(&t);
    int opp = label_index(t.route_labels, t.route_count, "/opportunities/{id}");
    int unmatched = t.route_count - 1;
    int ok = label_index(t.status_labels, t.status_count, "200");
    int invalid = label_index(t.status_labels, t.status_count, "422");
    int not_allowed = label_index(t.status_labels, t.status_count, "405");
    int other = t.status_count - 1;
    CHECK(opp >= 0 && ok >= 0 && invalid >= 0 && not_allowed >= 0);
    CHECK(strcmp(t.route_labels[unmatched], "unmatched") == 0 && strcmp(t.status_labels[other], "other") == 0);
    CHECK(label_index(t.route_labels, t.route_count, "/lookups/{table}/{item_id}") >= 0);
    CHECK(label_index(t.route_labels, t.route_count, "/opportunities/:id") < 0);
    if (opp < 0 || ok < 0 || invalid < 0 || not_allowed < 0) {
        metrics_totals_cleanup(&t);
        metrics_cleanup();
        return;
    }
    CHECK(METRICS_REQUESTS(&t, opp, 0, ok) == 4000); /* four threads' slots folded */
    CHECK(METRICS_REQUESTS(&t, opp, 4, invalid) == 1); /* PATCH */
    CHECK(METRICS_REQUESTS(&t, opp, 4, ok) == 0);
    CHECK(METRICS_REQUESTS(&t, unmatched, METRICS_METHODS - 1, not_allowed) == 1);
    CHECK(METRICS_REQUESTS(&t, unmatched, METRICS_METHODS - 1, other) == 1);
    /* "le" is inclusive: 1000 us is within 0.001 s, 1001 us is not. */
    CHECK(METRICS_BUCKET(&t, opp, 0) == 2001 && METRICS_BUCKET(&t, opp, 1) == 2000);
    CHECK(METRICS_BUCKET(&t, opp, METRICS_BUCKETS) == 0);
    CHECK(t.duration_us[opp] == 4 * (500 * 1000 + 500 * 1001));
    CHECK(METRICS_BUCKET(&t, unmatched, METRICS_BUCKETS - 1) == 1 &&
          METRICS_BUCKET(&t, unmatched, METRICS_BUCKETS) == 1);
    CHECK(t.duration_us[unmatched] == 20000001);
    metrics_totals_cleanup(&t);
    metrics_cleanup();
    CHECK(router_match("GET", seg, 1, &r, params, &n, allow, sizeof allow) == ROUTE_NO_PATH);
}

/* Typed statement parameters become the text PostgreSQL is sent in one
 * place; a value of another kind than declared is refused. */
DB_STATEMENT(unit_all_kinds, "SELECT", DB_TYPE_ID, DB_TYPE_OPT_ID, DB_TYPE_OPT_ID, DB_TYPE_BOOL, DB_TYPE_OPT_BOOL,
             DB_TYPE_OPT_BOOL, DB_TYPE_JSON, DB_TYPE_TEXT, DB_TYPE_ID_ARRAY, DB_TYPE_ID_ARRAY, DB_TYPE_INT);
DB_STATEMENT(unit_preconditions, "SELECT", DB_TYPE_IF_MATCH, DB_TYPE_IF_MATCH, DB_TYPE_IF_MATCH, DB_TYPE_IF_MATCH,
             DB_TYPE_IF_MATCH, DB_TYPE_VERSION_LIST);

static bool text_is(const char *got, const char *want)
{
    return want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
}

static void test_store_params(void)
{
    int64_t ids[] = {3, 7, 9007199254740993};
    struct db_query q = {&unit_all_kinds,
                         {DB_ID(42), DB_OPT_ID(STORE_INT(5)), DB_OPT_ID(STORE_NO_INT), DB_BOOL(false),
                          DB_OPT_BOOL(STORE_BOOL(true)), DB_OPT_BOOL((struct store_opt_bool){0}), DB_JSON("{}"),
                          DB_TEXT(NULL), DB_ID_ARRAY(ids, 3), DB_ID_ARRAY(NULL, 0), DB_INT(-1)}};
    struct db_param_texts t;
    CHECK(db_param_texts_make(&t, &q, NULL));
    CHECK(t.count == 11);
    CHECK(text_is(t.values[0], "42") && text_is(t.values[1], "5") && text_is(t.values[2], NULL));
    CHECK(text_is(t.values[3], "f") && text_is(t.values[4], "t") && text_is(t.values[5], NULL));
    CHECK(text_is(t.values[6], "{}") && text_is(t.values[7], NULL));
    CHECK(text_is(t.values[8], "{3,7,9007199254740993}") && text_is(t.values[9], NULL));
    CHECK(text_is(t.values[10], "-1"));
    db_param_texts_free(&t);

    int64_t versions[] = {2, 5, (int64_t)INT32_MAX + 1};
    struct db_query p = {
        &unit_preconditions,
        {DB_IF_MATCH(((struct store_if_match){.kind = STORE_IF_MATCH_NONE})),
         DB_IF_MATCH(((struct store_if_match){.kind = STORE_IF_MATCH_ANY})),
         DB_IF_MATCH(((struct store_if_match){.kind = STORE_IF_MATCH_VERSION, .version = 7})),
         DB_IF_MATCH(((struct store_if_match){.kind = STORE_IF_MATCH_VERSION, .version = (int64_t)INT32_MAX + 1})),
         DB_IF_MATCH(((struct store_if_match){.kind = STORE_IF_MATCH_LIST, .versions = versions, .version_count = 3})),
         DB_VERSION_LIST(
             ((struct store_if_match){.kind = STORE_IF_MATCH_LIST, .versions = versions, .version_count = 3}))}};
    CHECK(db_param_texts_make(&t, &p, NULL));
    CHECK(text_is(t.values[0], NULL) && text_is(t.values[1], "-1") && text_is(t.values[2], "7"));
    CHECK(text_is(t.values[3], "0")); /* beyond the SQL integer: matches nothing */
    CHECK(text_is(t.values[4], "-3") && text_is(t.values[5], "2,5,0"));
    db_param_texts_free(&t);

    /* A value of another kind, a missing one, or one too many: refused. */
    struct db_query wrong = {&unit_preconditions, {DB_ID(1)}};
    CHECK(!db_param_texts_make(&t, &wrong, NULL));
    struct db_query missing = {&unit_all_kinds, {DB_ID(42)}};
    CHECK(!db_param_texts_make(&t, &missing, NULL));
    DB_STATEMENT(unit_one_id, "SELECT $1", DB_TYPE_ID);
    struct db_query extra = {&unit_one_id, {DB_ID(1), DB_ID(2)}};
    CHECK(!db_param_texts_make(&t, &extra, NULL));
    struct db_query exact = {&unit_one_id, {DB_ID(1)}};
    CHECK(db_param_texts_make(&t, &exact, NULL) && t.count == 1 && text_is(t.values[0], "1"));
    db_param_texts_free(&t);
}

/* Where webhooks may go: http(s), no credentials, public addresses only. */
static void test_webhook_url_policy(void)
{
    struct url_parts parts;
    CHECK(url_parse("https://Hooks.example.com:8443/a?b#c", &parts) == NULL && parts.https && parts.port == 8443 &&
          strcmp(parts.host, "Hooks.example.com") == 0);
    CHECK(url_parse("http://[2001:4860::8888]/x", &parts) == NULL && parts.port == 80 &&
          strcmp(parts.host, "2001:4860::8888") == 0);
    const char *refused[] = {"ftp://example.com/", "http:///x", "http://", "example.com", "http://a b.com/",
                             "http://u:p@example.com/", "http://example.com:0/", "http://example.com:70000/",
                             "http://[::1", "http://127.0.0.1/", "http://127.1/", "http://2130706433/",
                             "http://0x7f000001/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.0.1/",
                             "http://169.254.169.254/", "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]/",
                             "http://[::]/", "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/",
                             "http://[64:ff9b::7f00:1]/", "http://localhost/", "http://db.internal/",
                             "http://intranet/", "http://224.0.0.1/", "http://255.255.255.255/"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        bool ok = url_policy_check(refused[i]) != NULL;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  accepted: %s\n", refused[i]);
    }
    CHECK(url_policy_check("https://hooks.example.com/crm") == NULL);
    CHECK(url_policy_check("http://8.8.8.8:8080/") == NULL);
    CHECK(url_policy_check("http://[2001:4860:4860::8888]/") == NULL);
    url_policy_allow_private(true);
    CHECK(url_policy_check("http://127.0.0.1:9/") == NULL);
    CHECK(url_policy_check("ftp://127.0.0.1/") != NULL);
    url_policy_allow_private(false);
}

/* Standard Webhooks: v1,base64(HMAC-SHA256(secret bytes, "id.timestamp.body")). */
static void test_webhook_signature(void)
{
    char sig[WEBHOOK_SIGNATURE_SIZE];
    const char *body = "{\"test\": 2432232314}";
    CHECK(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0cIUhb3+FvI=", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                       1614265330, body, strlen(body), sig) &&
          strcmp(sig, "v1,heBM5eSnxbl89+6oC8xpMcbiAmIjghcxegUkm7gT8n8=") == 0); /* Python's hmac agrees */
    CHECK(!webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0cIUhb3+FvI=", "m", 1, "", 0, sig));
    CHECK(!webhook_sign("whsec_not base64!", "m", 1, "", 0, sig));
    char secret[WEBHOOK_SECRET_SIZE];
    webhook_secret_generate(secret);
    unsigned char raw[64];
    size_t len;
    CHECK(strncmp(secret, "whsec_", 6) == 0 && strlen(secret) == 50 && base64_decode(secret + 6, raw, sizeof raw, &len) &&
          len == WEBHOOK_SECRET_BYTES);
}

/* "$N.id" references of a batch: exactly that form, N without leading zeros. */
static void test_batch_references(void)
{
    CHECK(batch_reference_of("$0.id") == 0);
    CHECK(batch_reference_of("$12.id") == 12);
    CHECK(batch_reference_of("$199.id") == 199);
    CHECK(batch_reference_of("$1000.id") == -1);
    CHECK(batch_reference_of("$01.id") == -1);
    CHECK(batch_reference_of("$0.idea") == -1);
    CHECK(batch_reference_of("$0.id ") == -1);
    CHECK(batch_reference_of("$.id") == -1);
    CHECK(batch_reference_of("0.id") == -1);
    CHECK(batch_reference_of("$0") == -1);
    CHECK(batch_reference_of(NULL) == -1);
}

int main(void)
{
    test_money();
    test_utf8();
    test_ids_and_numbers();
    test_base64url();
    test_query_page();
    test_query_string();
    test_valid_fields();
    test_dates();
    test_tokens();
    test_request_ids();
    test_strbuf();
    test_written_numbers();
    test_router();
    test_cors_policy();
    test_cors_reply_headers();
    test_cors_options();
    test_metrics();
    test_store_params();
    test_webhook_url_policy();
    test_webhook_signature();
    test_batch_references();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
