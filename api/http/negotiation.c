#include "http/negotiation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/reply.h"
#include "http/router.h"
#include "util/text.h"

bool http_media_type_is(const char *content_type, const char *expected)
{
    size_t n = strlen(expected);
    if (strncasecmp(content_type, expected, n) != 0)
        return false;
    const char *rest = content_type + n;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return true;
    if (*rest != ';')
        return false;
    rest++;
    while (*rest == ' ')
        rest++;
    return strncasecmp(rest, "charset=utf-8", 13) == 0 || strncasecmp(rest, "charset=\"utf-8\"", 15) == 0;
}

void http_parse_etags(const char *value, bool allow_weak, struct etag_list *out)
{
    memset(out, 0, sizeof *out);
    if (value == NULL)
        return;
    out->present = true;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*') {
            out->any = true;
            return;
        }
        bool weak = strncmp(p, "W/", 2) == 0;
        if (weak)
            p += 2;
        if (*p != '"')
            return;
        const char *end = strchr(p + 1, '"');
        if (end == NULL)
            return;
        char tag[24];
        size_t len = (size_t)(end - p - 1);
        int64_t version;
        if (len < sizeof tag && (!weak || allow_weak) && out->count < ETAG_LIST_MAX) {
            memcpy(tag, p + 1, len);
            tag[len] = '\0';
            if (parse_id(tag, &version))
                out->versions[out->count++] = version;
        }
        p = end + 1;
    }
}

bool http_read_body(struct request *req)
{
    const char *length = http_request_header(req, "Content-Length");
    long declared = 0;
    if ((length && parse_int_range(length, 0, 1L << 40, &declared) && declared > HTTP_MAX_BODY) ||
        req->body_length > HTTP_MAX_BODY) {
        http_reply_problem(req, PROBLEM_PAYLOAD_TOO_LARGE, "The body is larger than 1 MiB (1048576 bytes).");
        return false;
    }
    size_t size = req->body_length;
    if (req->route->body == BODY_NONE) {
        if (size > 0) {
            http_reply_problem(req, PROBLEM_BAD_REQUEST, "This endpoint takes no body.");
            return false;
        }
        return true;
    }
    const char *type = http_request_header(req, "Content-Type");
    bool json = type && (http_media_type_is(type, "application/json") ||
                         (req->route->body == BODY_PATCH && http_media_type_is(type, "application/merge-patch+json")));
    if (!json) {
        http_reply_problem(req, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
                           req->route->body == BODY_PATCH
                               ? "Send the body as application/json or application/merge-patch+json (UTF-8)."
                               : "Send the body as application/json (UTF-8).");
        return false;
    }
    if (size == 0) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body is empty; send a JSON document.");
        return false;
    }
    json_error_t error;
    size_t text_size;
    char *text = json_keep_written_numbers(req->body_bytes, size, &text_size);
    if (text == NULL) {
        http_reply_problem(req, PROBLEM_BAD_REQUEST, "Strings may not begin with U+E000 (a reserved character).");
        return false;
    }
    req->body = json_loadb(text, text_size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    if (req->body == NULL) {
        char detail[300];
        snprintf(detail, sizeof detail, "The body is not valid JSON: %s (line %d, column %d).", error.text, error.line,
                 error.column);
        http_reply_problem(req, PROBLEM_BAD_REQUEST, detail);
        return false;
    }
    return true;
}
