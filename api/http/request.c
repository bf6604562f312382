#include "http/request.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

const char *http_request_header(const struct request *req, const char *name)
{
    return req->header_of ? req->header_of(req->transport, name) : NULL;
}

const char *http_query(const struct request *req, const char *name)
{
    for (int i = 0; i < req->query_count; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

const char *http_path(const struct request *req, int i)
{
    return i < req->path_param_count ? req->path_params[i] : NULL;
}

void http_request_set_id(struct request *req, const char *given)
{
    size_t len = given ? strlen(given) : 0;
    bool usable = len > 0 && len < sizeof req->request_id;
    for (const char *p = given; usable && *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            usable = false;
    if (usable) {
        memcpy(req->request_id, given, len + 1);
        return;
    }
    request_id_generate(req->request_id);
}

void http_request_cleanup(struct request *req)
{
    for (int i = 0; i < req->query_count; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    for (int i = 0; i < req->error_count; i++) {
        free(req->errors[i].field);
        free(req->errors[i].message);
    }
    for (int i = 0; i < req->header_count; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    json_decref(req->body);
    free(req->reply_body);
    if (req->deferred)
        req->deferred_release(req->deferred);
}
