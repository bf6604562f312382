/* /lookups: the drop-down lists an administrator curates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"
#include "resources/specs.h"
#include "store/lookups.h"
#include "util/text.h"
#include "app/validate.h"

static const struct lookup_table {
    const char *name;
    const char *extra; /* its extra attribute, or NULL */
    const struct field_spec *fields;
} tables[] = {
    {"opportunity-status", "probability", lookup_status_fields},
    {"opportunity-forecast", "include_in_forecast", lookup_forecast_fields},
    {"opportunity-loss-reason", NULL, lookup_plain_fields},
    {"product", "unit_price", lookup_product_fields},
    {"source", NULL, lookup_plain_fields},
};

/* The table named by the first path parameter; replies 404 when unknown. */
static const struct lookup_table *path_table(struct request *req)
{
    const char *name = http_path(req, 0);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (name && strcmp(tables[i].name, name) == 0)
            return &tables[i];
    http_reply_problem(req, PROBLEM_NOT_FOUND,
                       "No such lookup table; see GET /lookups for opportunity-status, opportunity-forecast, "
                       "opportunity-loss-reason, product and source.");
    return NULL;
}

void lookups_tables(struct request *req)
{
    json_t *data = json_array();
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char url[64];
        snprintf(url, sizeof url, "/lookups/%s", tables[i].name);
        json_t *extras = json_array();
        if (tables[i].extra)
            json_array_append_new(extras, json_string(tables[i].extra));
        json_array_append_new(
            data, json_pack("{s:s, s:s, s:o}", "name", tables[i].name, "items_url", url, "extra_fields", extras));
    }
    json_t *doc = json_pack("{s:o, s:n}", "data", data, "next_cursor");
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_reply_take(req, 200, "application/json; charset=utf-8", text, strlen(text));
}

void lookups_list(struct request *req)
{
    const struct lookup_table *table = path_table(req);
    if (table == NULL)
        return;
    int limit;
    char *after = NULL;
    struct store_opt_bool active;
    char kind[64]; /* a cursor belongs to one table's list */
    snprintf(kind, sizeof kind, "lookups:%s", table->name);
    bool ok =
        http_query_page(req, kind, http_key_is_position_id, &limit, &after) & query_opt_bool(req, "active", &active);
    if (!ok) {
        free(after);
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_lookup_list(&req->app->auth, table->name, active, after, limit, &res);
    reply_store_list(req, &res, kind);
    store_result_cleanup(&res);
    free(after);
}

void lookups_create(struct request *req)
{
    const struct lookup_table *table = path_table(req);
    if (table == NULL || !http_require_object(req))
        return;
    if (!validate_body(req, table->fields, VALIDATE_CREATE)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The item has invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    char location[64];
    snprintf(location, sizeof location, "/lookups/%s", table->name);
    struct store_result res;
    store_result_init(&res);
    store_lookup_create(&req->app->auth, table->name, json, &res);
    reply_store_result(req, 201, &res, location);
    store_result_cleanup(&res);
    free(json);
}

void lookups_get(struct request *req)
{
    const struct lookup_table *table = path_table(req);
    int64_t id;
    if (table == NULL || !http_path_id(req, 1, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    store_lookup_get(&req->app->auth, table->name, id, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
}

void lookups_patch(struct request *req)
{
    const struct lookup_table *table = path_table(req);
    int64_t id;
    if (table == NULL || !http_path_id(req, 1, &id) || !http_require_object(req))
        return;
    if (!validate_body(req, table->fields, VALIDATE_PATCH)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The patch has invalid fields.");
        return;
    }
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_lookup_patch(&req->app->auth, table->name, id, json, req->app->if_match, &res);
    reply_store_result(req, 200, &res, NULL);
    store_result_cleanup(&res);
    free(json);
}

void lookups_delete(struct request *req)
{
    const struct lookup_table *table = path_table(req);
    int64_t id;
    if (table == NULL || !http_path_id(req, 1, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    if (store_lookup_delete(&req->app->auth, table->name, id, req->app->if_match, &res) == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_store_error(req, &res);
    store_result_cleanup(&res);
}
