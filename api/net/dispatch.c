#include "dispatch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cors.h"
#include "deferred_body.h"
#include "http.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "query_string.h"
#include "request_limits.h"
#include "router.h"
#include "util/alloc.h"
#include "util/text.h"
#include "util/token.h"

#define MAX_SEGMENTS 8
#define DEFERRED_BLOCK_SIZE 16384 /* bytes per read of a deferred body */

static long elapsed_us(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000L + (now.tv_nsec - start->tv_nsec) / 1000L;
}

static const char *header(const struct _u_request *u_req, const char *name)
{
    return u_map_get_case(u_req->map_header, name);
}

static void set_request_id(struct request *req, const char *given)
{
    bool usable = given && *given && strlen(given) < sizeof req->request_id;
    for (const char *p = given; usable && *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            usable = false;
    if (usable) {
        strcpy(req->request_id, given); /* length checked above */
        return;
    }
    request_id_generate(req->request_id);
}

/* The request path split into segments. */
struct path_segments {
    char *segments[MAX_SEGMENTS]; /* decoded, owned; see undecodable */
    int count;
    unsigned undecodable; /* bit i: segment i kept as sent (bad escape, NUL, not UTF-8) */
    bool trailing_slash; /* "/accounts/": the empty last segment is left out */
};

/* Splits the raw path into segments, percent-decoded; a segment that
 * cannot be decoded is kept as sent, so it can still fill a path
 * parameter (which then reaches no handler) but never a literal segment.
 * False when the path has too many segments or does not start with '/'. */
static bool split_path(const char *path, size_t len, struct path_segments *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (out->count >= MAX_SEGMENTS)
                return false;
            char *segment = percent_decode(path + start, i - start, false);
            if (segment == NULL) {
                segment = xstrndup(path + start, i - start);
                out->undecodable |= 1u << out->count;
            }
            out->segments[out->count++] = segment;
            start = i + 1;
        }
    }
    if (out->segments[out->count - 1][0] == '\0') {
        free(out->segments[--out->count]);
        out->trailing_slash = true;
    }
    return true;
}

/* A path parameter that could not be decoded reaches its handler as NULL
 * (an id is then not found; an external id is a 422 naming it). */
static void drop_undecodable_params(struct request *req, const struct path_segments *path)
{
    for (int p = 0; p < req->path_param_count; p++)
        for (int i = 0; i < path->count; i++)
            if (req->path_params[p] == path->segments[i] && (path->undecodable & (1u << i)))
                req->path_params[p] = NULL;
}

/* Paths never end with a slash: "/accounts/204/" is not found, and when
 * the path without the slash exists the detail names it. */
static void reply_trailing_slash(struct request *req, const struct path_segments *path, const char *raw, size_t raw_len)
{
    const struct route *route;
    const char *params[HTTP_MAX_PATH_PARAMS];
    int param_count;
    char allow[64];
    bool printable = raw_len <= 256 && path->undecodable == 0;
    for (size_t i = 0; printable && i < raw_len; i++)
        printable = raw[i] > 0x20 && raw[i] < 0x7f;
    enum route_match match =
        router_match(req->method, path->segments, path->count, &route, params, &param_count, allow, sizeof allow);
    if (match == ROUTE_NO_PATH) {
        http_reply_problem(req, PROBLEM_NOT_FOUND, "No such path.");
        return;
    }
    char detail[400];
    if (printable)
        snprintf(detail, sizeof detail, "No such path: paths do not end with a slash; the path is %.*s.",
                 (int)(raw_len - 1), raw);
    else
        snprintf(detail, sizeof detail, "No such path: paths do not end with a slash; send it without the last one.");
    http_reply_problem(req, PROBLEM_NOT_FOUND, detail);
}

static bool check_query_names(struct request *req)
{
    if (req->error_count == 0)
        return true;
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "Unknown query parameters.");
    return false;
}

/* Parses an entity tag list ("*", or tags like "3", W/"3"): the versions
 * it names (weak ones only where allowed), whether it is "*", and whether
 * the header was sent at all. Tags that are not versions of ours match
 * nothing. */
static void parse_etag_header(const char *value, bool allow_weak, struct etag_list *out)
{
    memset(out, 0, sizeof *out);
    if (value == NULL)
        return;
    out->present = true;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*') {
            out->any = true;
            return;
        }
        bool weak = strncmp(p, "W/", 2) == 0;
        if (weak)
            p += 2;
        if (*p != '"')
            return;
        const char *end = strchr(p + 1, '"');
        if (end == NULL)
            return;
        char tag[24];
        size_t len = (size_t)(end - p - 1);
        int64_t version;
        if (len < sizeof tag && (!weak || allow_weak) && out->count < ETAG_LIST_MAX) {
            memcpy(tag, p + 1, len);
            tag[len] = '\0';
            if (parse_id(tag, &version))
                out->versions[out->count++] = version;
        }
        p = end + 1;
    }
}

/* If-Match as the store takes it: one version, "*", none, or a list passed
 * beside the statements (api_check_version reads it). */
static void set_if_match(struct request *req, const struct etag_list *tags)
{
    if (!tags->present) {
        req->if_match = STORE_IF_MATCH_NONE;
    } else if (tags->any) {
        req->if_match = STORE_IF_MATCH_ANY;
    } else if (tags->count <= 1) {
        req->if_match = tags->count ? tags->versions[0] : 0; /* 0 matches nothing */
    } else {
        size_t used = 0;
        for (int i = 0; i < tags->count; i++)
            used += (size_t)snprintf(req->if_match_list + used, sizeof req->if_match_list - used, "%s%lld",
                                     i ? "," : "", (long long)(tags->versions[i] > INT32_MAX ? 0 : tags->versions[i]));
        req->if_match = STORE_IF_MATCH_LIST;
        req->auth.if_match_list = req->if_match_list;
    }
}

static bool media_type_is(const char *content_type, const char *expected)
{
    size_t n = strlen(expected);
    if (strncasecmp(content_type, expected, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return true;
    if (*rest != ';')
        return false;
    rest++;
    while (*rest == ' ')
        rest++;
    return strncasecmp(rest, "charset=utf-8", 13) == 0 || strncasecmp(rest, "charset=\"utf-8\"", 15) == 0;
}

/* Size, media type and JSON syntax of the body. */
static bool read_body(struct request *req, const struct _u_request *u_req)
{
    const char *length = header(u_req, "Content-Length");
    long declared = 0;
    if ((length && parse_int_range(length, 0, 1L << 40, &declared) && declared > HTTP_MAX_BODY) ||
        u_req->binary_body_length > HTTP_MAX_BODY) {
        http_reply_problem(req, PROBLEM_PAYLOAD_TOO_LARGE, "The body is larger than 1 MiB (1048576 bytes).");
        return false;
    }
    size_t size = u_req->binary_body_length;
    if (req->route->body == BODY_NONE) {
        if (size > 0) {
            http_reply_problem(req, PROBLEM_BAD_REQUEST, "This endpoint takes no body.");
            return false;
        }
        return true;
    }
    const char *type = header(u_req, "Content-Type");
    bool json = type && (media_type_is(type, "application/json") ||
                         (req->route->body == BODY_PATCH && media_type_is(type, "application/merge-patch+json")));
    if (!json) {
        http_reply_problem(req, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
                           req->route->body == BODY_PATCH
                               ? "Send the body as application/json or application/merge-patch+json (UTF-8)."
                               : "Send the body as application/json (UTF-8).");
        return false;
    }
    if (size == 0) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body is empty; send a JSON document.");
        return false;
    }
    json_error_t error;
    size_t text_size;
    char *text = json_keep_written_numbers(u_req->binary_body, size, &text_size);
    if (text == NULL) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "Strings may not begin with U+E000 (a reserved character).");
        return false;
    }
    req->body = json_loadb(text, text_size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    if (req->body == NULL) {
        char detail[300];
        snprintf(detail, sizeof detail, "The body is not valid JSON: %s (line %d, column %d).", error.text, error.line,
                 error.column);
        http_reply_problem(req, PROBLEM_BAD_REQUEST, detail);
        return false;
    }
    return true;
}

static bool read_token(struct request *req, const struct _u_request *u_req)
{
    req->auth.request_id = req->request_id;
    req->auth.admin_only = req->route->access == ACCESS_ADMIN;
    req->auth.authenticated = &req->authenticated;
    if (req->route->access == ACCESS_PUBLIC)
        return true;
    const char *authz = header(u_req, "Authorization");
    if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0 || !token_hash(authz + 7, req->token_hash)) {
        http_reply_problem(req, PROBLEM_UNAUTHORIZED, "Send an API token as Authorization: Bearer <token>.");
        return false;
    }
    req->auth.token_hash = req->token_hash;
    return true;
}

/* A POST with Idempotency-Key runs under the key: its write and the record
 * of its response commit together (see store_idempotency_finish). */
static bool read_idempotency_key(struct request *req, const struct _u_request *u_req)
{
    const char *key = header(u_req, "Idempotency-Key");
    if (key == NULL || strcmp(req->method, "POST") != 0)
        return true;
    size_t len = strlen(key);
    bool printable = len >= 1 && len <= 255;
    for (const char *p = key; printable && *p; p++)
        printable = *p >= 0x20 && *p <= 0x7e;
    if (!printable) {
        http_field_error(req, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "The Idempotency-Key header is malformed.");
        return false;
    }
    token_hash_bytes(key, len, req->idempotency.key_hash);
    /* The request is what the key stands for: method, target and body. */
    size_t url_len = strlen(u_req->http_url ? u_req->http_url : "");
    size_t total = strlen(req->method) + 1 + url_len + 1 + u_req->binary_body_length;
    char *text = xmalloc(total + 1);
    int n = snprintf(text, total + 1, "%s %s\n", req->method, u_req->http_url ? u_req->http_url : "");
    if (u_req->binary_body_length)
        memcpy(text + n, u_req->binary_body, u_req->binary_body_length);
    token_hash_bytes(text, (size_t)n + u_req->binary_body_length, req->idempotency.request_hash);
    free(text);
    req->auth.idempotency = &req->idempotency;
    return true;
}

static const char *reply_header(const struct request *req, const char *name)
{
    for (int i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* Commits a keyed write with the record of its response, or rolls it back
 * when the reply is an error. A failed commit keeps nothing: say so. */
static void finish_idempotency(struct request *req)
{
    if (!req->idempotency.transaction_open)
        return;
    bool commit = req->status >= 200 && req->status < 400;
    const char *body = req->idempotent_body ? req->idempotent_body : req->reply_body;
    if (!store_idempotency_finish(&req->idempotency, req->request_id, commit, req->status,
                                  reply_header(req, "Location"), reply_header(req, "ETag"), body ? body : "") &&
        commit) {
        http_reply_reset(req);
        http_reply_problem(req, PROBLEM_UNAVAILABLE, "The change could not be committed; nothing was kept. Retry.");
    }
}

/* The token is checked in the database together with a request's own
 * statements, so a reply made before any store call (a bad body, a bad id,
 * a handler that needs no data) has not checked it yet. Check it now: an
 * unknown token must get 401 and a member 403, whatever else is wrong. */
static void authenticate_unchecked(struct request *req)
{
    if (req->route == NULL || req->route->access == ACCESS_PUBLIC || req->authenticated || req->status == 401 ||
        req->status == 403 || req->status == 503)
        return;
    struct store_auth auth = req->auth;
    auth.idempotency = NULL; /* a check alone, outside any keyed transaction */
    struct store_result res;
    store_result_init(&res);
    if (store_authenticate(&auth, &res) != STORE_OK) {
        http_reply_reset(req);
        http_reply_store_error(req, &res);
    }
    store_result_cleanup(&res);
}

static void request_cleanup(struct request *req, char **segments, int segment_count)
{
    for (int i = 0; i < segment_count; i++)
        free(segments[i]);
    for (int i = 0; i < req->query_count; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    for (int i = 0; i < req->error_count; i++) {
        free(req->errors[i].field);
        free(req->errors[i].message);
    }
    for (int i = 0; i < req->header_count; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    json_decref(req->body);
    free(req->reply_body);
    if (req->deferred)
        req->deferred_release(req->deferred);
    free(req->idempotent_body);
    store_idempotency_cleanup(&req->idempotency);
}

static void send_reply(struct request *req, struct _u_response *u_resp)
{
    u_resp->status = req->status;
    u_map_put(u_resp->map_header, "X-Request-Id", req->request_id);
    if (req->content_type)
        u_map_put(u_resp->map_header, "Content-Type", req->content_type);
    for (int i = 0; i < req->header_count; i++)
        u_map_put(u_resp->map_header, req->headers[i].name, req->headers[i].value);
    if (lifecycle_draining()) /* libmicrohttpd closes the connection after this reply */
        u_map_put(u_resp->map_header, "Connection", "close");
    if (req->deferred) { /* computed on a report thread while this one serves other connections */
        ulfius_set_stream_response(u_resp, (unsigned)req->status, deferred_body_read, req->deferred_release,
                                   U_STREAM_SIZE_UNKNOWN, DEFERRED_BLOCK_SIZE, req->deferred);
        req->deferred = NULL;
    } else if (req->reply_body) { /* MHD itself leaves the body out of a HEAD reply, keeping its length */
        /* Hand our buffer to Ulfius instead of copying it. */
        u_resp->binary_body = req->reply_body;
        u_resp->binary_body_length = req->reply_length;
        req->reply_body = NULL;
    }
}

int dispatch_request(const struct _u_request *u_req, struct _u_response *u_resp, void *user_data)
{
    const struct cors_policy *cors = user_data;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct request req;
    memset(&req, 0, sizeof req);
    req.method = u_req->http_verb;
    req.if_match = STORE_IF_MATCH_NONE;
    store_idempotency_init(&req.idempotency);
    set_request_id(&req, header(u_req, "X-Request-Id"));
    const char *origin = header(u_req, "Origin");

    struct path_segments path = {0};
    const char *url = u_req->http_url ? u_req->http_url : "/";
    const char *question = strchr(url, '?');
    size_t path_len = question ? (size_t)(question - url) : strlen(url);
    const char *route_name = "-";
    char allow[64];

    if (!request_within_limits(&req, u_req))
        goto out;
    if (!split_path(url, path_len, &path)) {
        http_reply_problem(&req, PROBLEM_NOT_FOUND, "No such path.");
        goto out;
    }
    if (path.trailing_slash) {
        reply_trailing_slash(&req, &path, url, path_len);
        goto out;
    }
    switch (router_match(req.method, path.segments, path.count, &req.route, req.path_params, &req.path_param_count,
                         allow, sizeof allow)) {
    case ROUTE_NO_PATH:
        http_reply_problem(&req, PROBLEM_NOT_FOUND, "No such path.");
        goto out;
    case ROUTE_NO_METHOD:
        if (strcmp(req.method, "OPTIONS") == 0) { /* any known path, no token: CORS preflights */
            cors_reply_options(&req, cors, origin, header(u_req, "Access-Control-Request-Method"), allow);
            goto out;
        }
        http_header(&req, "Allow", allow);
        http_reply_problem(&req, PROBLEM_METHOD_NOT_ALLOWED, "This path does not take this method; see Allow.");
        goto out;
    case ROUTE_FOUND:
        drop_undecodable_params(&req, &path);
        break;
    }
    route_name = req.route->pattern;
    if (!read_token(&req, u_req) || !read_body(&req, u_req) || !parse_query(&req, question ? question + 1 : NULL) ||
        !check_query_names(&req) || !read_idempotency_key(&req, u_req))
        goto out;
    struct etag_list tags;
    parse_etag_header(header(u_req, "If-Match"), false, &tags);
    set_if_match(&req, &tags);
    req.if_none_match_header = header(u_req, "If-None-Match");
    parse_etag_header(req.if_none_match_header, true, &req.if_none_match);
    req.accept = header(u_req, "Accept");
    req.u_request = u_req;
    req.route->handler(&req);
    if (req.status == 0) {
        log_error(req.request_id, "handler for %s %s set no reply", req.method, route_name);
        http_reply_problem(&req, PROBLEM_INTERNAL, NULL);
    }
    finish_idempotency(&req);
out:
    authenticate_unchecked(&req);
    send_reply(&req, u_resp);
    cors_add_reply_headers(cors, origin, u_resp->map_header);
    long duration_us = elapsed_us(&start);
    log_access(req.request_id, req.method, route_name, req.status, duration_us);
    metrics_count_request(req.route, req.method, req.status, duration_us);
    for (int i = 0; i < req.path_param_count; i++)
        req.path_params[i] = NULL; /* they point into segments */
    request_cleanup(&req, path.segments, path.count);
    return U_CALLBACK_COMPLETE;
}
