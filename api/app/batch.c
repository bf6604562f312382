#include "app/batch.h"

#include <stdlib.h>
#include <string.h>

#include "app/batch_operation.h"
#include "app/state.h"
#include "app/store_reply.h"
#include "http/reply.h"
#include "util/alloc.h"
#include "util/strbuf.h"

/* Runs of the whole batch when the database asks for it again (a
 * serialization failure or a deadlock inside its transaction). */
#define MAX_ATTEMPTS 3

/* Checks the body and every operation's shape before anything runs;
 * false after replying 400 or 422. */
static bool check_batch(struct request *req, struct batch_operation *ops, int *count)
{
    if (!json_is_object(req->body)) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body must be a JSON object.");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(req->body, key, value)
    {
        if (strcmp(key, "operations") != 0)
            http_field_error(req, key, "is not a field of a batch (operations)");
    }
    json_t *list = json_object_get(req->body, "operations");
    size_t n = json_array_size(list);
    if (!json_is_array(list))
        http_field_error(req, "operations", "is required: an array of 1 to %d operations", BATCH_MAX_OPERATIONS);
    else if (n < 1 || n > BATCH_MAX_OPERATIONS)
        http_field_error(req, "operations", "must hold 1 to %d operations (it holds %zu)", BATCH_MAX_OPERATIONS, n);
    if (req->error_count) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The batch has invalid fields.");
        return false;
    }
    int first_invalid = -1;
    for (size_t i = 0; i < n; i++)
        if (!batch_operation_check(req, (int)i, json_array_get(list, i), &ops[i]) && first_invalid < 0)
            first_invalid = (int)i;
    if (first_invalid >= 0) {
        http_reply_problem_count(req, PROBLEM_VALIDATION, "Operations of the batch are invalid; none was run.",
                                 "operation_index", first_invalid);
        return false;
    }
    *count = (int)n;
    return true;
}

/* {"results": [{status, headers: {Location?, ETag?}, body}]}, the bodies
 * as the operations answered them. */
static void reply_results(struct request *req, const struct batch_result *results, int count)
{
    size_t bound = 16;
    for (int i = 0; i < count; i++)
        bound += 96 + (results[i].body ? strlen(results[i].body) : 4) +
                 6 * ((results[i].location ? strlen(results[i].location) : 0) +
                      (results[i].etag ? strlen(results[i].etag) : 0));
    struct strbuf out;
    strbuf_init(&out, bound);
    strbuf_puts(&out, "{\"results\":[");
    for (int i = 0; i < count; i++) {
        const struct batch_result *r = &results[i];
        strbuf_printf(&out, "%s{\"status\":%d,\"headers\":{", i ? "," : "", r->status);
        if (r->location) {
            strbuf_puts(&out, "\"Location\":");
            strbuf_json_string(&out, r->location);
        }
        if (r->etag) {
            strbuf_puts(&out, r->location ? ",\"ETag\":" : "\"ETag\":");
            strbuf_json_string(&out, r->etag);
        }
        strbuf_puts(&out, "},\"body\":");
        strbuf_puts(&out, r->body ? r->body : "null");
        strbuf_puts(&out, "}");
    }
    strbuf_puts(&out, "]}");
    char *text = strbuf_take(&out);
    if (text == NULL) {
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        return;
    }
    http_reply_take(req, 200, "application/json; charset=utf-8", text, strlen(text));
}

/* One run: the transaction opened (token check, Idempotency-Key claim),
 * then each operation in order until one fails. */
static bool run_all(struct request *req, const struct batch_operation *ops, int count, struct batch_result *results)
{
    struct store_result res;
    store_result_init(&res);
    bool open = store_transaction_begin(&req->app->auth, &res) == STORE_OK;
    if (!open)
        reply_store_error(req, &res);
    store_result_cleanup(&res);
    for (int i = 0; open && i < count; i++)
        if (!batch_operation_run(req, i, &ops[i], results))
            return false;
    return open;
}

void batch_run(struct request *req)
{
    struct batch_operation ops[BATCH_MAX_OPERATIONS];
    int count = 0;
    if (!check_batch(req, ops, &count))
        return;
    struct app_state *app = req->app;
    app->auth.transaction = &app->transaction; /* committed by the pipeline once the reply is a success */
    struct batch_result *results = xcalloc((size_t)count, sizeof *results);
    for (int attempt = 1;; attempt++) {
        app->transaction.retry = false;
        if (run_all(req, ops, count, results)) {
            reply_results(req, results, count);
            break;
        }
        if (!app->transaction.retry || attempt == MAX_ATTEMPTS)
            break;
        store_transaction_finish(&app->transaction, NULL, req->request_id, false, 0, NULL, NULL, NULL);
        for (int i = 0; i < count; i++)
            batch_result_cleanup(&results[i]);
        http_reply_reset(req);
    }
    for (int i = 0; i < count; i++)
        batch_result_cleanup(&results[i]);
    free(results);
}
