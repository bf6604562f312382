/* Query strings and cursors: the text after '?' -> what the dispatcher
 * does with it (parse_query: splitting, percent-decoding, names checked
 * against the route's, repeats refused), then every query parameter parser
 * the handlers call on the result (limit, cursors and their keys, ids,
 * booleans, dates, timestamps), as each list endpoint calls them.
 *
 * Checked besides crashes, leaks and undefined behaviour: a kept parameter
 * is one the route names, decoded to UTF-8 without NUL; percent-encoding a
 * decoded text and decoding it again gives it back; a cursor key handed
 * to the store is one the list made (re-encoding it gives a cursor that
 * decodes to the same key); dates and timestamps that pass are of their
 * exact forms. */
#include <string.h>

#include "http/query_string.h"
#include "http/router.h"
#include "support.h"
#include "util/alloc.h"
#include "util/text.h"

/* Every name any route takes (app/routes.c), so all parsers see values. */
static const struct route route = {
    .method = "GET",
    .pattern = "/fuzz",
    .query_params = "limit cursor active q owner_id source_id updated_since external_id include_deleted "
                    "account_id sort status_id forecast_id outcome close_from close_to from to period owner_ids "
                    "shared status_ids forecast_ids outcomes group_by split_by format",
};

/* A list endpoint's cursor: the kind it is made for, the keys it takes. */
static const struct {
    const char *kind;
    bool (*key_valid)(const char *key);
} lists[] = {
    {"accounts", http_key_is_id},         {"users", http_key_is_id},     {"tokens", http_key_is_id},
    {"forecast-reports", http_key_is_id}, {"history:7", http_key_is_id}, {"lookups", http_key_is_position_id},
    {"lines:7", http_key_is_position_id}, {"opportunities:id", NULL}, /* opportunities: any key text */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static bool route_names(const char *name)
{
    size_t len = strlen(name);
    for (const char *p = route.query_params; *p;) {
        size_t word = strcspn(p, " ");
        if (word == len && strncmp(p, name, len) == 0)
            return true;
        p += word;
        p += *p == ' ';
    }
    return false;
}

/* Percent-encodes every byte but unreserved ones. */
static char *percent_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(strlen(s) * 3 + 1);
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

static void check_round_trip(const char *decoded)
{
    char *encoded = percent_encode(decoded);
    char *again = percent_decode(encoded, strlen(encoded), true);
    FUZZ_ASSERT(again != NULL && strcmp(again, decoded) == 0);
    free(again);
    free(encoded);
}

static void check_cursor(struct request *req, size_t i)
{
    char *key = NULL;
    int limit = 0;
    int errors_before = req->error_count;
    bool ok = lists[i].key_valid ? http_query_page(req, lists[i].kind, lists[i].key_valid, &limit, &key)
                                 : http_query_cursor(req, lists[i].kind, &key);
    FUZZ_ASSERT(ok == (req->error_count == errors_before));
    if (lists[i].key_valid)
        FUZZ_ASSERT(!ok || (limit >= 1 && limit <= 500));
    if (ok && key) {
        FUZZ_ASSERT(key[0] != '\0' && (lists[i].key_valid == NULL || lists[i].key_valid(key)));
        /* The cursor the list would make for this key names it again. */
        char *raw = xasprintf("%s|%s", lists[i].kind, key);
        char *cursor = base64url_encode((const unsigned char *)raw, strlen(raw));
        size_t len;
        char *decoded = base64url_decode(cursor, &len);
        FUZZ_ASSERT(decoded && len == strlen(raw) && strcmp(decoded, raw) == 0);
        free(decoded);
        free(cursor);
        free(raw);
    }
    FUZZ_ASSERT(ok || key == NULL);
    free(key);
}

static void check_values(struct request *req)
{
    for (int i = 0; i < req->query_count; i++) {
        const char *name = req->query[i].name, *value = req->query[i].value;
        FUZZ_ASSERT(route_names(name));
        FUZZ_ASSERT(utf8_valid(name, strlen(name)) && utf8_valid(value, strlen(value)));
        check_round_trip(name);
        check_round_trip(value);
        if (http_valid_date(value)) {
            FUZZ_ASSERT(strlen(value) == 10 && value[4] == '-' && value[7] == '-');
            char midnight[32];
            snprintf(midnight, sizeof midnight, "%sT00:00:00Z", value);
            FUZZ_ASSERT(http_valid_timestamp(midnight));
        }
        if (http_valid_timestamp(value)) {
            char date[11];
            memcpy(date, value, 10);
            date[10] = '\0';
            FUZZ_ASSERT(http_valid_date(date) && strlen(value) >= 20 && strlen(value) <= 40);
        }
        http_key_is_id(value);
        http_key_is_position_id(value);
        size_t len;
        free(base64url_decode(value, &len));
    }
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        check_cursor(req, i);
    int64_t id;
    bool present, flag = false;
    const char *text;
    static const char *const ids[] = {"owner_id", "source_id", "account_id", "status_id", "forecast_id"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (http_query_id(req, ids[i], &id, &present) && present)
            FUZZ_ASSERT(id > 0);
    static const char *const flags[] = {"active", "include_deleted", "shared"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        http_query_bool(req, flags[i], &flag);
    static const char *const dates[] = {"close_from", "close_to", "from", "to"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        if (http_query_date(req, dates[i], &text) && text)
            FUZZ_ASSERT(strlen(text) == 10);
    if (http_query_timestamp(req, "updated_since", &text) && text)
        FUZZ_ASSERT(strlen(text) >= 20);
    if (req->error_count > 0)
        http_reply_query_errors(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The target is a C string: it ends at the first NUL. */
    char *query = xstrndup((const char *)data, size);
    struct request req;
    fuzz_request_init(&req, &route);
    req.method = "GET";
    if (parse_query(&req, query)) {
        FUZZ_ASSERT(req.status == 0);
        if (req.error_count == 0)
            check_values(&req);
        else
            http_reply_problem(&req, PROBLEM_BAD_REQUEST, "Unknown query parameters.");
    } else {
        FUZZ_ASSERT(req.status == 400);
    }
    fuzz_check_reply(&req);
    fuzz_request_cleanup(&req);

    /* The decoder alone, on the raw bytes, in both of its modes. */
    for (int plus = 0; plus < 2; plus++) {
        char *decoded = percent_decode((const char *)data, size, plus);
        if (decoded) {
            FUZZ_ASSERT(utf8_valid(decoded, strlen(decoded)) && strlen(decoded) <= size);
            check_round_trip(decoded);
        }
        free(decoded);
    }
    free(query);
    return 0;
}
