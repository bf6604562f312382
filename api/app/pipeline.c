#include "app/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/state.h"
#include "app/idempotency.h"
#include "app/if_match.h"
#include "app/metrics.h"
#include "http/negotiation.h"
#include "http/path.h"
#include "http/query_string.h"
#include "http/reply.h"
#include "http/router.h"
#include "log.h"

static bool check_query_names(struct request *req)
{
    if (req->error_count == 0)
        return true;
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "Unknown query parameters.");
    return false;
}

/* Routing: false after replying 404, 405 or to OPTIONS. */
static bool route_request(struct request *req, const struct path_segments *path, const char *url, size_t path_len,
                          const struct cors_policy *cors)
{
    char allow[64];
    if (path->trailing_slash) {
        http_reply_trailing_slash(req, path, url, path_len);
        return false;
    }
    switch (router_match(req->method, path->segments, path->count, &req->route, req->path_params,
                         &req->path_param_count, allow, sizeof allow)) {
    case ROUTE_NO_PATH:
        http_reply_problem(req, PROBLEM_NOT_FOUND, "No such path.");
        return false;
    case ROUTE_NO_METHOD:
        if (strcmp(req->method, "OPTIONS") == 0) { /* any known path, no token: CORS preflights */
            cors_reply_options(req, cors, http_request_header(req, "Origin"),
                               http_request_header(req, "Access-Control-Request-Method"), allow);
            return false;
        }
        http_header(req, "Allow", allow);
        http_reply_problem(req, PROBLEM_METHOD_NOT_ALLOWED, "This path does not take this method; see Allow.");
        return false;
    case ROUTE_FOUND:
        http_path_drop_undecodable(req, path);
        break;
    }
    return true;
}

static void run(struct request *req, const struct cors_policy *cors)
{
    struct path_segments path = {0};
    const char *url = req->url ? req->url : "/";
    const char *question = strchr(url, '?');
    size_t path_len = question ? (size_t)(question - url) : strlen(url);

    if (!http_path_split(url, path_len, &path)) {
        http_reply_problem(req, PROBLEM_NOT_FOUND, "No such path.");
        goto out;
    }
    if (!route_request(req, &path, url, path_len, cors))
        goto out;
    if (!auth_read_token(req) || !http_read_body(req) || !parse_query(req, question ? question + 1 : NULL) ||
        !check_query_names(req) || !idempotency_read_key(req))
        goto out;
    struct etag_list tags;
    http_parse_etags(http_request_header(req, "If-Match"), false, &tags);
    if_match_set(req->app, &tags);
    req->if_none_match_header = http_request_header(req, "If-None-Match");
    http_parse_etags(req->if_none_match_header, true, &req->if_none_match);
    req->accept = http_request_header(req, "Accept");
    req->route->handler(req);
    if (req->status == 0) {
        log_error(req->request_id, "handler for %s %s set no reply", req->method, req->route->pattern);
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
    }
    idempotency_finish(req);
out:
    auth_check_unchecked(req);
    for (int i = 0; i < req->path_param_count; i++)
        req->path_params[i] = NULL; /* they point into the segments */
    http_path_cleanup(&path);
}

void pipeline_serve(struct request *req, const struct cors_policy *cors)
{
    struct app_state app;
    memset(&app, 0, sizeof app);
    store_idempotency_init(&app.idempotency);
    store_transaction_init(&app.transaction);
    req->app = &app;
    run(req, cors);
    req->app = NULL;
    free(app.idempotent_body);
    store_transaction_finish(&app.transaction, NULL, req->request_id, false, 0, NULL, NULL, NULL);
    store_idempotency_cleanup(&app.idempotency);
}

void pipeline_completed(const struct request *req, long duration_us)
{
    log_access(req->request_id, req->method, req->route ? req->route->pattern : "-", req->status, duration_us);
    metrics_count_request(req->route, req->method, req->status, duration_us);
}
