#include "net/request_limits.h"

#include <stdio.h>
#include <string.h>

#include "http/reply.h"

bool request_within_limits(struct request *req, const struct _u_request *u_req)
{
    size_t target = u_req->http_url ? strlen(u_req->http_url) : 0;
    if (target > REQUEST_TARGET_MAX) {
        char detail[160];
        snprintf(detail, sizeof detail, "The path and query string take %zu bytes; at most %d are read.", target,
                 REQUEST_TARGET_MAX);
        http_reply_problem(req, PROBLEM_URI_TOO_LONG, detail);
        return false;
    }
    const char **names = u_map_enum_keys(u_req->map_header);
    const char **values = u_map_enum_values(u_req->map_header);
    size_t total = 0;
    size_t largest = 0;
    const char *largest_name = NULL;
    for (int i = 0; names && values && names[i]; i++) {
        size_t line = strlen(names[i]) + 2 + strlen(values[i]) + 2; /* "Name: value\r\n" */
        total += line;
        if (line > largest) {
            largest = line;
            largest_name = names[i];
        }
    }
    if (total <= REQUEST_HEADERS_MAX)
        return true;
    char detail[160];
    snprintf(detail, sizeof detail, "The header fields take %zu bytes; at most %d are read.", total,
             REQUEST_HEADERS_MAX);
    http_field_error(req, largest_name ? largest_name : "", "is the largest header field (%zu bytes)", largest);
    http_reply_problem(req, PROBLEM_HEADER_FIELDS_TOO_LARGE, detail);
    return false;
}
