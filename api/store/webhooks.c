#include "store/webhooks.h"

#include "store/db.h"

DB_STATEMENT(webhook_list,
             "SELECT webhook_json(w)::text, w.id::text FROM webhook_subscriptions w "
             "WHERE ($1::bigint IS NULL OR w.id > $1) ORDER BY w.id LIMIT $2::int + 1",
             DB_TYPE_OPT_ID, DB_TYPE_INT);
DB_STATEMENT(webhook_get, "SELECT webhook_json(w)::text, w.version, w.id FROM webhook_subscriptions w WHERE w.id = $1",
             DB_TYPE_ID);
DB_STATEMENT(webhook_create, "SELECT body::text, version, id FROM api_webhook_create($1::jsonb, $2)", DB_TYPE_JSON,
             DB_TYPE_TEXT);
DB_STATEMENT(webhook_patch, "SELECT body::text, version, id FROM api_webhook_patch($1, $2::jsonb, $3)", DB_TYPE_ID,
             DB_TYPE_JSON, DB_TYPE_IF_MATCH);
DB_STATEMENT(webhook_delete, "SELECT body::text, version, id FROM api_webhook_delete($1, $2)", DB_TYPE_ID,
             DB_TYPE_IF_MATCH);
DB_STATEMENT(webhook_ping, "SELECT body::text, version, id FROM api_webhook_ping($1)", DB_TYPE_ID);
DB_STATEMENT(webhook_deliveries, "SELECT body::text, key::text FROM api_webhook_delivery_list($1, $2::bigint, $3::int)",
             DB_TYPE_ID, DB_TYPE_OPT_ID, DB_TYPE_INT);
DB_STATEMENT(webhook_retry, "SELECT body::text, version, id FROM api_webhook_delivery_retry($1, $2)", DB_TYPE_ID,
             DB_TYPE_ID);

const struct db_statement *const webhook_statements[] = {
    &webhook_list, &webhook_get,        &webhook_create, &webhook_patch, &webhook_delete,
    &webhook_ping, &webhook_deliveries, &webhook_retry,  NULL,
};

enum store_status store_webhook_list(struct store_auth *auth, struct store_opt_int after, int limit,
                                     struct store_result *res)
{
    struct db_query q = {&webhook_list, {DB_OPT_ID(after), DB_INT(limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_webhook_get(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&webhook_get, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_create(struct store_auth *auth, const char *json, const char *secret,
                                       struct store_result *res)
{
    struct db_query q = {&webhook_create, {DB_JSON(json), DB_TEXT(secret)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_patch(struct store_auth *auth, int64_t id, const char *json,
                                      struct store_if_match if_match, struct store_result *res)
{
    struct db_query q = {&webhook_patch, {DB_ID(id), DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                       struct store_result *res)
{
    struct db_query q = {&webhook_delete, {DB_ID(id), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_ping(struct store_auth *auth, int64_t id, struct store_result *res)
{
    struct db_query q = {&webhook_ping, {DB_ID(id)}};
    return db_run_document(auth, &q, res);
}

enum store_status store_webhook_deliveries(struct store_auth *auth, int64_t id, struct store_opt_int before, int limit,
                                           struct store_result *res)
{
    struct db_query q = {&webhook_deliveries, {DB_ID(id), DB_OPT_ID(before), DB_INT(limit)}};
    return db_run_list(auth, &q, limit, res);
}

enum store_status store_webhook_retry(struct store_auth *auth, int64_t id, int64_t delivery_id,
                                      struct store_result *res)
{
    struct db_query q = {&webhook_retry, {DB_ID(id), DB_ID(delivery_id)}};
    return db_run_document(auth, &q, res);
}
