/* Webhook subscriptions and their delivery log, for the requests of
 * resources/webhooks.c (the worker's queue is store/webhook_queue.h). */
#ifndef STORE_WEBHOOKS_H
#define STORE_WEBHOOKS_H
#include "store/store.h"

enum store_status store_webhook_list(struct store_auth *auth, struct store_opt_int after, int limit,
                                     struct store_result *res);
enum store_status store_webhook_get(struct store_auth *auth, int64_t id, struct store_result *res);
/* json: the validated body; secret: "whsec_..." (kept to sign with). */
enum store_status store_webhook_create(struct store_auth *auth, const char *json, const char *secret,
                                       struct store_result *res);
enum store_status store_webhook_patch(struct store_auth *auth, int64_t id, const char *json,
                                      struct store_if_match if_match, struct store_result *res);
enum store_status store_webhook_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                       struct store_result *res);
/* Queues a ping event; res->body is the new delivery. */
enum store_status store_webhook_ping(struct store_auth *auth, int64_t id, struct store_result *res);
/* Deliveries newest first; before: the key of the last one of the previous page. */
enum store_status store_webhook_deliveries(struct store_auth *auth, int64_t id, struct store_opt_int before, int limit,
                                           struct store_result *res);
/* Makes a delivery due now; res->body is the delivery. */
enum store_status store_webhook_retry(struct store_auth *auth, int64_t id, int64_t delivery_id,
                                      struct store_result *res);

#endif
