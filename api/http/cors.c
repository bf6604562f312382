#include "http/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/reply.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/* The port of an origin: 1-65535 without leading zeros, and not the
 * scheme's default, which browsers leave out of the Origin header. */
static const char *port_problem(const char *scheme, size_t scheme_length, const char *p, const char *end)
{
    if (p == end)
        return "the port after ':' is missing";
    long port = 0;
    for (const char *d = p; d < end; d++) {
        if (*d == '/' || *d == '?' || *d == '#')
            return "an origin has no path, query or fragment: write scheme://host[:port]";
        if (*d < '0' || *d > '9')
            return "the port must be a number";
        port = port * 10 + (*d - '0');
        if (port > 65535)
            return "the port must be 1 to 65535";
    }
    if (port == 0 || *p == '0')
        return "the port must be 1 to 65535, written without leading zeros";
    if ((scheme_length == 4 && memcmp(scheme, "http", 4) == 0 && port == 80) ||
        (scheme_length == 5 && memcmp(scheme, "https", 5) == 0 && port == 443))
        return "browsers leave the scheme's default port out of Origin: drop it";
    return NULL;
}

/* Why text is not an origin as a browser sends it in Origin
 * (scheme://host[:port], lower case), or NULL when it is one. */
static const char *origin_problem(const char *text, size_t length)
{
    const char *end = text + length;
    if (length == 0)
        return "an empty origin (two commas in a row, or one at either end)";
    if (length > CORS_MAX_ORIGIN_LENGTH)
        return "longer than 255 characters";
    if (length == 4 && memcmp(text, "null", 4) == 0)
        return "the origin null (sandboxed pages, file: URLs) cannot be allowed: it is shared by every such page";
    const char *p = text;
    while (p < end && (is_lower_alnum(*p) || *p == '+' || *p == '-' || *p == '.'))
        p++;
    if (p < end && is_upper(*p))
        return "write it in lower case, as browsers send it";
    size_t scheme_length = (size_t)(p - text);
    if (scheme_length == 0 || !(text[0] >= 'a' && text[0] <= 'z') || end - p < 3 || memcmp(p, "://", 3) != 0)
        return "an origin is scheme://host[:port], e.g. https://app.example.com";
    p += 3;
    const char *host = p;
    if (p < end && *p == '[') { /* an IPv6 address */
        while (p < end && *p != ']')
            p++;
        if (p == end || p == host + 1)
            return "an IPv6 host is written in brackets, e.g. http://[::1]:5173";
        for (const char *h = host + 1; h < p; h++) {
            if (is_upper(*h))
                return "write it in lower case, as browsers send it";
            if (!is_lower_alnum(*h) && *h != ':' && *h != '.')
                return "an IPv6 host holds only hex digits, ':' and '.'";
        }
        p++;
    } else {
        while (p < end && (is_lower_alnum(*p) || *p == '-' || *p == '.' || *p == '_'))
            p++;
        if (p < end && is_upper(*p))
            return "write it in lower case, as browsers send it";
        if (p == host)
            return "the host is missing: an origin is scheme://host[:port]";
    }
    if (p == end)
        return NULL;
    if (*p == ':')
        return port_problem(text, scheme_length, p + 1, end);
    if (*p == '/' || *p == '?' || *p == '#')
        return "an origin has no path, query or fragment: write scheme://host[:port]";
    if (*p == '@')
        return "an origin has no user name: write scheme://host[:port]";
    return "the host holds only letters, digits, '-', '_' and '.'";
}

static void trim(const char **start, const char **end)
{
    while (*start < *end && is_blank(**start))
        (*start)++;
    while (*end > *start && is_blank((*end)[-1]))
        (*end)--;
}

bool cors_policy_parse(const char *setting, struct cors_policy *policy, char *error, size_t error_size)
{
    memset(policy, 0, sizeof *policy);
    const char *start = setting ? setting : "";
    const char *end = start + strlen(start);
    trim(&start, &end);
    if (start == end)
        return true; /* off */
    if (end - start == 1 && *start == '*') {
        policy->mode = CORS_ANY;
        return true;
    }
    policy->mode = CORS_LIST;
    for (const char *p = start;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item = p;
        const char *item_end = comma ? comma : end;
        trim(&item, &item_end);
        size_t length = (size_t)(item_end - item);
        const char *why = length == 1 && *item == '*' ? "\"*\" allows every origin, so it stands alone"
                                                      : origin_problem(item, length);
        if (why == NULL && policy->count == CORS_MAX_ORIGINS)
            why = "more than 32 origins";
        if (why) {
            snprintf(error, error_size, "\"%.*s\": %s", (int)(length > 80 ? 80 : length), item, why);
            memset(policy, 0, sizeof *policy);
            return false;
        }
        policy->origins[policy->count].text = item;
        policy->origins[policy->count].length = length;
        policy->count++;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

bool cors_origin_allowed(const struct cors_policy *policy, const char *origin)
{
    if (origin == NULL || policy->mode == CORS_OFF)
        return false;
    if (policy->mode == CORS_ANY)
        return true;
    size_t length = strlen(origin);
    for (int i = 0; i < policy->count; i++)
        if (policy->origins[i].length == length && memcmp(policy->origins[i].text, origin, length) == 0)
            return true;
    return false;
}

void cors_reply_options(struct request *req, const struct cors_policy *policy, const char *origin,
                        const char *request_method, const char *allow)
{
    bool preflight = origin != NULL && request_method != NULL;
    if (preflight && !cors_origin_allowed(policy, origin)) {
        http_field_error(req, "Origin", "%s",
                         policy->mode == CORS_OFF ? "browsers of other origins may not call this API (CORS is off)"
                                                  : "is not one of the origins this API allows (CORS_ORIGINS)");
        http_reply_problem(req, PROBLEM_FORBIDDEN, "This origin may not call the API from a browser.");
        return;
    }
    http_header(req, "Allow", allow);
    if (preflight) {
        http_header(req, "Access-Control-Allow-Methods", allow);
        http_header(req, "Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS);
        http_header(req, "Access-Control-Max-Age", CORS_MAX_AGE);
    }
    http_reply_empty(req, 204);
}

/* Whether a Vary value names token already (or is "*", which covers it). */
static bool vary_lists(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; *p;) {
        while (*p == ',' || is_blank(*p))
            p++;
        const char *next = p;
        while (*next && *next != ',')
            next++;
        const char *last = next;
        while (last > p && is_blank(last[-1]))
            last--;
        size_t length = (size_t)(last - p);
        if ((length == n && strncasecmp(p, token, n) == 0) || (length == 1 && *p == '*'))
            return true;
        p = next;
    }
    return false;
}

bool cors_vary_lists_origin(const char *vary)
{
    return vary_lists(vary, "Origin");
}

struct cors_reply cors_reply_for(const struct cors_policy *policy, const char *origin)
{
    struct cors_reply out = {.vary_origin = policy->mode == CORS_LIST, .allow_origin = NULL};
    if (cors_origin_allowed(policy, origin))
        out.allow_origin = policy->mode == CORS_ANY ? "*" : origin;
    return out;
}
