/* /users/{id}/tokens and /tokens/{id}: API tokens. The secret is shown
 * once, in the creation reply; the database keeps only its SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/text.h"
#include "util/token.h"
#include "app/validate.h"

void tokens_list(struct request *req)
{
    crud_child_list(req, "tokens", store_token_list);
}

/* Adds the one-time secret to the stored token's representation. */
static char *with_secret(const char *token_json, const char *secret)
{
    json_t *doc = json_loads(token_json, 0, NULL);
    if (doc == NULL)
        return NULL;
    json_object_set_new(doc, "token", json_string(secret));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

void tokens_create(struct request *req)
{
    int64_t user_id;
    if (!http_path_id(req, 0, &user_id) || !http_require_object(req))
        return;
    if (!validate_body(req, token_fields, VALIDATE_CREATE)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The token has invalid fields.");
        return;
    }
    char secret[TOKEN_TEXT_SIZE], hash[TOKEN_HASH_HEX_SIZE];
    token_generate(secret);
    token_hash(secret, hash);
    struct store_result res;
    store_result_init(&res);
    store_token_create(&req->app->auth, user_id, json_string_value(json_object_get(req->body, "name")), hash, &res);
    if (res.status == STORE_OK) {
        char *body = with_secret(res.body, secret);
        if (body == NULL)
            abort(); /* the store's own JSON always parses; only out of memory lands here */
        char location[64];
        snprintf(location, sizeof location, "/tokens/%lld", (long long)res.id);
        http_header(req, "Location", location);
        http_header(req, "Cache-Control", "no-store");
        http_reply_take(req, 201, "application/json; charset=utf-8", body, strlen(body));
        /* A replay under an Idempotency-Key shows the token, never its secret again. */
        req->app->idempotent_body = xstrdup(res.body);
    } else {
        reply_store_error(req, &res);
    }
    store_result_cleanup(&res);
}

void tokens_revoke(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    if (store_token_revoke(&req->app->auth, id, &res) == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_store_error(req, &res);
    store_result_cleanup(&res);
}
