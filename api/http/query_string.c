#include "http/query_string.h"

#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "http/router.h"
#include "util/alloc.h"
#include "util/text.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *percent_decode(const char *s, size_t len, bool plus_is_space)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = (plus_is_space && s[i] == '+') ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    if (!utf8_valid(out, o)) {
        free(out);
        return NULL;
    }
    return out;
}

static bool query_allowed(const struct route *route, const char *name);

bool parse_query(struct request *req, const char *query)
{
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t name_len = eq ? (size_t)(eq - p) : len;
            char *name = percent_decode(p, name_len, true);
            char *value = eq ? percent_decode(eq + 1, len - name_len - 1, true) : xstrdup("");
            if (name == NULL || value == NULL) {
                free(name);
                free(value);
                http_reply_problem(req, PROBLEM_BAD_REQUEST,
                                   "The query string is malformed (bad percent-encoding or not UTF-8).");
                return false;
            }
            if (http_query(req, name) != NULL) {
                http_field_error(req, name, "is given more than once");
                free(name);
                free(value);
                http_reply_problem(req, PROBLEM_BAD_REQUEST, "A query parameter is repeated.");
                return false;
            }
            if (!query_allowed(req->route, name) || req->query_count >= HTTP_MAX_QUERY_PARAMS) {
                http_field_error(req, name, "is not a query parameter of this endpoint");
                free(name);
                free(value);
                p = amp ? amp + 1 : NULL;
                continue;
            }
            req->query[req->query_count].name = name;
            req->query[req->query_count].value = value;
            req->query_count++;
        }
        p = amp ? amp + 1 : NULL;
    }
    return true;
}

static bool query_allowed(const struct route *route, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || strchr(name, ' '))
        return false; /* strstr(p, "") matches everywhere and never advances; "limit cursor" spans two names */
    const char *p = route->query_params;
    while ((p = strstr(p, name)) != NULL) {
        bool starts = p == route->query_params || p[-1] == ' ';
        bool ends = p[len] == '\0' || p[len] == ' ';
        if (starts && ends)
            return true;
        p += len;
    }
    return false;
}
