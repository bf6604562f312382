#include "store/webhook_queue.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pool.h"
#include "util/alloc.h"
#include "util/text.h"

void webhook_batch_cleanup(struct webhook_batch *batch)
{
    for (int i = 0; i < batch->count; i++) {
        free(batch->items[i].event_id);
        free(batch->items[i].body);
        free(batch->items[i].error);
    }
    free(batch->url);
    free(batch->secret);
    memset(batch, 0, sizeof *batch);
}

static bool failed(PGresult *r, ExecStatusType want, char *error, size_t error_size)
{
    if (r != NULL && PQresultStatus(r) == want)
        return false;
    snprintf(error, error_size, "%s", r ? PQresultErrorMessage(r) : "out of memory");
    PQclear(r);
    return true;
}

bool store_webhook_claim(struct store_session *session, const char *instance, int max, int lease_seconds,
                         struct webhook_batch *batch, bool *claimed, char *error, size_t error_size)
{
    memset(batch, 0, sizeof *batch);
    *claimed = false;
    char max_text[24], lease_text[24];
    snprintf(max_text, sizeof max_text, "%d", max < WEBHOOK_BATCH_MAX ? max : WEBHOOK_BATCH_MAX);
    snprintf(lease_text, sizeof lease_text, "%d", lease_seconds);
    const char *params[] = {instance, max_text, lease_text};
    PGresult *r = PQexecParams(store_session_conn(session),
                               "SELECT subscription_id, url, secret, delivery_id, event_id, body "
                               "FROM webhook_claim($1::uuid, $2::int, $3::int)",
                               3, NULL, params, NULL, NULL, 0);
    if (failed(r, PGRES_TUPLES_OK, error, error_size))
        return false;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && i < WEBHOOK_BATCH_MAX; i++) {
        if (i == 0) {
            parse_id(PQgetvalue(r, 0, 0), &batch->subscription_id);
            batch->url = xstrdup(PQgetvalue(r, 0, 1));
            batch->secret = xstrdup(PQgetvalue(r, 0, 2));
        }
        struct webhook_delivery *d = &batch->items[batch->count++];
        parse_id(PQgetvalue(r, i, 3), &d->id);
        d->event_id = xstrdup(PQgetvalue(r, i, 4));
        d->body = xstrdup(PQgetvalue(r, i, 5));
    }
    PQclear(r);
    *claimed = batch->count > 0;
    return true;
}

bool store_webhook_record(struct store_session *session, const char *instance, const struct webhook_batch *batch,
                          int done, double scale, int *delivered, int *failed_count, char *error, size_t error_size)
{
    *delivered = *failed_count = 0;
    json_t *results = json_array();
    for (int i = 0; i < done; i++) {
        const struct webhook_delivery *d = &batch->items[i];
        json_array_append_new(results, json_pack("{s:I, s:i, s:s?}", "id", (json_int_t)d->id, "status", (int)d->status,
                                                 "error", d->error));
    }
    char *results_text = json_dumps(results, JSON_COMPACT);
    json_decref(results);
    if (results_text == NULL) {
        snprintf(error, error_size, "out of memory");
        return false;
    }
    char subscription[24], scale_text[32];
    snprintf(subscription, sizeof subscription, "%lld", (long long)batch->subscription_id);
    snprintf(scale_text, sizeof scale_text, "%.6f", scale);
    const char *params[] = {instance, subscription, results_text, scale_text};
    PGresult *r = PQexecParams(store_session_conn(session),
                               "SELECT delivered, failed FROM webhook_record($1::uuid, $2::bigint, $3::jsonb, "
                               "$4::double precision)",
                               4, NULL, params, NULL, NULL, 0);
    free(results_text);
    if (failed(r, PGRES_TUPLES_OK, error, error_size))
        return false;
    long n;
    if (PQntuples(r) == 1) {
        if (parse_int_range(PQgetvalue(r, 0, 0), 0, WEBHOOK_BATCH_MAX, &n))
            *delivered = (int)n;
        if (parse_int_range(PQgetvalue(r, 0, 1), 0, WEBHOOK_BATCH_MAX, &n))
            *failed_count = (int)n;
    }
    PQclear(r);
    return true;
}

long long store_webhook_backlog(struct store_session *session)
{
    PGresult *r = PQexec(store_session_conn(session), "SELECT webhook_backlog()");
    long long n = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}
