#include "resources/metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "app/metrics.h"
#include "jobs/webhook_worker.h"
#include "util/process_stats.h"
#include "store/store.h"

/* The text being written; ok turns false at the first line that did not fit. */
struct writer {
    struct strbuf *out;
    bool ok;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *w, const char *fmt, ...)
{
    char line[512]; /* every line is short: our own names and labels */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->ok = w->ok && n >= 0 && (size_t)n < sizeof line && strbuf_append(w->out, line, (size_t)n);
}

static void family(struct writer *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Series that never moved are left out, so the label sets stay few. Route
 * labels are our own templates, which hold no quote, backslash or newline
 * to escape. */
static void write_requests(struct writer *w, const struct metrics_totals *t)
{
    family(w, "http_requests_total", "counter",
           "HTTP requests answered, by route template (unmatched: no route takes that path and method), "
           "method and status.");
    for (int r = 0; r < t->route_count; r++)
        for (int m = 0; m < METRICS_METHODS; m++)
            for (int s = 0; s < t->status_count; s++) {
                uint64_t n = METRICS_REQUESTS(t, r, m, s);
                if (n)
                    put(w, "http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                        t->route_labels[r], metrics_method_names[m], t->status_labels[s], n);
            }
}

static void write_durations(struct writer *w, const struct metrics_totals *t)
{
    family(w, "http_request_duration_seconds", "histogram",
           "Time from a request received in full to its reply handed to the HTTP library, by route template.");
    for (int r = 0; r < t->route_count; r++) {
        uint64_t count = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++)
            count += METRICS_BUCKET(t, r, b);
        if (count == 0)
            continue;
        const char *route = t->route_labels[r];
        uint64_t cumulative = 0;
        for (int b = 0; b < METRICS_BUCKETS; b++) {
            cumulative += METRICS_BUCKET(t, r, b);
            put(w, "http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %" PRIu64 "\n", route,
                metrics_bucket_le[b], cumulative);
        }
        /* +Inf and _count are the same sum of the same reads. */
        uint64_t us = t->duration_us[r];
        put(w, "http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", route, count);
        put(w, "http_request_duration_seconds_sum{route=\"%s\"} %" PRIu64 ".%06" PRIu64 "\n", route, us / 1000000,
            us % 1000000);
        put(w, "http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n", route, count);
    }
}

static void write_database(struct writer *w)
{
    struct store_pool_stats pool;
    store_pool_stats(&pool);
    family(w, "db_pool_connections", "gauge",
           "PostgreSQL connections of the request pool (DB_POOL_SIZE) by state: busy with a request, idle "
           "(open, waiting), closed (opened on first use, or again after a failure).");
    put(w, "db_pool_connections{state=\"busy\"} %u\n", pool.busy);
    put(w, "db_pool_connections{state=\"idle\"} %u\n", pool.idle);
    put(w, "db_pool_connections{state=\"closed\"} %u\n", pool.closed);
    family(w, "db_errors_total", "counter",
           "Database failures met by requests: connections that could not be opened or were found broken, and "
           "statements PostgreSQL failed (validation, conflict and precondition answers are not failures).");
    put(w, "db_errors_total %" PRIu64 "\n", pool.errors);
}

static void write_webhooks(struct writer *w)
{
    struct webhook_worker_stats stats;
    webhook_worker_stats(&stats);
    family(w, "webhook_deliveries_total", "counter",
           "Webhook delivery attempts made by this instance, by result: delivered (a 2xx came) or failed "
           "(another status, a timeout, a refused address).");
    put(w, "webhook_deliveries_total{result=\"delivered\"} %" PRIu64 "\n", stats.delivered);
    put(w, "webhook_deliveries_total{result=\"failed\"} %" PRIu64 "\n", stats.failed);
    family(w, "webhook_backlog", "gauge",
           "Webhook deliveries waiting to go out (every instance's queue; counted every 5 s).");
    if (stats.backlog >= 0)
        put(w, "webhook_backlog %lld\n", stats.backlog);
}

static void write_change_feed(struct writer *w)
{
    family(w, "change_feed_events_total", "counter", "Change feed events listed by GET /changes on this instance.");
    put(w, "change_feed_events_total %" PRIu64 "\n", metrics_feed_events());
}

static void write_process(struct writer *w)
{
    uint64_t value;
    family(w, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    if (process_resident_memory_bytes(&value))
        put(w, "process_resident_memory_bytes %" PRIu64 "\n", value);
    family(w, "process_open_fds", "gauge", "Number of open file descriptors.");
    if (process_open_fds(&value))
        put(w, "process_open_fds %" PRIu64 "\n", value);
}

bool metrics_text_write(struct strbuf *out)
{
    struct writer w = {out, true};
    struct metrics_totals totals;
    metrics_totals_take(&totals);
    write_requests(&w, &totals);
    write_durations(&w, &totals);
    metrics_totals_cleanup(&totals);
    write_database(&w);
    write_webhooks(&w);
    write_change_feed(&w);
    write_process(&w);
    return w.ok;
}
