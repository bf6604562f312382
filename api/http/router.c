#include "http/router.h"

#include <stdio.h>
#include <string.h>

static bool pattern_matches(const char *pattern, char *const *segments, int count, const char **params,
                            int *param_count)
{
    int i = 0;
    int n = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= count)
            return false;
        if (*p == ':') {
            if (n >= HTTP_MAX_PATH_PARAMS || segments[i][0] == '\0')
                return false;
            params[n++] = segments[i];
        } else if (strlen(segments[i]) != len || strncmp(segments[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    *param_count = n;
    return i == count;
}

static int literal_segments(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; *p; p++)
        if (*p == '/' && p[1] != ':' && p[1] != '\0')
            n++;
    return n;
}

enum route_match router_match(const char *method, char *const *segments, int count, const struct route **out,
                              const char **params, int *param_count, char *allow, size_t allow_size)
{
    bool path_known = false;
    allow[0] = '\0';
    /* /users/me is its own resource: when literal routes match the path,
     * routes with a parameter there (/users/:id) do not, whatever the method. */
    int most_literal = -1;
    for (const struct route *r = routes; r->method; r++) {
        const char *candidate[HTTP_MAX_PATH_PARAMS];
        int n = 0;
        if (r->exists && !r->exists())
            continue;
        if (pattern_matches(r->pattern, segments, count, candidate, &n) && literal_segments(r->pattern) > most_literal)
            most_literal = literal_segments(r->pattern);
    }
    for (const struct route *r = routes; r->method; r++) {
        const char *candidate[HTTP_MAX_PATH_PARAMS];
        int n = 0;
        if ((r->exists && !r->exists()) || !pattern_matches(r->pattern, segments, count, candidate, &n) ||
            literal_segments(r->pattern) != most_literal)
            continue;
        /* A literal segment beats a parameter: routes are listed literal-first. */
        if (strcmp(r->method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            *out = r;
            memcpy(params, candidate, sizeof candidate);
            *param_count = n;
            return ROUTE_FOUND;
        }
        if (!strstr(allow, r->method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", r->method);
        }
        path_known = true;
    }
    return path_known ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
