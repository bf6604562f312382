/* Delivers the webhook queue (db/functions/webhooks.sql) on a few threads
 * of its own, each with its own database session and HTTP client: a
 * thread leases one subscription at a time (so instances never send the
 * same delivery at once and a subscription's events go out in order),
 * sends its due deliveries with no transaction open, then records the
 * outcomes. A slow receiver holds one thread for at most 10 s; requests
 * never wait for the worker. */
#ifndef JOBS_WEBHOOK_WORKER_H
#define JOBS_WEBHOOK_WORKER_H
#include <stdint.h>

/* threads: how many deliveries may be on the wire at once (WEBHOOK_WORKERS);
 * retry_scale multiplies the retry waits (WEBHOOK_RETRY_SCALE, 1 in production). */
void webhook_worker_start(const char *database_url, unsigned threads, double retry_scale);
void webhook_worker_stop(void);

/* For GET /metrics: attempts since the start by result, and the waiting
 * deliveries of every instance (refreshed every few seconds; -1 until
 * known). */
struct webhook_worker_stats {
    uint64_t delivered, failed;
    long long backlog;
};
void webhook_worker_stats(struct webhook_worker_stats *out);

#endif
