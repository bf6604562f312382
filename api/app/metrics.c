#include "app/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "util/alloc.h"

const long metrics_bucket_us[METRICS_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
const char *const metrics_bucket_le[METRICS_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};
const char *const metrics_method_names[METRICS_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};

/* Every status the API answers with: the successes its handlers use and
 * every problem of errors.def. */
static const int known_statuses[] = {
    200,
    201,
    204,
    304,
#define PROBLEM(name, status, slug, title) status,
#include "errors.def"
};
#define STATUS_COUNT (sizeof known_statuses / sizeof known_statuses[0] + 1) /* + "other" */
#define MAX_STATUS 600

/* One thread's counts: requests [route][method][status], then buckets
 * [route][bucket], then the microseconds [route]. */
struct slot {
    struct slot *next; /* set before the slot is published, never after */
    _Atomic uint64_t counts[];
};

static struct {
    bool enabled;
    int *label_of_route; /* route table index -> route label */
    char **route_labels; /* "/opportunities/{id}", ..., "unmatched" */
    int route_label_count;
    char status_text[STATUS_COUNT][8];
    const char *status_labels[STATUS_COUNT];
    unsigned char status_slot[MAX_STATUS]; /* HTTP status -> status index */
    size_t request_counts, bucket_counts, count_total;
    _Atomic(struct slot *) slots;
} registry;

static _Thread_local struct slot *own_slot;

/* "/lookups/:table/:item_id" -> "/lookups/{table}/{item_id}" (new). */
static char *template_of(const char *pattern)
{
    size_t size = 2 * strlen(pattern) + 1; /* ":x" becomes "{x}": never twice as long */
    char *out = xmalloc(size);
    size_t used = 0;
    for (const char *p = pattern; *p;) {
        if (*p == ':') {
            size_t len = strcspn(p + 1, "/");
            used += (size_t)snprintf(out + used, size - used, "{%.*s}", (int)len, p + 1);
            p += 1 + len;
        } else {
            out[used++] = *p++;
        }
    }
    out[used] = '\0';
    return out;
}

static void build_route_labels(void)
{
    int route_count = 0;
    while (routes[route_count].method)
        route_count++;
    registry.label_of_route = xcalloc((size_t)route_count, sizeof *registry.label_of_route);
    registry.route_labels = xcalloc((size_t)route_count + 1, sizeof *registry.route_labels);
    int labels = 0;
    for (int i = 0; i < route_count; i++) {
        int same = 0;
        while (same < i && strcmp(routes[same].pattern, routes[i].pattern) != 0)
            same++;
        if (same < i) {
            registry.label_of_route[i] = registry.label_of_route[same];
        } else {
            registry.label_of_route[i] = labels;
            registry.route_labels[labels++] = template_of(routes[i].pattern);
        }
    }
    registry.route_labels[labels++] = xstrdup("unmatched");
    registry.route_label_count = labels;
}

static void build_status_labels(void)
{
    size_t other = STATUS_COUNT - 1;
    memset(registry.status_slot, (int)other, sizeof registry.status_slot);
    for (size_t s = 0; s < other; s++) {
        registry.status_slot[known_statuses[s]] = (unsigned char)s;
        snprintf(registry.status_text[s], sizeof registry.status_text[s], "%d", known_statuses[s]);
        registry.status_labels[s] = registry.status_text[s];
    }
    registry.status_labels[other] = "other";
}

void metrics_init(bool enabled)
{
    registry.enabled = enabled;
    if (!enabled)
        return;
    build_route_labels();
    build_status_labels();
    size_t routes_n = (size_t)registry.route_label_count;
    registry.request_counts = routes_n * METRICS_METHODS * STATUS_COUNT;
    registry.bucket_counts = routes_n * (METRICS_BUCKETS + 1);
    registry.count_total = registry.request_counts + registry.bucket_counts + routes_n;
    atomic_init(&registry.slots, NULL);
}

void metrics_cleanup(void)
{
    struct slot *s = atomic_exchange(&registry.slots, NULL);
    while (s) {
        struct slot *next = s->next;
        free(s);
        s = next;
    }
    for (int i = 0; i < registry.route_label_count; i++)
        free(registry.route_labels[i]);
    free(registry.route_labels);
    free(registry.label_of_route);
    memset(&registry, 0, sizeof registry);
}

bool metrics_enabled(void)
{
    return registry.enabled;
}

/* One page of the feed counts once: a shared counter does. */
static atomic_uint_fast64_t feed_events;

void metrics_count_feed_events(uint64_t events)
{
    atomic_fetch_add_explicit(&feed_events, events, memory_order_relaxed);
}

uint64_t metrics_feed_events(void)
{
    return atomic_load_explicit(&feed_events, memory_order_relaxed);
}

/* The calling thread's slot, made and published on its first request. */
static struct slot *slot_of_this_thread(void)
{
    if (own_slot)
        return own_slot;
    struct slot *s = xmalloc(sizeof *s + registry.count_total * sizeof s->counts[0]);
    for (size_t i = 0; i < registry.count_total; i++)
        atomic_init(&s->counts[i], 0);
    s->next = atomic_load_explicit(&registry.slots, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&registry.slots, &s->next, s, memory_order_release,
                                                  memory_order_relaxed))
        ;
    own_slot = s;
    return s;
}

/* Only the owning thread writes its slot, so a load and a store (each
 * atomic: the scraper never reads a torn value) do what a fetch-and-add
 * would, without its locked instruction. */
static void add(_Atomic uint64_t *counter, uint64_t amount)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + amount, memory_order_relaxed);
}

static int method_index(const char *method)
{
    for (int m = 0; m < METRICS_METHODS - 1; m++)
        if (strcmp(method, metrics_method_names[m]) == 0)
            return m;
    return METRICS_METHODS - 1;
}

void metrics_count_request(const struct route *route, const char *method, int status, long duration_us)
{
    if (!registry.enabled)
        return;
    struct slot *s = slot_of_this_thread();
    size_t r = route ? (size_t)registry.label_of_route[route - routes] : (size_t)registry.route_label_count - 1;
    size_t status_index = status >= 0 && status < MAX_STATUS ? registry.status_slot[status] : STATUS_COUNT - 1;
    size_t m = (size_t)method_index(method ? method : "");
    add(&s->counts[(r * METRICS_METHODS + m) * STATUS_COUNT + status_index], 1);

    if (duration_us < 0)
        duration_us = 0;
    size_t b = 0;
    while (b < METRICS_BUCKETS && duration_us > metrics_bucket_us[b]) /* "le": at most the bound */
        b++;
    add(&s->counts[registry.request_counts + r * (METRICS_BUCKETS + 1) + b], 1);
    add(&s->counts[registry.request_counts + registry.bucket_counts + r], (uint64_t)duration_us);
}

void metrics_totals_take(struct metrics_totals *out)
{
    memset(out, 0, sizeof *out);
    out->route_count = registry.route_label_count;
    out->route_labels = (const char *const *)registry.route_labels;
    out->status_count = (int)STATUS_COUNT;
    out->status_labels = registry.status_labels;
    uint64_t *sums = xcalloc(registry.count_total ? registry.count_total : 1, sizeof *sums);
    for (struct slot *s = atomic_load_explicit(&registry.slots, memory_order_acquire); s; s = s->next)
        for (size_t i = 0; i < registry.count_total; i++)
            sums[i] += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
    out->requests = sums;
    out->buckets = sums + registry.request_counts;
    out->duration_us = sums + registry.request_counts + registry.bucket_counts;
}

void metrics_totals_cleanup(struct metrics_totals *totals)
{
    free(totals->requests); /* the one allocation behind all three arrays */
    memset(totals, 0, sizeof *totals);
}
