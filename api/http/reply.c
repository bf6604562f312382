#include "http/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
};

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

const char *http_reply_header(const struct request *req, const char *name)
{
    for (int i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
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

void http_field_error_once(struct request *req, const char *field, const char *message)
{
    for (int j = 0; j < req->error_count; j++)
        if (strcmp(req->errors[j].field, field) == 0)
            return;
    http_field_error(req, field, "%s", message);
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

static void set_etag(struct request *req, int64_t version)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    http_header(req, "ETag", etag);
}

void http_reply_versioned(struct request *req, int status, const char *json_text, int64_t version, int64_t id,
                          const char *location_prefix)
{
    if (version > 0)
        set_etag(req, version);
    bool matches = req->if_none_match.any && version > 0; /* only a versioned resource has an ETag */
    for (int i = 0; i < req->if_none_match.count && version > 0; i++)
        matches |= req->if_none_match.versions[i] == version;
    if (status == 200 && matches && strcmp(req->method, "GET") == 0) {
        http_reply_empty(req, 304);
        return;
    }
    if (status == 201 && location_prefix) {
        char location[256];
        snprintf(location, sizeof location, "%s/%lld", location_prefix, (long long)id);
        http_header(req, "Location", location);
    }
    http_reply_json(req, status, json_text);
}

/* Around a page's data array (bounded by the store): {"data":...,
 * "next_cursor":"..."} with the cursor, base64url of the list's kind and its
 * last row's key (a sort value of at most 200 characters and an id, as a
 * JSON array): under 2 KiB. */
#define LIST_ENVELOPE_MAX 4096

void http_reply_page(struct request *req, const char *data, const char *next_key, const char *cursor_kind)
{
    if (data == NULL)
        data = "[]";
    struct strbuf out;
    size_t data_len = strlen(data);
    strbuf_init(&out, data_len + LIST_ENVELOPE_MAX);
    strbuf_reserve(&out, data_len + LIST_ENVELOPE_MAX); /* one block: a page may be large */
    strbuf_puts(&out, "{\"data\":");
    strbuf_puts(&out, data);
    strbuf_puts(&out, ",\"next_cursor\":");
    if (next_key) {
        char *raw = xasprintf("%s|%s", cursor_kind, next_key);
        char *cursor = base64url_encode((const unsigned char *)raw, strlen(raw));
        strbuf_json_string(&out, cursor);
        free(cursor);
        free(raw);
    } else {
        strbuf_puts(&out, "null");
    }
    strbuf_puts(&out, "}");
    size_t len = out.len;
    char *body = strbuf_take(&out);
    if (body == NULL) { /* a cursor past LIST_ENVELOPE_MAX: our bug, never a cut page */
        http_reply_problem(req, PROBLEM_INTERNAL, "The page could not be written; the request id helps us find why.");
        return;
    }
    http_reply_take(req, 200, "application/json; charset=utf-8", body, len);
}

void http_reply_query_errors(struct request *req)
{
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "Some query parameters are invalid.");
}
