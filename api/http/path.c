#include "http/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/query_string.h"
#include "http/reply.h"
#include "http/router.h"
#include "util/alloc.h"

bool http_path_split(const char *path, size_t len, struct path_segments *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (out->count >= HTTP_MAX_SEGMENTS)
                return false;
            char *segment = percent_decode(path + start, i - start, false);
            if (segment == NULL) {
                segment = xstrndup(path + start, i - start);
                out->undecodable |= 1u << out->count;
            }
            out->segments[out->count++] = segment;
            start = i + 1;
        }
    }
    if (out->segments[out->count - 1][0] == '\0') {
        free(out->segments[--out->count]);
        out->trailing_slash = true;
    }
    return true;
}

void http_path_cleanup(struct path_segments *path)
{
    for (int i = 0; i < path->count; i++)
        free(path->segments[i]);
}

void http_path_drop_undecodable(struct request *req, const struct path_segments *path)
{
    for (int p = 0; p < req->path_param_count; p++)
        for (int i = 0; i < path->count; i++)
            if (req->path_params[p] == path->segments[i] && (path->undecodable & (1u << i)))
                req->path_params[p] = NULL;
}

void http_reply_trailing_slash(struct request *req, const struct path_segments *path, const char *raw, size_t raw_len)
{
    const struct route *route;
    const char *params[HTTP_MAX_PATH_PARAMS];
    int param_count;
    char allow[64];
    bool printable = raw_len <= 256 && path->undecodable == 0;
    for (size_t i = 0; printable && i < raw_len; i++)
        printable = raw[i] > 0x20 && raw[i] < 0x7f;
    enum route_match match =
        router_match(req->method, path->segments, path->count, &route, params, &param_count, allow, sizeof allow);
    if (match == ROUTE_NO_PATH) {
        http_reply_problem(req, PROBLEM_NOT_FOUND, "No such path.");
        return;
    }
    char detail[400];
    if (printable)
        snprintf(detail, sizeof detail, "No such path: paths do not end with a slash; the path is %.*s.",
                 (int)(raw_len - 1), raw);
    else
        snprintf(detail, sizeof detail, "No such path: paths do not end with a slash; send it without the last one.");
    http_reply_problem(req, PROBLEM_NOT_FOUND, detail);
}
