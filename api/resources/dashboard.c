/* /dashboard: the sales funnel and the sales grid (SPEC 4.2). The query
 * string is checked here (syntax: 400 naming the parameter); defaults,
 * the window rules and unknown users are the database's check (422); the
 * document is then computed on a report thread (computed_reply.h). */
#include <stdio.h>
#include <string.h>

#include "app/computed_reply.h"
#include "resources/resources.h"
#include "store/dashboard.h"
#include "util/text.h"

#define MAX_OWNER_IDS 100
#define MAX_ID_DIGITS 19 /* INT64_MAX */

/* Parses owner_ids ("3,7,12") into ids (at most MAX_OWNER_IDS); *count
 * stays 0 when the parameter is absent or empty (everyone). False after
 * recording a 400 error. */
static bool parse_owner_ids(struct request *req, int64_t *ids, size_t *count)
{
    const char *v = http_query(req, "owner_ids");
    *count = 0;
    if (v == NULL || v[0] == '\0')
        return true;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[MAX_ID_DIGITS + 1];
        if (len > 0 && len <= MAX_ID_DIGITS)
            memcpy(item, p, len);
        item[len <= MAX_ID_DIGITS ? len : 0] = '\0';
        if (*count == MAX_OWNER_IDS) {
            http_field_error(req, "owner_ids", "may list at most %d ids", MAX_OWNER_IDS);
            return false;
        }
        if (!parse_id(item, &ids[*count])) {
            http_field_error(req, "owner_ids", "must be user ids separated by commas, such as 3,7");
            return false;
        }
        ++*count;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

/* The check's refusal, or 200 with the document computed off this thread. */
static void reply_checked(struct request *req, struct store_result *res, computed_document_fn compute, const char *what)
{
    if (res->status != STORE_OK) {
        reply_store_error(req, res);
        return;
    }
    reply_computed(req, "application/json; charset=utf-8", compute, res->body, NULL, what);
}

void dashboard_funnel(struct request *req)
{
    struct dashboard_funnel_filter f = {0};
    bool ok = query_opt_id(req, "owner_id", &f.owner_id) & http_query_date(req, "from", &f.from) &
              http_query_date(req, "to", &f.to);
    if (!ok) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_dashboard_funnel_check(&req->app->auth, &f, &res);
    reply_checked(req, &res, store_dashboard_funnel_compute, "funnel");
    store_result_cleanup(&res);
}

void dashboard_sales_grid(struct request *req)
{
    struct dashboard_sales_grid_query q = {0};
    int64_t owner_ids[MAX_OWNER_IDS];
    bool ok = http_query_date(req, "from", &q.from) & http_query_date(req, "to", &q.to) &
              parse_owner_ids(req, owner_ids, &q.owner_id_count);
    q.owner_ids = q.owner_id_count ? owner_ids : NULL;
    q.period = http_query(req, "period");
    if (q.period && strcmp(q.period, "month") != 0 && strcmp(q.period, "quarter") != 0) {
        http_field_error(req, "period", "must be month or quarter");
        ok = false;
    }
    if (!ok) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_dashboard_sales_grid_check(&req->app->auth, &q, &res);
    reply_checked(req, &res, store_dashboard_sales_grid_compute, "sales grid");
    store_result_cleanup(&res);
}
