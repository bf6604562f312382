/* GET /healthz, GET /readyz, GET /openapi.yaml: public, no token. */
#include <string.h>

#include "embedded.h"
#include "draining.h"
#include "resources/resources.h"
#include "util/alloc.h"

void health_live(struct request *req)
{
    http_reply_json(req, 200, "{\"status\":\"ok\"}");
}

void health_ready(struct request *req)
{
    if (draining())
        http_reply_problem(req, PROBLEM_UNAVAILABLE, "The server is shutting down.");
    else if (store_ready())
        http_reply_json(req, 200, "{\"status\":\"ready\"}");
    else
        http_reply_problem(req, PROBLEM_UNAVAILABLE, "The database is unreachable or not migrated yet.");
}

void openapi_document(struct request *req)
{
    const struct embedded_file *f = embedded_find("openapi.yaml");
    if (f == NULL) {
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        return;
    }
    http_reply_take(req, 200, "application/yaml; charset=utf-8", xstrndup((const char *)f->data, f->size), f->size);
}
