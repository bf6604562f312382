/* Request metrics for GET /metrics (SPEC 8), counted without a lock: each
 * thread that answers requests counts into a slot of its own (registered
 * on its first request), and a scrape folds every slot into totals. Only
 * the owning thread writes a slot; the counters are C11 atomics read and
 * written relaxed, so the scraper's reads are race-free and the request
 * path pays no locked instruction. Labels are bounded: a route is one of
 * the route table's path templates or "unmatched", a method one of the
 * known ones or "other", a status one the API answers with or "other". */
#ifndef METRICS_H
#define METRICS_H
#include <stdbool.h>
#include <stdint.h>

struct route; /* router.h */

/* Histogram buckets of http_request_duration_seconds: upper bounds in
 * microseconds and as written in the "le" label. */
#define METRICS_BUCKETS 13
extern const long metrics_bucket_us[METRICS_BUCKETS];
extern const char *const metrics_bucket_le[METRICS_BUCKETS];

#define METRICS_METHODS 8
extern const char *const metrics_method_names[METRICS_METHODS]; /* ... "OPTIONS", "other" */

/* Builds the label tables from the route table; with enabled false
 * nothing is ever counted and GET /metrics does not exist. Call once
 * before the server starts. */
void metrics_init(bool enabled);
/* Frees every thread's slot; after the server has stopped. */
void metrics_cleanup(void);
/* Whether METRICS is on (the /metrics route exists only then). */
bool metrics_enabled(void);

/* Counts one answered request: route NULL when none matched ("unmatched"),
 * method as sent, the status sent and the time it took. Returns at once
 * when metrics are off. */
void metrics_count_request(const struct route *route, const char *method, int status, long duration_us);
/* Counts change feed events listed to readers (change_feed_events_total). */
void metrics_count_feed_events(uint64_t events);
uint64_t metrics_feed_events(void);

/* Every thread's counts folded together. Arrays are new; indexes: route
 * label r (0..route_count-1, the last is "unmatched"), method m, status s
 * (0..status_count-1, the last is "other"), bucket b (0..METRICS_BUCKETS,
 * the last is the one past 10 s, not cumulative). */
struct metrics_totals {
    int route_count;
    const char *const *route_labels; /* borrowed: "/opportunities/{id}", ..., "unmatched" */
    int status_count;
    const char *const *status_labels; /* borrowed: "200", ..., "other" */
    uint64_t *requests; /* [r][m][s] */
    uint64_t *buckets; /* [r][b] */
    uint64_t *duration_us; /* [r] */
};

#define METRICS_REQUESTS(t, r, m, s) ((t)->requests[((size_t)(r)*METRICS_METHODS + (m)) * (t)->status_count + (s)])
#define METRICS_BUCKET(t, r, b) ((t)->buckets[(size_t)(r) * (METRICS_BUCKETS + 1) + (b)])

void metrics_totals_take(struct metrics_totals *out);
void metrics_totals_cleanup(struct metrics_totals *totals);

#endif
