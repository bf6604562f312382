/* Service configuration: read once from the environment, then immutable. */
#ifndef CONFIG_H
#define CONFIG_H
#include <stdbool.h>

#include "http/cors.h"
#include "log.h"

struct config {
    const char *database_url; /* borrowed from the environment */
    const char *bind;
    unsigned port;
    unsigned db_pool_size;
    unsigned threads; /* libmicrohttpd pool threads; each blocks on PostgreSQL in a handler */
    unsigned report_threads; /* compute report bodies off the pool threads (report_offload.h) */
    unsigned max_connections;
    unsigned connection_timeout; /* seconds a connection may sit idle or half-sent */
    unsigned shutdown_timeout; /* seconds a drain may take before requests are cut */
    enum log_level log_level;
    bool log_json;
    struct cors_policy cors; /* CORS_ORIGINS, parsed once; borrows the environment */
    bool metrics; /* METRICS=on|off: GET /metrics and the counting behind it */
    bool webhook_allow_private; /* WEBHOOK_ALLOW_PRIVATE=on: webhooks may target private addresses */
    unsigned webhook_workers; /* WEBHOOK_WORKERS: deliveries on the wire at once */
    double webhook_retry_scale; /* WEBHOOK_RETRY_SCALE: multiplies the retry waits (tests) */
    unsigned changes_retention_days; /* CHANGES_RETENTION_DAYS: how long change feed events are kept */
};

/* Fills cfg from the environment. On any bad variable prints every problem
 * to stderr and returns false. */
bool config_load(struct config *cfg);

#endif
