#include "app/batch_operation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/batch_references.h"
#include "app/if_match.h"
#include "app/state.h"
#include "app/store_reply.h"
#include "http/negotiation.h"
#include "http/path.h"
#include "http/reply.h"
#include "http/router.h"
#include "log.h"
#include "util/alloc.h"
#include "util/text.h"

#define PATH_MAX_LENGTH 2048
#define WRITABLE "accounts, opportunities, their lines and lookup items"

void batch_result_cleanup(struct batch_result *result)
{
    free(result->body);
    free(result->location);
    free(result->etag);
    memset(result, 0, sizeof *result);
}

/* Accounts, opportunities (lines included) and lookup items: every route
 * under these takes a write with any method but GET. */
static bool writable(const struct route *route)
{
    const char *p = route->pattern;
    return strcmp(route->method, "GET") != 0 &&
           (strncmp(p, "/accounts", 9) == 0 || strncmp(p, "/opportunities", 14) == 0 ||
            strncmp(p, "/lookups/", 9) == 0);
}

/* A routed path: its segments (owned) and the route they match. */
struct routed {
    struct path_segments path;
    const struct route *route;
    const char *params[HTTP_MAX_PATH_PARAMS];
    int param_count;
};

/* Routes method and path; false after recording an error on the
 * operation's path or method. */
static bool route_match(struct request *req, int index, const char *method, const char *path, struct routed *out)
{
    char field[48], allow[64];
    memset(out, 0, sizeof *out);
    snprintf(field, sizeof field, "operations[%d].path", index);
    if (!http_path_split(path, strlen(path), &out->path) || out->path.trailing_slash) {
        http_field_error(req, field, "is not a path of this API");
        return false;
    }
    switch (router_match(method, out->path.segments, out->path.count, &out->route, out->params, &out->param_count,
                         allow, sizeof allow)) {
    case ROUTE_NO_PATH:
        http_field_error(req, field, "is not a path of this API");
        return false;
    case ROUTE_NO_METHOD:
        if (strcmp(allow, "GET") == 0) {
            http_field_error(req, field, "is not one a batch can write: " WRITABLE);
        } else {
            snprintf(field, sizeof field, "operations[%d].method", index);
            http_field_error(req, field, "is not one this path takes (it takes %s)", allow);
        }
        return false;
    case ROUTE_FOUND:
        break;
    }
    if (!writable(out->route)) {
        http_field_error(req, field, "is not one a batch can write: " WRITABLE);
        return false;
    }
    return true;
}

static void routed_cleanup(struct routed *r)
{
    http_path_cleanup(&r->path);
    r->path.count = 0;
}

/* route_match, keeping the segments only when it routed. */
static bool route_of(struct request *req, int index, const char *method, const char *path, struct routed *out)
{
    bool ok = route_match(req, index, method, path, out);
    if (!ok)
        routed_cleanup(out);
    return ok;
}

static bool check_members(struct request *req, int index, json_t *value, struct batch_operation *out)
{
    char field[64];
    const char *key;
    json_t *member;
    bool ok = true;
    json_object_foreach(value, key, member)
    {
        snprintf(field, sizeof field, "operations[%d].%.32s", index, key);
        if (strcmp(key, "method") == 0) {
            const char *m = json_string_value(member);
            if (m && (strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0 ||
                      strcmp(m, "DELETE") == 0))
                out->method = m;
        } else if (strcmp(key, "path") == 0) {
            const char *p = json_string_value(member);
            if (p && p[0] == '/' && strlen(p) <= PATH_MAX_LENGTH && strchr(p, '?') == NULL && strchr(p, '#') == NULL) {
                out->path = p;
            } else {
                ok = false;
                http_field_error(req, field, "must be a path such as /accounts/7 (no query string)");
            }
        } else if (strcmp(key, "body") == 0) {
            out->body = json_is_null(member) ? NULL : member;
        } else if (strcmp(key, "if_match") == 0) {
            if (json_is_string(member)) {
                out->if_match = json_string_value(member);
            } else if (!json_is_null(member)) {
                ok = false;
                http_field_error(req, field, "must be an ETag as If-Match carries it, such as \"\\\"3\\\"\"");
            }
        } else {
            ok = false;
            http_field_error(req, field, "is not a member of an operation (method, path, body, if_match)");
        }
    }
    snprintf(field, sizeof field, "operations[%d].method", index);
    if (out->method == NULL) {
        ok = false;
        http_field_error(req, field, "must be one of POST, PATCH, PUT, DELETE");
    }
    snprintf(field, sizeof field, "operations[%d].path", index);
    if (out->path == NULL && json_object_get(value, "path") == NULL) {
        ok = false;
        http_field_error(req, field, "is required");
    }
    return ok;
}

bool batch_operation_check(struct request *req, int index, json_t *value, struct batch_operation *out)
{
    char field[48];
    memset(out, 0, sizeof *out);
    if (!json_is_object(value)) {
        snprintf(field, sizeof field, "operations[%d]", index);
        http_field_error(req, field, "must be an object: {method, path, body?, if_match?}");
        return false;
    }
    if (!check_members(req, index, value, out))
        return false;
    struct batch_references refs = {req, index, NULL};
    char *path = batch_references_in_path(&refs, out->path);
    struct routed routed;
    bool ok = path && route_of(req, index, out->method, path, &routed);
    free(path);
    if (!ok)
        return false;
    snprintf(field, sizeof field, "operations[%d].body", index);
    if (routed.route->body != BODY_NONE && out->body == NULL) {
        http_field_error(req, field, "is required: %s takes a JSON body", out->method);
        ok = false;
    } else if (routed.route->body == BODY_NONE && out->body) {
        http_field_error(req, field, "must be left out: %s takes no body", out->method);
        ok = false;
    } else if (out->body) {
        ok = batch_references_in_body(&refs, out->body, field);
    }
    routed_cleanup(&routed);
    return ok;
}

/* The name of a field error of the operation's own reply in the batch's
 * reply: a body field under operations[i].body, the external id of an
 * upsert's path under operations[i].path. */
static char *batch_field(const struct request *sub, int index, const char *field)
{
    if (strcmp(field, "external_id") == 0 && strstr(sub->route->pattern, ":external_id")) {
        const char *external_id = http_path(sub, 0);
        size_t len = external_id ? utf8_length(external_id) : 0;
        if (len < 1 || len > 200)
            return xasprintf("operations[%d].path", index);
    }
    if (strcmp(field, "body") == 0)
        return xasprintf("operations[%d].body", index);
    return xasprintf("operations[%d].body%s%s", index, field[0] == '[' ? "" : ".", field);
}

/* The batch's answer when an operation failed: its problem, with
 * operation_index and its fields named in the batch. */
static void reply_failure(struct request *req, int index, struct request *sub)
{
    json_t *doc = sub->reply_body ? json_loads(sub->reply_body, 0, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        log_error(req->request_id, "batch operation %d answered %d without a problem document", index, sub->status);
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        return;
    }
    json_object_set_new(doc, "operation_index", json_integer(index));
    size_t i;
    json_t *error;
    json_array_foreach(json_object_get(doc, "errors"), i, error)
    {
        const char *field = json_string_value(json_object_get(error, "field"));
        if (field) {
            char *name = batch_field(sub, index, field);
            json_object_set_new(error, "field", json_string(name));
            free(name);
        }
    }
    for (int h = 0; h < sub->header_count; h++)
        if (strcmp(sub->headers[h].name, "Location") != 0 && strcmp(sub->headers[h].name, "ETag") != 0)
            http_header(req, sub->headers[h].name, sub->headers[h].value);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply_take(req, sub->status, "application/problem+json; charset=utf-8", text, strlen(text));
}

static const char *no_header(const void *transport, const char *name)
{
    (void)transport;
    (void)name;
    return NULL;
}

/* The operation's own state: the batch's caller and transaction, its own
 * route's access and If-Match. */
static void operation_state(struct app_state *app, struct request *req, const struct route *route, const char *if_match)
{
    memset(app, 0, sizeof *app);
    app->auth = req->app->auth;
    app->auth.idempotency = NULL; /* claimed once, for the whole batch */
    app->auth.admin_only = route->access == ACCESS_ADMIN; /* the token's owner is checked again for these */
    store_idempotency_init(&app->idempotency);
    store_transaction_init(&app->transaction);
    struct etag_list tags;
    http_parse_etags(if_match, false, &tags);
    if_match_set(app, &tags);
}

/* The route's handler on sub; an admin's route checks the role first, in
 * the transaction, as the single request's reply would. */
static void dispatch(struct request *sub, struct app_state *app)
{
    if (app->auth.admin_only) {
        struct store_result res;
        store_result_init(&res);
        if (store_authenticate(&app->auth, &res) != STORE_OK)
            reply_store_error(sub, &res);
        store_result_cleanup(&res);
        if (sub->status)
            return;
    }
    sub->route->handler(sub);
    if (sub->status == 0) {
        log_error(sub->request_id, "handler for %s %s set no reply", sub->method, sub->route->pattern);
        http_reply_problem(sub, PROBLEM_INTERNAL, NULL);
    }
}

static void keep_result(struct request *sub, struct batch_result *result)
{
    result->status = sub->status;
    result->body = sub->status == 204 ? NULL : sub->reply_body;
    if (result->body)
        sub->reply_body = NULL;
    const char *location = http_reply_header(sub, "Location"), *etag = http_reply_header(sub, "ETag");
    result->location = location ? xstrdup(location) : NULL;
    result->etag = etag ? xstrdup(etag) : NULL;
}

bool batch_operation_run(struct request *req, int index, const struct batch_operation *op, struct batch_result *results)
{
    struct batch_references refs = {req, index, results};
    char field[48];
    snprintf(field, sizeof field, "operations[%d].body", index);
    json_t *body = op->body ? json_deep_copy(op->body) : NULL;
    char *path = batch_references_in_path(&refs, op->path);
    struct routed routed;
    if (path == NULL || (body && !batch_references_in_body(&refs, body, field)) ||
        !route_of(req, index, op->method, path, &routed)) {
        http_reply_problem_count(req, PROBLEM_VALIDATION, "An operation refers to a result it cannot use.",
                                 "operation_index", index);
        json_decref(body);
        free(path);
        return false;
    }
    struct request sub;
    memset(&sub, 0, sizeof sub);
    sub.method = op->method;
    sub.url = path;
    sub.header_of = no_header;
    memcpy(sub.request_id, req->request_id, sizeof sub.request_id);
    sub.route = routed.route;
    memcpy(sub.path_params, routed.params, sizeof sub.path_params);
    sub.path_param_count = routed.param_count;
    sub.body = body;
    struct app_state app;
    operation_state(&app, req, routed.route, op->if_match);
    sub.app = &app;
    http_path_drop_undecodable(&sub, &routed.path);
    req->app->transaction.new_change = true;
    dispatch(&sub, &app);
    req->app->auth.authenticated |= app.auth.authenticated;
    bool ok = sub.status >= 200 && sub.status < 300;
    if (ok)
        keep_result(&sub, &results[index]);
    else
        reply_failure(req, index, &sub);
    sub.app = NULL;
    store_idempotency_cleanup(&app.idempotency);
    http_request_cleanup(&sub);
    routed_cleanup(&routed);
    free(path);
    return ok;
}
