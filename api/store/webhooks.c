#include "store/webhooks.h"

#include "store/db.h"

const struct db_statement webhook_statements[] = {
    {"webhook_list", "SELECT webhook_json(w)::text, w.id::text FROM webhook_subscriptions w "
                     "WHERE ($1::bigint IS NULL OR w.id > $1) ORDER BY w.id LIMIT $2::int + 1"},
    {"webhook_get", "SELECT webhook_json(w)::text, w.version, w.id FROM webhook_subscriptions w WHERE w.id = $1"},
    {"webhook_create", "SELECT body::text, version, id FROM api_webhook_create($1::jsonb, $2)"},
    {"webhook_patch", "SELECT body::text, version, id FROM api_webhook_patch($1, $2::jsonb, $3)"},
    {"webhook_delete", "SELECT body::text, version, id FROM api_webhook_delete($1, $2)"},
    {"webhook_ping", "SELECT body::text, version, id FROM api_webhook_ping($1)"},
    {"webhook_deliveries", "SELECT body::text, key::text FROM api_webhook_delivery_list($1, $2::bigint, $3::int)"},
    {"webhook_retry", "SELECT body::text, version, id FROM api_webhook_delivery_retry($1, $2)"},
    {NULL, NULL},
};

enum store_status store_webhook_list(const struct store_auth *auth, const char *after, int limit,
                                     struct store_result *res)
{
    char lim[24];
    struct db_query q = {"webhook_list", 2, {after, db_int(lim, limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_webhook_get(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"webhook_get", 1, {db_int(idbuf, id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_create(const struct store_auth *auth, const char *json, const char *secret,
                                       struct store_result *res)
{
    struct db_query q = {"webhook_create", 2, {json, secret}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                      struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"webhook_patch", 3, {db_int(idbuf, id), json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_delete(const struct store_auth *auth, int64_t id, int64_t if_match,
                                       struct store_result *res)
{
    char idbuf[24], vbuf[24];
    struct db_query q = {"webhook_delete", 2, {db_int(idbuf, id), db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_ping(const struct store_auth *auth, int64_t id, struct store_result *res)
{
    char idbuf[24];
    struct db_query q = {"webhook_ping", 1, {db_int(idbuf, id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_deliveries(const struct store_auth *auth, int64_t id, const char *before, int limit,
                                           struct store_result *res)
{
    char idbuf[24], lim[24];
    struct db_query q = {"webhook_deliveries", 3, {db_int(idbuf, id), before, db_int(lim, limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_webhook_retry(const struct store_auth *auth, int64_t id, int64_t delivery_id,
                                      struct store_result *res)
{
    char idbuf[24], dbuf[24];
    struct db_query q = {"webhook_retry", 2, {db_int(idbuf, id), db_int(dbuf, delivery_id)}};
    return db_run_document(auth, &q, res);
}
