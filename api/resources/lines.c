/* /opportunities/{id}/lines: the product lines that price a deal. Every
 * change moves the opportunity's value, updated_at and version in the same
 * transaction (see db/functions/opportunities.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/invalid.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/opportunities.h"
#include "app/validate.h"

static void location_of(char *out, size_t size, int64_t opportunity_id)
{
    snprintf(out, size, "/opportunities/%lld/lines", (long long)opportunity_id);
}

void lines_list(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    int limit;
    char *after = NULL;
    char kind[48]; /* a cursor belongs to one opportunity's lines */
    snprintf(kind, sizeof kind, "lines:%lld", (long long)id);
    if (!http_query_page(req, kind, http_key_is_position_id, &limit, &after)) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_line_list(&req->app->auth, id, after, limit, &res);
    reply_store_list(req, &res, kind);
    store_result_cleanup(&res);
    free(after);
}

void lines_create(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id) || !http_require_object(req))
        return;
    if (!validate_body(req, line_create_fields, VALIDATE_CREATE)) {
        reply_invalid_body(req, req->body, store_line_check, STORE_NO_INT, "The line has invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    char location[64];
    location_of(location, sizeof location, id);
    struct store_result res;
    store_result_init(&res);
    store_line_create(&req->app->auth, id, json, req->app->if_match, &res);
    reply_store_result(req, 201, &res, location);
    store_result_cleanup(&res);
    free(json);
}

void lines_get(struct request *req)
{
    int64_t id, line_id;
    if (!http_path_id(req, 0, &id) || !http_path_id(req, 1, &line_id))
        return;
    struct store_result res;
    store_result_init(&res);
    store_line_get(&req->app->auth, id, line_id, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
}

void lines_patch(struct request *req)
{
    int64_t id, line_id;
    if (!http_path_id(req, 0, &id) || !http_path_id(req, 1, &line_id) || !http_require_object(req))
        return;
    if (!validate_body(req, line_patch_fields, VALIDATE_PATCH)) {
        reply_invalid_body(req, req->body, store_line_check, STORE_INT(line_id), "The patch has invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_line_patch(&req->app->auth, id, line_id, json, req->app->if_match, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
    free(json);
}

void lines_delete(struct request *req)
{
    int64_t id, line_id;
    if (!http_path_id(req, 0, &id) || !http_path_id(req, 1, &line_id))
        return;
    struct store_result res;
    store_result_init(&res);
    if (store_line_delete(&req->app->auth, id, line_id, req->app->if_match, &res) == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_store_error(req, &res);
    store_result_cleanup(&res);
}

/* PUT takes a bare array and answers the new set (a bare array) with the
 * opportunity's new ETag. */
void lines_replace(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    if (!json_is_array(req->body)) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body must be a JSON array of lines.");
        return;
    }
    if (!validate_array(req, req->body, line_create_fields, MAX_LINES, "")) {
        http_reply_problem(req, PROBLEM_VALIDATION, "Some lines have invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_lines_replace(&req->app->auth, id, json, req->app->if_match, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
    free(json);
}
