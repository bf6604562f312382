/* /opportunities: the deals, from first lead to won or lost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/opportunities.h"
#include "util/alloc.h"
#include "util/text.h"
#include "app/validate.h"

static const char *const sort_names[SORT_COUNT] = {
    [SORT_ID] = "id",
    [SORT_CLOSE_DATE] = "close_date",
    [SORT_UPDATED_AT] = "updated_at",
    [SORT_CREATED_AT] = "created_at",
    [SORT_NAME] = "name",
    [SORT_VALUE] = "value",
};

static bool parse_sort(struct request *req, struct opportunity_filter *f)
{
    const char *v = http_query(req, "sort");
    f->sort = SORT_ID;
    f->descending = false;
    if (v == NULL)
        return true;
    f->descending = v[0] == '-';
    const char *name = v + (f->descending ? 1 : 0);
    for (int i = 0; i < SORT_COUNT; i++)
        if (strcmp(name, sort_names[i]) == 0) {
            f->sort = (enum opportunity_sort)i;
            return true;
        }
    http_field_error(req, "sort",
                     "must be one of id, close_date, updated_at, created_at, name, value, optionally preceded by -");
    return false;
}

static bool valid_money_text(const char *s)
{
    const char *dot = strchr(s, '.');
    if (dot == NULL || strlen(dot) != 3 || dot == s || dot - s > 22)
        return false;
    for (const char *p = s; *p; p++)
        if (p != dot && (*p < '0' || *p > '9'))
            return false;
    return true;
}

/* A cursor carries [last key as text, last id] for the sort it was made for. */
static bool decode_cursor(struct request *req, struct opportunity_filter *f, char **key_out,
                          struct store_opt_int *id_out)
{
    char kind[64];
    snprintf(kind, sizeof kind, "opportunities:%s%s", f->descending ? "-" : "", sort_names[f->sort]);
    char *raw = NULL;
    if (!http_query_cursor(req, kind, &raw))
        return false;
    if (raw == NULL)
        return true;
    json_t *key = json_loads(raw, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    const char *text = json_string_value(json_array_get(key, 0));
    json_t *id = json_array_get(key, 1);
    bool ok = json_array_size(key) == 2 && text && json_is_integer(id) && json_integer_value(id) > 0;
    if (ok) {
        switch (f->sort) {
        case SORT_CLOSE_DATE:
            ok = http_valid_date(text);
            break;
        case SORT_UPDATED_AT:
        case SORT_CREATED_AT:
            ok = http_valid_timestamp(text);
            break;
        case SORT_VALUE:
            ok = valid_money_text(text);
            break;
        case SORT_NAME:
            ok = utf8_length(text) <= 200;
            break;
        case SORT_ID: {
            int64_t n;
            ok = parse_id(text, &n);
            break;
        }
        default:
            ok = false;
        }
    }
    if (ok) {
        *key_out = xstrdup(text);
        *id_out = STORE_INT(json_integer_value(id));
    } else {
        http_field_error(req, "cursor", "is not a cursor from this list; use next_cursor as given");
    }
    json_decref(key);
    return ok;
}

/* account: the account whose deals are listed (its 404 when it does not
 * exist), or absent for GET /opportunities. */
static void list(struct request *req, struct store_opt_int account)
{
    struct opportunity_filter f = {0};
    bool sort_ok = parse_sort(req, &f);
    bool ok =
        http_query_limit(req, &f.limit) & sort_ok & http_query_date(req, "close_from", &f.close_from) &
        http_query_date(req, "close_to", &f.close_to) & http_query_timestamp(req, "updated_since", &f.updated_since) &
        http_query_bool(req, "include_deleted", &f.include_deleted) & query_opt_id(req, "account_id", &f.account_id) &
        query_opt_id(req, "owner_id", &f.owner_id) & query_opt_id(req, "status_id", &f.status_id) &
        query_opt_id(req, "forecast_id", &f.forecast_id) & query_opt_id(req, "source_id", &f.source_id);
    f.outcome = http_query(req, "outcome");
    if (f.outcome && strcmp(f.outcome, "open") != 0 && strcmp(f.outcome, "won") != 0 &&
        strcmp(f.outcome, "lost") != 0) {
        http_field_error(req, "outcome", "must be open, won or lost");
        ok = false;
    }
    f.q = http_query(req, "q");
    if (f.q && utf8_length(f.q) > 200) {
        http_field_error(req, "q", "must be at most 200 characters long");
        ok = false;
    }
    f.external_id = http_query(req, "external_id");
    /* A cursor belongs to one sort: checked whenever the sort is known, so
     * its error is listed with the others. */
    char *key = NULL;
    if (sort_ok && !decode_cursor(req, &f, &key, &f.after_id))
        ok = false;
    if (!ok) {
        http_reply_query_errors(req);
        goto out;
    }
    if (account.present) {
        f.account_id = account;
        f.account_must_exist = true;
    }
    f.after_key = key;
    char kind[64];
    snprintf(kind, sizeof kind, "opportunities:%s%s", f.descending ? "-" : "", sort_names[f.sort]);
    struct store_result res;
    store_result_init(&res);
    store_opportunity_list(&req->app->auth, &f, &res);
    reply_store_list(req, &res, kind);
    store_result_cleanup(&res);
out:
    free(key);
}

void opportunities_list(struct request *req)
{
    list(req, STORE_NO_INT);
}

void account_opportunities_list(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    list(req, STORE_INT(id));
}

static const struct resource_kind opportunities = {
    .name = "opportunity",
    .location = "/opportunities",
    .create_fields = opportunity_create_fields,
    .patch_fields = opportunity_patch_fields,
    .replace_fields = opportunity_replace_fields,
    .check = store_opportunity_check,
    .get = store_opportunity_get,
    .create = store_opportunity_create,
    .patch = store_opportunity_patch,
    .upsert = store_opportunity_upsert,
    .remove = store_opportunity_delete,
};

void opportunities_create(struct request *req)
{
    crud_create(req, &opportunities);
}

void opportunities_get(struct request *req)
{
    crud_get(req, &opportunities);
}

void opportunities_patch(struct request *req)
{
    crud_patch(req, &opportunities);
}

void opportunities_upsert(struct request *req)
{
    crud_upsert(req, &opportunities);
}

void opportunities_delete(struct request *req)
{
    crud_delete(req, &opportunities);
}
