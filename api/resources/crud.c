#include "resources/crud.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/text.h"

/* Validates req->body; on failure replies 422 (with the database's checks
 * of the valid fields when the kind has them) and returns false. */
static bool body_valid(struct request *req, const struct resource_kind *kind, const struct field_spec *fields,
                       enum validate_mode mode, struct store_opt_int id, const char *detail)
{
    bool ok = kind->validate ? kind->validate(req, fields, mode) : validate_body(req, fields, mode);
    if (ok && req->error_count == 0)
        return true;
    if (kind->check)
        reply_invalid_body(req, req->body, kind->check, id, detail);
    else
        http_reply_problem(req, PROBLEM_VALIDATION, detail);
    return false;
}

static void reply(struct request *req, const struct resource_kind *kind, int status, struct store_result *res)
{
    if (res->status == STORE_NOT_FOUND && res->message == NULL) {
        char detail[96];
        snprintf(detail, sizeof detail, "No %s has this id.", kind->name);
        http_reply_problem(req, PROBLEM_NOT_FOUND, detail);
    } else {
        reply_store_result(req, status, res, kind->location);
    }
}

void crud_get(struct request *req, const struct resource_kind *kind)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    kind->get(&req->app->auth, id, &res);
    reply(req, kind, 200, &res);
    store_result_cleanup(&res);
}

void crud_create(struct request *req, const struct resource_kind *kind)
{
    char detail[96];
    snprintf(detail, sizeof detail, "The %s has invalid fields.", kind->name);
    if (!http_require_object(req) || !body_valid(req, kind, kind->create_fields, VALIDATE_CREATE, STORE_NO_INT, detail))
        return;
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    kind->create(&req->app->auth, json, &res);
    reply(req, kind, 201, &res);
    store_result_cleanup(&res);
    free(json);
}

void crud_patch(struct request *req, const struct resource_kind *kind)
{
    int64_t id;
    if (!http_path_id(req, 0, &id) || !http_require_object(req) ||
        !body_valid(req, kind, kind->patch_fields, VALIDATE_PATCH, STORE_INT(id), "The patch has invalid fields."))
        return;
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    kind->patch(&req->app->auth, id, json, req->app->if_match, &res);
    reply(req, kind, 200, &res);
    store_result_cleanup(&res);
    free(json);
}

void crud_upsert(struct request *req, const struct resource_kind *kind)
{
    const char *external_id = http_path(req, 0);
    if (!http_require_object(req))
        return;
    if (external_id == NULL) { /* not percent-encoded UTF-8 text, or a NUL in it */
        http_field_error(req, "external_id", "must be UTF-8 text without NUL characters (percent-encoded in the path)");
    } else {
        size_t len = utf8_length(external_id);
        if (len < 1 || len > 200)
            http_field_error(req, "external_id", "must be 1 to 200 characters long");
        http_drop_echoed_external_id(req, external_id);
    }
    char detail[96];
    snprintf(detail, sizeof detail, "The %s has invalid fields.", kind->name);
    if (!body_valid(req, kind, kind->replace_fields, VALIDATE_REPLACE, STORE_NO_INT, detail))
        return;
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    kind->upsert(&req->app->auth, external_id, json, req->app->if_match, &res);
    reply(req, kind, res.created ? 201 : 200, &res);
    store_result_cleanup(&res);
    free(json);
}

void crud_delete(struct request *req, const struct resource_kind *kind)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    if (kind->remove(&req->app->auth, id, req->app->if_match, &res) == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply(req, kind, 204, &res);
    store_result_cleanup(&res);
}

void crud_child_list(struct request *req, const char *cursor_prefix, store_child_list_fn list)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    int limit;
    struct store_opt_int after;
    char kind[64];
    snprintf(kind, sizeof kind, "%s:%lld", cursor_prefix, (long long)id);
    if (!query_id_page(req, kind, &limit, &after)) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    list(&req->app->auth, id, after, limit, &res);
    reply_store_list(req, &res, kind);
    store_result_cleanup(&res);
}
