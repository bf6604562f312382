#include "http/query.h"

#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "util/alloc.h"
#include "util/text.h"

bool http_query_limit(struct request *req, int *limit)
{
    const char *v = http_query(req, "limit");
    long n = 50;
    if (v && !parse_int_range(v, 1, 500, &n)) {
        http_field_error(req, "limit", "must be a whole number from 1 to 500");
        return false;
    }
    *limit = (int)n;
    return true;
}

bool http_query_cursor(struct request *req, const char *cursor_kind, char **key)
{
    const char *v = http_query(req, "cursor");
    *key = NULL;
    if (v == NULL)
        return true;
    size_t len;
    char *raw = base64url_decode(v, &len);
    size_t kind_len = strlen(cursor_kind);
    if (raw == NULL || len != strlen(raw) || strncmp(raw, cursor_kind, kind_len) != 0 || raw[kind_len] != '|' ||
        raw[kind_len + 1] == '\0') {
        free(raw);
        http_field_error(req, "cursor", "is not a cursor from this list; use next_cursor as given");
        return false;
    }
    *key = xstrdup(raw + kind_len + 1);
    free(raw);
    return true;
}

bool http_query_page(struct request *req, const char *cursor_kind, bool (*key_valid)(const char *key), int *limit,
                     char **after)
{
    /* Both are parsed (`&`, not `&&`) so that one 400 lists every error. */
    bool ok = http_query_limit(req, limit) & http_query_cursor(req, cursor_kind, after);
    if (*after && !key_valid(*after)) {
        http_field_error(req, "cursor", "is not a cursor from this list; use next_cursor as given");
        ok = false;
    }
    if (!ok) { /* a cursor decoded beside a bad limit is not the caller's */
        free(*after);
        *after = NULL;
    }
    return ok;
}

bool http_key_is_id(const char *key)
{
    int64_t id;
    return parse_id(key, &id);
}

bool http_key_is_position_id(const char *key)
{
    const char *comma = strchr(key, ',');
    char position[16];
    long position_value;
    int64_t id;
    if (comma == NULL || (size_t)(comma - key) >= sizeof position)
        return false;
    memcpy(position, key, (size_t)(comma - key));
    position[comma - key] = '\0';
    return parse_int_range(position, INT32_MIN, INT32_MAX, &position_value) && parse_id(comma + 1, &id);
}

bool http_query_id(struct request *req, const char *name, int64_t *out, bool *present)
{
    const char *v = http_query(req, name);
    *present = v != NULL;
    if (v && !parse_id(v, out)) {
        http_field_error(req, name, "must be a positive whole number (an id)");
        return false;
    }
    return true;
}

bool http_query_bool(struct request *req, const char *name, bool *out)
{
    const char *v = http_query(req, name);
    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0)
        *out = false;
    else {
        http_field_error(req, name, "must be true or false");
        return false;
    }
    return true;
}

bool http_query_timestamp(struct request *req, const char *name, const char **out)
{
    const char *v = http_query(req, name);
    *out = v;
    if (v && !http_valid_timestamp(v)) {
        http_field_error(req, name, "must be an RFC 3339 timestamp such as 2026-11-27T08:00:00Z");
        return false;
    }
    return true;
}

bool http_query_date(struct request *req, const char *name, const char **out)
{
    const char *v = http_query(req, name);
    *out = v;
    if (v && !http_valid_date(v)) {
        http_field_error(req, name, "must be a date written YYYY-MM-DD");
        return false;
    }
    return true;
}

bool http_path_id(struct request *req, int i, int64_t *out)
{
    if (parse_id(http_path(req, i), out))
        return true;
    http_reply_problem(req, PROBLEM_NOT_FOUND, "No resource has this id (ids are positive whole numbers).");
    return false;
}

bool http_require_object(struct request *req)
{
    if (json_is_object(req->body))
        return true;
    http_reply_problem(req, PROBLEM_BAD_REQUEST, "The body must be a JSON object.");
    return false;
}

void http_drop_echoed_external_id(struct request *req, const char *external_id)
{
    const char *echoed = json_string_value(json_object_get(req->body, "external_id"));
    if (echoed && strcmp(echoed, external_id) == 0)
        json_object_del(req->body, "external_id");
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* The number the n digits at s write (checked by digits() first). */
static int digits_value(const char *s, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++)
        value = value * 10 + (s[i] - '0');
    return value;
}

bool http_valid_date(const char *s)
{
    if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    int y = digits_value(s, 4), m = digits_value(s + 5, 2), d = digits_value(s + 8, 2);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

bool http_valid_timestamp(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) */
    char date[11];
    if (strlen(s) < 20 || strlen(s) > 40)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!http_valid_date(date) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    if (digits_value(s + 11, 2) > 23 || digits_value(s + 14, 2) > 59 || digits_value(s + 17, 2) > 60)
        return false;
    bool leap_second = digits_value(s + 17, 2) == 60;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int n = 0;
        bool fraction = false;
        while (*p >= '0' && *p <= '9') {
            fraction |= *p != '0';
            p++;
            n++;
        }
        if (n == 0 || n > 9 || (leap_second && fraction)) /* PostgreSQL refuses 60.5 */
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) && p[6] == '\0')
        /* PostgreSQL's range; real zones are within +-14:00 */
        return digits_value(p + 1, 2) <= 15 && digits_value(p + 4, 2) <= 59;
    return false;
}
