#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/text.h"

static const struct {
    int status;
    const char *slug;
    const char *title;
} problems[] = {
#define PROBLEM(name, status, slug, title) {status, slug, title},
#include "errors.def"
#undef PROBLEM
};

const char *http_query(const struct request *req, const char *name)
{
    for (int i = 0; i < req->query_count; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

const char *http_path(const struct request *req, int i)
{
    return i < req->path_param_count ? req->path_params[i] : NULL;
}

static void drop_deferred(struct request *req)
{
    if (req->deferred)
        req->deferred_release(req->deferred);
    req->deferred = NULL;
    req->deferred_release = NULL;
}

void http_reply_reset(struct request *req)
{
    for (int i = 0; i < req->header_count; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    req->header_count = 0;
    for (int i = 0; i < req->error_count; i++) {
        free(req->errors[i].field);
        free(req->errors[i].message);
    }
    req->error_count = 0;
    free(req->reply_body);
    req->reply_body = NULL;
    req->reply_length = 0;
    drop_deferred(req);
    req->content_type = NULL;
    req->status = 0;
}

void http_header(struct request *req, const char *name, const char *value)
{
    if (req->header_count >= (int)(sizeof req->headers / sizeof req->headers[0]))
        return;
    req->headers[req->header_count].name = xstrdup(name);
    req->headers[req->header_count].value = xstrdup(value);
    req->header_count++;
}

void http_reply_take(struct request *req, int status, const char *content_type, char *body, size_t length)
{
    drop_deferred(req);
    free(req->reply_body);
    req->status = status;
    req->content_type = content_type;
    req->reply_body = body;
    req->reply_length = length;
}

void http_reply_deferred(struct request *req, int status, const char *content_type, void *body,
                         void (*release)(void *body))
{
    http_reply_take(req, status, content_type, NULL, 0);
    req->deferred = body;
    req->deferred_release = release;
}

void http_reply_json(struct request *req, int status, const char *json_text)
{
    http_reply_take(req, status, "application/json; charset=utf-8", xstrdup(json_text), strlen(json_text));
}

void http_reply_empty(struct request *req, int status)
{
    http_reply_take(req, status, NULL, NULL, 0);
}

void http_field_error(struct request *req, const char *field, const char *fmt, ...)
{
    if (req->error_count >= HTTP_MAX_FIELD_ERRORS)
        return;
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    req->errors[req->error_count].field = xstrdup(field);
    req->errors[req->error_count].message = xstrdup(message);
    req->error_count++;
}

static void reply_problem(struct request *req, enum problem kind, const char *detail, const char *member,
                          long long value)
{
    json_t *doc = json_object();
    json_t *errors = json_array();
    char type[64];
    snprintf(type, sizeof type, "/problems/%s", problems[kind].slug);
    json_object_set_new(doc, "type", json_string(type));
    json_object_set_new(doc, "title", json_string(problems[kind].title));
    json_object_set_new(doc, "status", json_integer(problems[kind].status));
    json_object_set_new(doc, "detail", json_string(detail ? detail : problems[kind].title));
    json_object_set_new(doc, "request_id", json_string(req->request_id));
    for (int i = 0; i < req->error_count; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "field", json_string(req->errors[i].field));
        json_object_set_new(e, "message", json_string(req->errors[i].message));
        json_array_append_new(errors, e);
    }
    json_object_set_new(doc, "errors", errors);
    if (member)
        json_object_set_new(doc, member, json_integer(value));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply_take(req, problems[kind].status, "application/problem+json; charset=utf-8", text, strlen(text));
    if (kind == PROBLEM_UNAUTHORIZED)
        http_header(req, "WWW-Authenticate", "Bearer realm=\"crm-api\"");
    if (kind == PROBLEM_UNAVAILABLE)
        http_header(req, "Retry-After", "1");
}

void http_reply_problem(struct request *req, enum problem kind, const char *detail)
{
    reply_problem(req, kind, detail, NULL, 0);
}

void http_reply_problem_count(struct request *req, enum problem kind, const char *detail, const char *member,
                              long long value)
{
    reply_problem(req, kind, detail, member, value);
}

void http_merge_field_errors(struct request *req, const struct store_result *res)
{
    for (int i = 0; i < res->error_count; i++) {
        bool listed = false;
        for (int j = 0; j < req->error_count && !listed; j++)
            listed = strcmp(req->errors[j].field, res->errors[i].field) == 0;
        if (!listed)
            http_field_error(req, res->errors[i].field, "%s", res->errors[i].message);
    }
}

void http_reply_store_error(struct request *req, const struct store_result *res)
{
    for (int i = 0; i < res->error_count; i++)
        http_field_error(req, res->errors[i].field, "%s", res->errors[i].message);
    switch (res->status) {
    case STORE_NOT_FOUND:
        http_reply_problem(req, PROBLEM_NOT_FOUND, res->message ? res->message : "No such resource.");
        break;
    case STORE_UNAUTHORIZED:
        http_reply_problem(req, PROBLEM_UNAUTHORIZED, res->message);
        break;
    case STORE_FORBIDDEN:
        http_reply_problem(req, PROBLEM_FORBIDDEN, res->message);
        break;
    case STORE_CONFLICT:
        if (res->count > 0)
            http_reply_problem_count(req, PROBLEM_CONFLICT, res->message, "reference_count", res->count);
        else
            http_reply_problem(req, PROBLEM_CONFLICT, res->message);
        break;
    case STORE_PRECONDITION:
        http_reply_problem(req, PROBLEM_PRECONDITION_FAILED, res->message);
        break;
    case STORE_INVALID:
        http_reply_problem(req, PROBLEM_VALIDATION, res->message ? res->message : "The request has invalid fields.");
        break;
    case STORE_UNAVAILABLE:
        http_reply_problem(req, PROBLEM_UNAVAILABLE, "The database is unavailable; retry shortly.");
        break;
    case STORE_REPLAY: {
        const struct store_idempotency *idem = &req->idempotency;
        if (idem->replay_location)
            http_header(req, "Location", idem->replay_location);
        if (idem->replay_etag)
            http_header(req, "ETag", idem->replay_etag);
        http_header(req, "Idempotent-Replayed", "true");
        http_reply_json(req, idem->replay_status, idem->replay_body ? idem->replay_body : "{}");
        break;
    }
    default:
        http_reply_problem(req, PROBLEM_INTERNAL, "Something went wrong on our side; the request id helps us find it.");
        break;
    }
}

static void set_etag(struct request *req, int64_t version)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    http_header(req, "ETag", etag);
}

void http_reply_resource(struct request *req, int status, const struct store_result *res, const char *location_prefix)
{
    if (res->version > 0)
        set_etag(req, res->version);
    bool matches = req->if_none_match.any && res->version > 0; /* only a versioned resource has an ETag */
    for (int i = 0; i < req->if_none_match.count && res->version > 0; i++)
        matches |= req->if_none_match.versions[i] == res->version;
    if (status == 200 && matches && strcmp(req->method, "GET") == 0) {
        http_reply_empty(req, 304);
        return;
    }
    if (status == 201 && location_prefix) {
        char location[256];
        snprintf(location, sizeof location, "%s/%lld", location_prefix, (long long)res->id);
        http_header(req, "Location", location);
    }
    http_reply_json(req, status, res->body);
}

void http_reply_list(struct request *req, const struct store_result *res, const char *cursor_kind)
{
    struct strbuf out;
    strbuf_init(&out, SIZE_MAX / 2);
    strbuf_puts(&out, "{\"data\":");
    strbuf_puts(&out, res->body ? res->body : "[]");
    strbuf_puts(&out, ",\"next_cursor\":");
    if (res->next_key) {
        char *raw = xasprintf("%s|%s", cursor_kind, res->next_key);
        char *cursor = base64url_encode((const unsigned char *)raw, strlen(raw));
        strbuf_json_string(&out, cursor);
        free(cursor);
        free(raw);
    } else {
        strbuf_puts(&out, "null");
    }
    strbuf_puts(&out, "}");
    size_t len = out.len;
    http_reply_take(req, 200, "application/json; charset=utf-8", strbuf_take(&out), len);
}

bool http_query_limit(struct request *req, int *limit)
{
    const char *v = http_query(req, "limit");
    long n = 50;
    if (v && !parse_int_range(v, 1, 500, &n)) {
        http_field_error(req, "limit", "must be a whole number from 1 to 500");
        return false;
    }
    *limit = (int)n;
    return true;
}

bool http_query_cursor(struct request *req, const char *cursor_kind, char **key)
{
    const char *v = http_query(req, "cursor");
    *key = NULL;
    if (v == NULL)
        return true;
    size_t len;
    char *raw = base64url_decode(v, &len);
    size_t kind_len = strlen(cursor_kind);
    if (raw == NULL || len != strlen(raw) || strncmp(raw, cursor_kind, kind_len) != 0 || raw[kind_len] != '|' ||
        raw[kind_len + 1] == '\0') {
        free(raw);
        http_field_error(req, "cursor", "is not a cursor from this list; use next_cursor as given");
        return false;
    }
    *key = xstrdup(raw + kind_len + 1);
    free(raw);
    return true;
}

bool http_query_page(struct request *req, const char *cursor_kind, bool (*key_valid)(const char *key), int *limit,
                     char **after)
{
    /* Both are parsed (`&`, not `&&`) so that one 400 lists every error. */
    bool ok = http_query_limit(req, limit) & http_query_cursor(req, cursor_kind, after);
    if (*after && !key_valid(*after)) {
        http_field_error(req, "cursor", "is not a cursor from this list; use next_cursor as given");
        ok = false;
    }
    if (!ok) { /* a cursor decoded beside a bad limit is not the caller's */
        free(*after);
        *after = NULL;
    }
    return ok;
}

bool http_key_is_id(const char *key)
{
    int64_t id;
    return parse_id(key, &id);
}

bool http_key_is_position_id(const char *key)
{
    const char *comma = strchr(key, ',');
    char position[16];
    long position_value;
    int64_t id;
    if (comma == NULL || (size_t)(comma - key) >= sizeof position)
        return false;
    memcpy(position, key, (size_t)(comma - key));
    position[comma - key] = '\0';
    return parse_int_range(position, INT32_MIN, INT32_MAX, &position_value) && parse_id(comma + 1, &id);
}

bool http_query_id(struct request *req, const char *name, int64_t *out, bool *present)
{
    const char *v = http_query(req, name);
    *present = v != NULL;
    if (v && !parse_id(v, out)) {
        http_field_error(req, name, "must be a positive whole number (an id)");
        return false;
    }
    return true;
}

bool http_query_bool(struct request *req, const char *name, bool *out)
{
    const char *v = http_query(req, name);
    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0)
        *out = false;
    else {
        http_field_error(req, name, "must be true or false");
        return false;
    }
    return true;
}

bool http_query_timestamp(struct request *req, const char *name, const char **out)
{
    const char *v = http_query(req, name);
    *out = v;
    if (v && !http_valid_timestamp(v)) {
        http_field_error(req, name, "must be an RFC 3339 timestamp such as 2026-11-27T08:00:00Z");
        return false;
    }
    return true;
}

bool http_query_date(struct request *req, const char *name, const char **out)
{
    const char *v = http_query(req, name);
    *out = v;
    if (v && !http_valid_date(v)) {
        http_field_error(req, name, "must be a date written YYYY-MM-DD");
        return false;
    }
    return true;
}

bool http_path_id(struct request *req, int i, int64_t *out)
{
    if (parse_id(http_path(req, i), out))
        return true;
    http_reply_problem(req, PROBLEM_NOT_FOUND, "No resource has this id (ids are positive whole numbers).");
    return false;
}

bool http_require_object(struct request *req)
{
    if (json_is_object(req->body))
        return true;
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body must be a JSON object.");
    return false;
}

void http_drop_echoed_external_id(struct request *req, const char *external_id)
{
    const char *echoed = json_string_value(json_object_get(req->body, "external_id"));
    if (echoed && strcmp(echoed, external_id) == 0)
        json_object_del(req->body, "external_id");
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool http_valid_date(const char *s)
{
    if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

bool http_valid_timestamp(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) */
    char date[11];
    if (strlen(s) < 20 || strlen(s) > 40)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!http_valid_date(date) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    if (atoi(s + 11) > 23 || atoi(s + 14) > 59 || atoi(s + 17) > 60)
        return false;
    bool leap_second = atoi(s + 17) == 60;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int n = 0;
        bool fraction = false;
        while (*p >= '0' && *p <= '9') {
            fraction |= *p != '0';
            p++;
            n++;
        }
        if (n == 0 || n > 9 || (leap_second && fraction)) /* PostgreSQL refuses 60.5 */
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) && p[6] == '\0')
        return atoi(p + 1) <= 15 && atoi(p + 4) <= 59; /* PostgreSQL's range; real zones are within +-14:00 */
    return false;
}

void http_reply_result(struct request *req, int status, const struct store_result *res, const char *location_prefix)
{
    if (res->status == STORE_OK)
        http_reply_resource(req, status, res, location_prefix);
    else
        http_reply_store_error(req, res);
}

void http_reply_list_result(struct request *req, const struct store_result *res, const char *cursor_kind)
{
    if (res->status == STORE_OK)
        http_reply_list(req, res, cursor_kind);
    else
        http_reply_store_error(req, res);
}

void http_reply_query_errors(struct request *req)
{
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "Some query parameters are invalid.");
}
