#include "computed_reply.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

void http_reply_computed(struct request *req, const char *content_type, computed_document_fn compute,
                         const char *checked, computed_export_fn export, const char *what)
{
    struct store_result res;
    store_result_init(&res);
    if (compute(req->request_id, checked, &res) != STORE_OK) {
        http_reply_store_error(req, &res);
        goto out;
    }
    if (export == NULL) {
        size_t length = strlen(res.body);
        http_reply_take(req, 200, content_type, res.body, length);
        res.body = NULL;
        goto out;
    }
    json_t *document = json_loads(res.body, 0, NULL);
    size_t length = 0;
    char *body = document ? export(document, &length) : NULL;
    json_decref(document);
    if (body == NULL) {
        log_error(req->request_id, "%s could not be exported", what);
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        goto out;
    }
    http_reply_take(req, 200, content_type, body, length);
out:
    store_result_cleanup(&res);
}
