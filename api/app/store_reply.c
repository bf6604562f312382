#include "app/store_reply.h"

#include <stdbool.h>
#include <stddef.h>

#include "app/state.h"

static const struct {
    enum problem problem;
    const char *detail;
    bool shown;
} answers[] = {
    [STORE_OK] = {PROBLEM_INTERNAL, NULL, false}, /* never a problem */
#define STORE_STATUS(name, problem, detail, shown) [STORE_##name] = {PROBLEM_##problem, detail, shown},
#include "errors.def"
};

void merge_store_field_errors(struct request *req, const struct store_result *res)
{
    for (int i = 0; i < res->error_count; i++)
        http_field_error_once(req, res->errors[i].field, res->errors[i].message);
}

static void reply_replay(struct request *req)
{
    const struct store_idempotency *idem = &req->app->idempotency;
    if (idem->replay_location)
        http_header(req, "Location", idem->replay_location);
    if (idem->replay_etag)
        http_header(req, "ETag", idem->replay_etag);
    http_header(req, "Idempotent-Replayed", "true");
    http_reply_json(req, idem->replay_status, idem->replay_body ? idem->replay_body : "{}");
}

void reply_store_error(struct request *req, const struct store_result *res)
{
    for (int i = 0; i < res->error_count; i++)
        http_field_error(req, res->errors[i].field, "%s", res->errors[i].message);
    if (res->status == STORE_REPLAY) {
        reply_replay(req);
        return;
    }
    bool known = res->status > STORE_OK && res->status < STORE_REPLAY;
    enum store_status status = known ? res->status : STORE_ERROR;
    const char *detail = answers[status].shown && res->message ? res->message : answers[status].detail;
    if (status == STORE_CONFLICT && res->count > 0)
        http_reply_problem_count(req, PROBLEM_CONFLICT, detail, "reference_count", res->count);
    else
        http_reply_problem(req, answers[status].problem, detail);
}

void reply_store_result(struct request *req, int status, const struct store_result *res, const char *location_prefix)
{
    if (res->status == STORE_OK)
        http_reply_versioned(req, status, res->body, res->version, res->id, location_prefix);
    else
        reply_store_error(req, res);
}

void reply_store_list(struct request *req, const struct store_result *res, const char *cursor_kind)
{
    if (res->status == STORE_OK)
        http_reply_page(req, res->body, res->next_key, cursor_kind);
    else
        reply_store_error(req, res);
}
