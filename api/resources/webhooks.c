/* /webhooks (admins only): subscriptions to the change feed's events, a
 * ping, and each subscription's delivery log. The signing secret is shown
 * once, in the creation reply; jobs/webhook_worker.c delivers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/crud.h"
#include "resources/query_params.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/webhooks.h"
#include "util/alloc.h"
#include "util/url_policy.h"
#include "util/webhook_signature.h"

#define MAX_EVENTS 50

/* An entry of events: a resource's prefix, or one of its types. */
static bool event_name_valid(const char *name)
{
    static const char *const resources[] = {"account", "opportunity", "lookup_item"};
    static const char *const actions[] = {"created", "updated", "deleted"};
    for (size_t r = 0; r < sizeof resources / sizeof resources[0]; r++) {
        size_t len = strlen(resources[r]);
        if (strncmp(name, resources[r], len) != 0)
            continue;
        if (name[len] == '\0')
            return true;
        for (size_t a = 0; name[len] == '.' && a < sizeof actions / sizeof actions[0]; a++)
            if (strcmp(name + len + 1, actions[a]) == 0)
                return true;
    }
    return false;
}

static void check_events(struct request *req, const json_t *events)
{
    if (!json_is_array(events) || json_array_size(events) < 1 || json_array_size(events) > MAX_EVENTS) {
        http_field_error(req, "events", "must be a list of 1 to %d event types or prefixes", MAX_EVENTS);
        return;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(events, i, item)
    {
        if (!json_is_string(item) || !event_name_valid(json_string_value(item))) {
            char field[32];
            snprintf(field, sizeof field, "events[%zu]", i);
            http_field_error(req, field,
                             "must be account, opportunity or lookup_item, alone (every type) or followed by "
                             ".created, .updated or .deleted");
        }
    }
}

/* The field specs, then events and the URL policy. */
static bool webhook_validate(struct request *req, const struct field_spec *fields, enum validate_mode mode)
{
    json_t *events = json_object_get(req->body, "events");
    json_incref(events);
    json_object_del(req->body, "events"); /* the specs do not describe a list of strings */
    int errors_before = req->error_count;
    validate_body(req, fields, mode);
    if (events != NULL) {
        check_events(req, events);
        json_object_set_new(req->body, "events", events);
    } else if (mode == VALIDATE_CREATE) {
        http_field_error(req, "events", "is required");
    }
    const char *url = json_string_value(json_object_get(req->body, "url"));
    bool url_ok = true;
    for (int i = errors_before; i < req->error_count; i++)
        url_ok &= strcmp(req->errors[i].field, "url") != 0;
    const char *why = url && url_ok ? url_policy_check(url) : NULL;
    if (why != NULL)
        http_field_error(req, "url", "%s", why);
    return req->error_count == errors_before;
}

static const struct resource_kind webhooks = {
    .name = "webhook",
    .location = "/webhooks",
    .create_fields = webhook_create_fields,
    .patch_fields = webhook_patch_fields,
    .validate = webhook_validate,
    .get = store_webhook_get,
    .patch = store_webhook_patch,
    .remove = store_webhook_delete,
};

void webhooks_list(struct request *req)
{
    int limit;
    struct store_opt_int after;
    if (!query_id_page(req, "webhooks", &limit, &after)) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_webhook_list(&req->app->auth, after, limit, &res);
    reply_store_list(req, &res, "webhooks");
    store_result_cleanup(&res);
}

/* Adds the one-time secret to the stored subscription's representation. */
static char *with_secret(const char *json, const char *secret)
{
    json_t *doc = json_loads(json, 0, NULL);
    if (doc == NULL)
        abort(); /* the store's own JSON always parses; only out of memory lands here */
    json_object_set_new(doc, "secret", json_string(secret));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        abort();
    return text;
}

void webhooks_create(struct request *req)
{
    if (!http_require_object(req))
        return;
    if (!webhook_validate(req, webhook_create_fields, VALIDATE_CREATE)) {
        http_reply_problem(req, PROBLEM_VALIDATION, "The webhook has invalid fields.");
        return;
    }
    char secret[WEBHOOK_SECRET_SIZE];
    webhook_secret_generate(secret);
    char *json = validate_dump(req->body);
    struct store_result res;
    store_result_init(&res);
    store_webhook_create(&req->app->auth, json, secret, &res);
    if (res.status == STORE_OK) {
        char *body = with_secret(res.body, secret);
        char location[64];
        snprintf(location, sizeof location, "/webhooks/%lld", (long long)res.id);
        http_header(req, "Location", location);
        http_header(req, "Cache-Control", "no-store");
        http_reply_take(req, 201, "application/json; charset=utf-8", body, strlen(body));
        /* A replay under an Idempotency-Key shows the subscription, never its secret again. */
        req->app->idempotent_body = xstrdup(res.body);
    } else {
        reply_store_error(req, &res);
    }
    store_result_cleanup(&res);
    free(json);
}

void webhooks_get(struct request *req)
{
    crud_get(req, &webhooks);
}

void webhooks_patch(struct request *req)
{
    crud_patch(req, &webhooks);
}

void webhooks_delete(struct request *req)
{
    crud_delete(req, &webhooks);
}

void webhooks_ping(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    struct store_result res;
    store_result_init(&res);
    store_webhook_ping(&req->app->auth, id, &res);
    reply_store_result(req, 202, &res, NULL);
    store_result_cleanup(&res);
}

void webhook_deliveries_list(struct request *req)
{
    crud_child_list(req, "webhook-deliveries", store_webhook_deliveries);
}

void webhook_delivery_retry(struct request *req)
{
    int64_t id, delivery_id;
    if (!http_path_id(req, 0, &id) || !http_path_id(req, 1, &delivery_id))
        return;
    struct store_result res;
    store_result_init(&res);
    store_webhook_retry(&req->app->auth, id, delivery_id, &res);
    reply_store_result(req, 202, &res, NULL);
    store_result_cleanup(&res);
}
