#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

static bool read_unsigned(const char *name, const char *fallback, long min, long max, unsigned *out)
{
    const char *v = env_or(name, fallback);
    long n;
    if (!parse_int_range(v, min, max, &n)) {
        fprintf(stderr, "crm-api: %s=\"%s\" must be a whole number from %ld to %ld\n", name, v, min, max);
        return false;
    }
    *out = (unsigned)n;
    return true;
}

/* Webhooks: WEBHOOK_ALLOW_PRIVATE=on|off (default off) lets subscriptions
 * and deliveries reach loopback, private, link-local and reserved
 * addresses (tests and closed networks; never on a server whose admins
 * should not reach its internal network); WEBHOOK_WORKERS (default 4)
 * deliveries on the wire at once; WEBHOOK_RETRY_SCALE (default 1)
 * multiplies the retry waits (5 s, 30 s, 2 min, 15 min, 1 h, 6 h, then
 * 12 h), for tests: 0.01 makes the first wait 50 ms. */
static bool load_webhooks(struct config *cfg)
{
    bool ok = true;
    const char *allow = env_or("WEBHOOK_ALLOW_PRIVATE", "off");
    if (strcmp(allow, "on") != 0 && strcmp(allow, "off") != 0) {
        fprintf(stderr, "crm-api: WEBHOOK_ALLOW_PRIVATE=\"%s\" must be on or off\n", allow);
        ok = false;
    }
    cfg->webhook_allow_private = strcmp(allow, "on") == 0;
    ok &= read_unsigned("WEBHOOK_WORKERS", "4", 1, 64, &cfg->webhook_workers);
    const char *scale = env_or("WEBHOOK_RETRY_SCALE", "1");
    char *end = NULL;
    double value = strtod(scale, &end);
    if (end == scale || *end != '\0' || !(value >= 0.0001 && value <= 1000)) {
        fprintf(stderr, "crm-api: WEBHOOK_RETRY_SCALE=\"%s\" must be a number from 0.0001 to 1000\n", scale);
        ok = false;
    }
    cfg->webhook_retry_scale = value;
    return ok;
}

bool config_load(struct config *cfg)
{
    bool ok = true;
    cfg->database_url = env_or("DATABASE_URL", NULL);
    if (cfg->database_url == NULL) {
        fprintf(stderr, "crm-api: DATABASE_URL is not set (e.g. postgresql://user@host/db)\n");
        ok = false;
    }
    cfg->bind = env_or("BIND", "127.0.0.1");
    struct in_addr addr;
    if (inet_pton(AF_INET, cfg->bind, &addr) != 1) {
        fprintf(stderr, "crm-api: BIND=\"%s\" must be an IPv4 address such as 127.0.0.1 or 0.0.0.0\n", cfg->bind);
        ok = false;
    }
    ok &= read_unsigned("PORT", "8080", 1, 65535, &cfg->port);
    ok &= read_unsigned("THREADS", "2", 1, 256, &cfg->threads);
    ok &= read_unsigned("REPORT_THREADS", "2", 1, 256, &cfg->report_threads);
    /* A connection for every thread that talks to the database (pool and
     * report threads), so a request never waits for one a report holds. */
    char default_text[16];
    snprintf(default_text, sizeof default_text, "%u", cfg->threads + cfg->report_threads);
    ok &= read_unsigned("DB_POOL_SIZE", default_text, 1, 512, &cfg->db_pool_size);
    ok &= read_unsigned("MAX_CONNECTIONS", "1024", 1, 65536, &cfg->max_connections);
    ok &= read_unsigned("CONNECTION_TIMEOUT", "15", 1, 3600, &cfg->connection_timeout);
    ok &= read_unsigned("SHUTDOWN_TIMEOUT", "10", 1, 3600, &cfg->shutdown_timeout);
    ok &= read_unsigned("CHANGES_RETENTION_DAYS", "30", 1, 36500, &cfg->changes_retention_days);
    if (ok && cfg->max_connections < cfg->threads) { /* libmicrohttpd shares the limit among its threads */
        fprintf(stderr, "crm-api: MAX_CONNECTIONS=%u must be at least THREADS=%u\n", cfg->max_connections,
                cfg->threads);
        ok = false;
    }

    const char *level = env_or("LOG_LEVEL", "info");
    if (strcmp(level, "error") == 0)
        cfg->log_level = LOG_ERROR;
    else if (strcmp(level, "warning") == 0)
        cfg->log_level = LOG_WARNING;
    else if (strcmp(level, "info") == 0)
        cfg->log_level = LOG_INFO;
    else if (strcmp(level, "debug") == 0)
        cfg->log_level = LOG_DEBUG;
    else {
        fprintf(stderr, "crm-api: LOG_LEVEL=\"%s\" must be error, warning, info or debug\n", level);
        ok = false;
    }
    const char *format = env_or("LOG_FORMAT", "text");
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "crm-api: LOG_FORMAT=\"%s\" must be text or json\n", format);
        ok = false;
    }
    cfg->log_json = strcmp(format, "json") == 0;

    const char *origins = env_or("CORS_ORIGINS", "");
    char why[320];
    if (!cors_policy_parse(origins, &cfg->cors, why, sizeof why)) {
        fprintf(stderr, "crm-api: CORS_ORIGINS=\"%s\": %s (want exact origins separated by commas, or *)\n", origins,
                why);
        ok = false;
    }
    const char *metrics = env_or("METRICS", "on");
    if (strcmp(metrics, "on") != 0 && strcmp(metrics, "off") != 0) {
        fprintf(stderr, "crm-api: METRICS=\"%s\" must be on or off\n", metrics);
        ok = false;
    }
    cfg->metrics = strcmp(metrics, "on") == 0;
    ok &= load_webhooks(cfg);
    return ok;
}
