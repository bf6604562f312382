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
    struct store_opt_int after;
    struct store_opt_bool active;
    if (!(query_id_page(req, "users", &limit, &after) & query_opt_bool(req, "active", &active))) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_user_list(&req->app->auth, active, after, limit, &res);
    reply_store_list(req, &res, "users");
    store_result_cleanup(&res);
}

void users_me(struct request *req)
{
    struct store_result res;
    store_result_init(&res);
    store_user_me(&req->app->auth, &res);
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
