/* Webhook subscriptions and their delivery log, for the requests of
 * resources/webhooks.c (the worker's queue is store/webhook_queue.h). */
#ifndef STORE_WEBHOOKS_H
#define STORE_WEBHOOKS_H
#include "store/store.h"

enum store_status store_webhook_list(const struct store_auth *auth, const char *after, int limit,
                                     struct store_result *res);
enum store_status store_webhook_get(const struct store_auth *auth, int64_t id, struct store_result *res);
/* json: the validated body; secret: "whsec_..." (kept to sign with). */
enum store_status store_webhook_create(const struct store_auth *auth, const char *json, const char *secret,
                                       struct store_result *res);
enum store_status store_webhook_patch(const struct store_auth *auth, int64_t id, const char *json, int64_t if_match,
                                      struct store_result *res);
enum store_status store_webhook_delete(const struct store_auth *auth, int64_t id, int64_t if_match,
                                       struct store_result *res);
/* Queues a ping event; res->body is the new delivery. */
enum store_status store_webhook_ping(const struct store_auth *auth, int64_t id, struct store_result *res);
/* Deliveries newest first; before: the key of the last one of the previous page. */
enum store_status store_webhook_deliveries(const struct store_auth *auth, int64_t id, const char *before, int limit,
                                           struct store_result *res);
/* Makes a delivery due now; res->body is the delivery. */
enum store_status store_webhook_retry(const struct store_auth *auth, int64_t id, int64_t delivery_id,
                                      struct store_result *res);

#endif
