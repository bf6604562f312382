/* /users: the people who use the API; salespeople are users. */
#include <stdlib.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/users.h"
#include "util/text.h"
#include "app/validate.h"

void users_list(struct request *req)
{
    int limit;
    char *after = NULL;
    bool active = false;
    bool ok = http_query_page(req, "users", http_key_is_id, &limit, &after) & http_query_bool(req, "active", &active);
    if (!ok) {
        free(after);
        http_reply_query_errors(req);
        return;
    }
    const char *active_text = http_query(req, "active") ? (active ? "t" : "f") : NULL;
    struct store_result res;
    store_result_init(&res);
    store_user_list(&req->app->auth, active_text, after, limit, &res);
    reply_store_list(req, &res, "users");
    store_result_cleanup(&res);
    free(after);
}

void users_me(struct request *req)
{
    struct store_result res;
    store_result_init(&res);
    store_user_get(&req->app->auth, 0, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
}

static const struct resource_kind users = {
    .name = "user",
    .location = "/users",
    .create_fields = user_fields,
    .patch_fields = user_patch_fields,
    .get = store_user_get,
    .create = store_user_create,
    .patch = store_user_patch,
};

void users_create(struct request *req)
{
    crud_create(req, &users);
}

void users_get(struct request *req)
{
    crud_get(req, &users);
}

void users_patch(struct request *req)
{
    crud_patch(req, &users);
}
