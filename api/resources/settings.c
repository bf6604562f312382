/* /settings: company-wide defaults; everyone reads, admins change. */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"
#include "resources/specs.h"
#include "store/settings.h"
#include "app/validate.h"

void settings_get(struct request *req)
{
    struct store_result res;
    store_result_init(&res);
    store_settings_get(&req->app->auth, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
}

void settings_patch(struct request *req)
{
    if (!http_require_object(req))
        return;
    if (!validate_body(req, settings_fields, VALIDATE_PATCH)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The settings have invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_settings_patch(&req->app->auth, json, req->app->if_match, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
    free(json);
}
