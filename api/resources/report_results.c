/* Running forecast reports: GET /forecast-reports/{id}/results (a saved
 * report) and GET /reports/forecast?... (a definition given as query
 * parameters). The request is checked at once (every 4xx); PostgreSQL then
 * builds the whole result as JSON in one call on a report thread, and it
 * goes out as it is, or as CSV or XLSX (report_export.c).
 *
 * The format: ?format=json|csv|xlsx when given (it wins over Accept);
 * otherwise the Accept header picks among application/json, text/csv and
 * the XLSX type (highest q, JSON first on a tie; no Accept means JSON), and
 * a header that allows none of them is a 406. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/computed_reply.h"
#include "resources/report_export.h"
#include "resources/resources.h"
#include "store/forecast_reports.h"
#include "util/alloc.h"
#include "util/text.h"
#include "app/validate.h"

enum report_format { FORMAT_JSON, FORMAT_CSV, FORMAT_XLSX, FORMAT_COUNT };

static const struct {
    const char *name;
    const char *media_type;
    const char *content_type;
    computed_export_fn export; /* NULL: the JSON as it is */
} formats[FORMAT_COUNT] = {
    [FORMAT_JSON] = {"json", "application/json", "application/json; charset=utf-8", NULL},
    [FORMAT_CSV] = {"csv", "text/csv", "text/csv; charset=utf-8", report_export_csv},
    [FORMAT_XLSX] = {"xlsx", REPORT_XLSX_TYPE, REPORT_XLSX_TYPE, report_export_xlsx},
};

/* How well a media range matches a type: 2 exactly ("text/csv"), 1 by its
 * major type ("text/" and a star), 0 by the full wildcard, -1 not at all. */
static int range_match(const char *range, const char *type)
{
    size_t major = (size_t)(strchr(type, '/') - type);
    if (strcasecmp(range, type) == 0)
        return 2;
    if (strlen(range) == major + 2 && strncasecmp(range, type, major + 1) == 0 && range[major + 1] == '*')
        return 1;
    return strcmp(range, "*/*") == 0 ? 0 : -1;
}

/* A qvalue in thousandths (RFC 9110: 0, 1, or 0. with up to 3 digits,
 * 1. with zeros); -1 when malformed. */
static int parse_q(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 5 || (s[0] != '0' && s[0] != '1') || (len > 1 && s[1] != '.'))
        return -1;
    int q = (s[0] - '0') * 1000;
    for (size_t i = 2, scale = 100; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * (int)scale;
    }
    return q <= 1000 ? q : -1;
}

/* Splits one element of Accept ("text/csv;q=0.5") in place into its media
 * range and its q; false when it is malformed (it is then ignored). */
static bool parse_accept_element(char *element, const char **range, int *q)
{
    char *save = NULL;
    char *token = strtok_r(element, ";", &save);
    *q = 1000;
    *range = NULL;
    for (bool first = true; token; token = strtok_r(NULL, ";", &save), first = false) {
        token += strspn(token, " \t");
        size_t len = strlen(token);
        while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
            token[--len] = '\0';
        if (first)
            *range = token;
        else if ((token[0] == 'q' || token[0] == 'Q') && token[1] == '=')
            *q = parse_q(token + 2);
    }
    return *range && strchr(*range, '/') && *q >= 0;
}

/* Picks the format Accept prefers: each format takes the q of the most
 * specific range matching it (RFC 9110, 12.5.1); the highest q above 0
 * wins, JSON first on a tie. No Accept, or one with no well-formed
 * element, means JSON. */
static bool negotiate(const char *accept, enum report_format *out)
{
    int q[FORMAT_COUNT], specificity[FORMAT_COUNT];
    for (int f = 0; f < FORMAT_COUNT; f++) {
        q[f] = 0;
        specificity[f] = -1;
    }
    *out = FORMAT_JSON;
    if (accept == NULL || accept[strspn(accept, " \t,")] == '\0')
        return true;
    char *copy = xstrdup(accept);
    char *save = NULL;
    int parsed = 0;
    for (char *element = strtok_r(copy, ",", &save); element; element = strtok_r(NULL, ",", &save)) {
        const char *range;
        int range_q;
        if (!parse_accept_element(element, &range, &range_q))
            continue;
        parsed++;
        for (int f = 0; f < FORMAT_COUNT; f++) {
            int s = range_match(range, formats[f].media_type);
            if (s > specificity[f]) {
                specificity[f] = s;
                q[f] = range_q;
            }
        }
    }
    free(copy);
    int best = -1;
    for (int f = 0; f < FORMAT_COUNT; f++)
        if (q[f] > 0 && (best < 0 || q[f] > q[best]))
            best = f;
    if (best >= 0)
        *out = (enum report_format)best;
    return best >= 0 || parsed == 0;
}

/* The format asked for; false after replying 400 or 406. */
static bool choose_format(struct request *req, enum report_format *out)
{
    const char *v = http_query(req, "format");
    if (v) {
        for (int f = 0; f < FORMAT_COUNT; f++)
            if (strcmp(v, formats[f].name) == 0) {
                *out = (enum report_format)f;
                return true;
            }
        http_field_error(req, "format", "must be json, csv or xlsx");
        http_reply_query_errors(req);
        return false;
    }
    if (negotiate(req->accept, out))
        return true;
    http_field_error(req, "Accept", "must allow application/json, text/csv or %s", REPORT_XLSX_TYPE);
    http_reply_problem(req, PROBLEM_NOT_ACCEPTABLE,
                       "The result is available as application/json, text/csv or " REPORT_XLSX_TYPE ".");
    return false;
}

/* Replies to a checked run: its error, or 200 with the body a report
 * thread computes (computed_reply.h), so this HTTP thread goes back to its
 * other connections instead of waiting for the report. */
static void reply_checked(struct request *req, enum report_format format, struct store_result *res)
{
    if (res->status != STORE_OK) {
        if (res->status == STORE_NOT_FOUND && res->message == NULL)
            http_reply_problem(req, PROBLEM_NOT_FOUND, "No forecast report has this id.");
        else
            reply_store_error(req, res);
        return;
    }
    reply_computed(req, formats[format].content_type, store_forecast_compute, res->body, formats[format].export,
                   "forecast report result");
    if (req->status != 200)
        return;
    http_header(req, "Vary", "Accept");
    if (format != FORMAT_JSON) {
        json_t *checked = json_loads(res->body, 0, NULL);
        char disposition[160];
        report_export_disposition(json_string_value(json_object_get(checked, "name")), formats[format].name,
                                  disposition, sizeof disposition);
        json_decref(checked);
        http_header(req, "Content-Disposition", disposition);
    }
}

void forecast_report_results(struct request *req)
{
    int64_t id;
    enum report_format format;
    if (!http_path_id(req, 0, &id) || !choose_format(req, &format))
        return;
    struct store_result res;
    store_result_init(&res);
    store_forecast_check(&req->app->auth, STORE_INT(id), NULL, &res);
    reply_checked(req, format, &res);
    store_result_cleanup(&res);
}

/* A comma-separated list query parameter into def[name] as an array of
 * ids, or of outcomes. An empty value is an empty list. */
static void parse_list(struct request *req, json_t *def, const char *name, bool outcomes)
{
    const char *v = http_query(req, name);
    if (v == NULL)
        return;
    json_t *list = json_array();
    const char *problem = NULL;
    for (const char *p = v; *v && p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[24];
        int64_t id;
        json_t *value = NULL;
        if (len == 0 || len >= sizeof item) {
            problem = "an empty or overlong element";
        } else {
            memcpy(item, p, len);
            item[len] = '\0';
            if (outcomes && (strcmp(item, "open") == 0 || strcmp(item, "won") == 0 || strcmp(item, "lost") == 0))
                value = json_string(item);
            else if (!outcomes && parse_id(item, &id))
                value = json_integer(id);
            else
                problem = outcomes ? "an element that is not open, won or lost" : "an element that is not an id";
        }
        for (size_t i = 0; value && i < json_array_size(list); i++)
            if (json_equal(value, json_array_get(list, i)))
                problem = "an element twice";
        if (problem) {
            json_decref(value);
            break;
        }
        json_array_append_new(list, value);
        if (json_array_size(list) > FORECAST_MAX_LIST) {
            problem = "too many elements";
            break;
        }
        p = comma ? comma + 1 : NULL;
    }
    if (outcomes && problem == NULL && json_array_size(list) == 0)
        problem = "no element";
    if (problem) {
        http_field_error(req, name,
                         outcomes ? "must be a comma-separated list of open, won, lost (e.g. open,won); it has %s"
                                  : "must be a comma-separated list of ids (e.g. 3,7), at most 200; it has %s",
                         problem);
        json_decref(list);
        return;
    }
    json_object_set_new(def, name, list);
}

/* A query parameter that must be one of choices, into def[name]. */
static void parse_choice(struct request *req, json_t *def, const char *name, const char *const *choices)
{
    const char *v = http_query(req, name);
    if (v == NULL)
        return;
    for (const char *const *c = choices; *c; c++)
        if (strcmp(*c, v) == 0) {
            json_object_set_new(def, name, json_string(v));
            return;
        }
    char list[160] = "";
    for (const char *const *c = choices; *c; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", c == choices ? "" : ", ", *c);
    http_field_error(req, name, "must be one of: %s", list);
}

static void parse_date(struct request *req, json_t *def, const char *name)
{
    const char *v;
    if (http_query_date(req, name, &v) && v)
        json_object_set_new(def, name, json_string(v));
}

void forecast_results(struct request *req)
{
    enum report_format format;
    json_t *def = json_object();
    parse_list(req, def, "owner_ids", false);
    parse_date(req, def, "from");
    parse_date(req, def, "to");
    parse_choice(req, def, "period", forecast_periods);
    parse_list(req, def, "status_ids", false);
    parse_list(req, def, "forecast_ids", false);
    parse_list(req, def, "outcomes", true);
    parse_choice(req, def, "group_by", forecast_group_bys);
    parse_choice(req, def, "split_by", forecast_split_bys);
    if (req->error_count > 0) {
        json_decref(def);
        http_reply_query_errors(req);
        return;
    }
    if (!choose_format(req, &format)) {
        json_decref(def);
        return;
    }
    char *json = validate_dump(def);
    json_decref(def);
    struct store_result res;
    store_result_init(&res);
    store_forecast_check(&req->app->auth, STORE_NO_INT, json, &res);
    reply_checked(req, format, &res);
    store_result_cleanup(&res);
    free(json);
}
