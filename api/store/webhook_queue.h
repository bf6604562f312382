/* The webhook delivery queue, for jobs/webhook_worker.c: each call is one
 * short transaction on the worker's own session, so no transaction is
 * open while a delivery is on the wire (an open one would hold the change
 * feed's horizon, and every delivery, back). */
#ifndef STORE_WEBHOOK_QUEUE_H
#define STORE_WEBHOOK_QUEUE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/session.h"

#define WEBHOOK_BATCH_MAX 50

struct webhook_delivery {
    int64_t id;
    char *event_id;
    char *body;
    long status; /* filled by the worker: the receiver's status, 0 when none */
    char *error; /* filled by the worker: why it failed, or NULL (owned) */
};

/* The deliveries of one subscription, leased to this instance, in order. */
struct webhook_batch {
    int64_t subscription_id;
    char *url, *secret;
    int count;
    struct webhook_delivery items[WEBHOOK_BATCH_MAX];
};

void webhook_batch_cleanup(struct webhook_batch *batch);

/* Leases the next due subscription for lease_seconds to instance (a UUID)
 * and takes up to max of its readable deliveries. *claimed is false when
 * nothing is due. False (error set) when the database failed. */
bool store_webhook_claim(struct store_session *session, const char *instance, int max, int lease_seconds,
                         struct webhook_batch *batch, bool *claimed, char *error, size_t error_size);
/* Records the first `done` items' outcomes (retry waits scaled by scale)
 * and ends the lease; *delivered and *failed count them. */
bool store_webhook_record(struct store_session *session, const char *instance, const struct webhook_batch *batch,
                          int done, double scale, int *delivered, int *failed, char *error, size_t error_size);
/* How many deliveries wait, or -1 on failure. */
long long store_webhook_backlog(struct store_session *session);

#endif
