#include "app/auth.h"

#include <string.h>
#include <strings.h>

#include "app/state.h"
#include "app/store_reply.h"
#include "http/router.h"
#include "util/token.h"

bool auth_read_token(struct request *req)
{
    struct app_state *app = req->app;
    app->auth.request_id = req->request_id;
    app->auth.admin_only = req->route->access == ACCESS_ADMIN;
    if (req->route->access == ACCESS_PUBLIC)
        return true;
    const char *authz = http_request_header(req, "Authorization");
    if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0 || !token_hash(authz + 7, app->token_hash)) {
        http_reply_problem(req, PROBLEM_UNAUTHORIZED, "Send an API token as Authorization: Bearer <token>.");
        return false;
    }
    app->auth.token_hash = app->token_hash;
    return true;
}

void auth_check_unchecked(struct request *req)
{
    if (req->route == NULL || req->route->access == ACCESS_PUBLIC || req->app->auth.authenticated ||
        req->status == 401 || req->status == 403 || req->status == 503)
        return;
    struct store_auth auth = req->app->auth;
    auth.idempotency = NULL; /* a check alone, outside any request transaction */
    auth.transaction = NULL;
    struct store_result res;
    store_result_init(&res);
    if (store_authenticate(&auth, &res) != STORE_OK) {
        http_reply_reset(req);
        reply_store_error(req, &res);
    }
    store_result_cleanup(&res);
}
