#include "app/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/state.h"
#include "http/reply.h"
#include "util/alloc.h"
#include "util/token.h"

bool idempotency_read_key(struct request *req)
{
    const char *key = http_request_header(req, "Idempotency-Key");
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
    struct app_state *app = req->app;
    token_hash_bytes(key, len, app->idempotency.key_hash);
    /* The request is what the key stands for: method, target and body. */
    const char *url = req->url ? req->url : "";
    size_t url_len = strlen(url);
    size_t total = strlen(req->method) + 1 + url_len + 1 + req->body_length;
    char *text = xmalloc(total + 1);
    int n = snprintf(text, total + 1, "%s %s\n", req->method, url);
    if (req->body_length)
        memcpy(text + n, req->body_bytes, req->body_length);
    token_hash_bytes(text, (size_t)n + req->body_length, app->idempotency.request_hash);
    free(text);
    app->auth.idempotency = &app->idempotency;
    app->auth.transaction = &app->transaction;
    return true;
}

void idempotency_finish(struct request *req)
{
    struct app_state *app = req->app;
    if (!app->transaction.open)
        return;
    bool commit = req->status >= 200 && req->status < 400;
    const char *body = app->idempotent_body ? app->idempotent_body : req->reply_body;
    if (!store_transaction_finish(&app->transaction, app->auth.idempotency, req->request_id, commit, req->status,
                                  http_reply_header(req, "Location"), http_reply_header(req, "ETag"),
                                  body ? body : "") &&
        commit) {
        http_reply_reset(req);
        http_reply_problem(req, PROBLEM_UNAVAILABLE, "The change could not be committed; nothing was kept. Retry.");
    }
}
