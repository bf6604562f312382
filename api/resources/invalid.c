#include "resources/invalid.h"

#include <stdlib.h>

#include "app/validate.h"

void reply_invalid_body(struct request *req, const json_t *body, store_check_fn check, struct store_opt_int id,
                        const char *detail)
{
    json_t *valid = validate_valid_fields(req, body, 0);
    char *json = validate_dump(valid);
    struct store_result res;
    store_result_init(&res);
    check(&req->app->auth, json, id, &res);
    if (res.status == STORE_OK || res.status == STORE_INVALID || res.status == STORE_NOT_FOUND) {
        merge_store_field_errors(req, &res);
        http_reply_problem(req, PROBLEM_VALIDATION, detail);
    } else {
        /* The token (checked first) or the database failed: that answer wins. */
        http_reply_reset(req);
        reply_store_error(req, &res);
    }
    store_result_cleanup(&res);
    free(json);
    json_decref(valid);
}
