#include "jobs/webhook_worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "outbound/webhook_post.h"
#include "store/webhook_queue.h"
#include "util/alloc.h"
#include "util/text.h"

#define MAX_THREADS 64
#define IDLE_NAP_MS 250 /* how often an idle thread looks for due deliveries */
#define ERROR_NAP_MS 1000
#define LEASE_SECONDS 30
/* No new attempt starts this late into a lease, so the last one (at most
 * WEBHOOK_TIMEOUT_MS) ends well before the lease does. */
#define BATCH_SECONDS 15
#define BACKLOG_EVERY_SECONDS 5

static struct {
    atomic_bool stop;
    pthread_t threads[MAX_THREADS];
    unsigned started;
    char *url;
    double retry_scale;
    char instance[37]; /* this process's lease holder id, a UUID */
    bool curl_ready;
    atomic_uint_fast64_t delivered, failed;
    atomic_llong backlog;
    atomic_llong backlog_at; /* CLOCK_MONOTONIC second of the last count */
} worker = {.backlog = -1};

void webhook_worker_stats(struct webhook_worker_stats *out)
{
    out->delivered = atomic_load_explicit(&worker.delivered, memory_order_relaxed);
    out->failed = atomic_load_explicit(&worker.failed, memory_order_relaxed);
    out->backlog = atomic_load_explicit(&worker.backlog, memory_order_relaxed);
}

/* One thread at a time counts the waiting deliveries, every few seconds. */
static void refresh_backlog(struct store_session *session)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long last = atomic_load(&worker.backlog_at);
    if (now.tv_sec - last < BACKLOG_EVERY_SECONDS ||
        !atomic_compare_exchange_strong(&worker.backlog_at, &last, (long long)now.tv_sec))
        return;
    long long n = store_webhook_backlog(session);
    if (n >= 0)
        atomic_store(&worker.backlog, n);
}

static bool stopping(void)
{
    return atomic_load(&worker.stop);
}

static void nap(int ms)
{
    for (int slept = 0; slept < ms && !stopping(); slept += 50)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Sends the batch in order until one fails (the rest wait behind it);
 * returns how many have an outcome to record. */
static int send_batch(struct webhook_client *client, struct webhook_batch *batch)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int done = 0;
    while (done < batch->count && !stopping() && seconds_since(&start) < BATCH_SECONDS) {
        struct webhook_delivery *d = &batch->items[done];
        struct webhook_attempt attempt;
        webhook_post(client, batch->url, batch->secret, d->event_id, d->body, stopping, &attempt);
        if (stopping() && attempt.status == 0)
            break; /* cut by the shutdown: it stays due, for the next start */
        d->status = attempt.status;
        d->error = attempt.error[0] ? xstrdup(attempt.error) : NULL;
        done++;
        if (d->error != NULL) {
            log_info(NULL, "webhook %lld: delivery %lld (%s) failed: %s", (long long)batch->subscription_id,
                     (long long)d->id, d->event_id, d->error);
            break;
        }
    }
    return done;
}

static void *deliver_loop(void *arg)
{
    (void)arg;
    struct store_session *session = NULL;
    struct webhook_client *client = webhook_client_new();
    bool warned = false;
    while (client != NULL && !stopping()) {
        if (session == NULL && (session = store_session_open(worker.url)) == NULL) {
            nap(ERROR_NAP_MS);
            continue;
        }
        struct webhook_batch batch;
        bool claimed;
        char error[256];
        bool ok = store_webhook_claim(session, worker.instance, WEBHOOK_BATCH_MAX, LEASE_SECONDS, &batch, &claimed,
                                      error, sizeof error);
        if (ok && claimed) {
            int done = send_batch(client, &batch), delivered, failed;
            ok = store_webhook_record(session, worker.instance, &batch, done, worker.retry_scale, &delivered, &failed,
                                      error, sizeof error);
            if (ok) {
                atomic_fetch_add_explicit(&worker.delivered, (uint_fast64_t)delivered, memory_order_relaxed);
                atomic_fetch_add_explicit(&worker.failed, (uint_fast64_t)failed, memory_order_relaxed);
            }
        }
        if (ok)
            refresh_backlog(session);
        webhook_batch_cleanup(&batch);
        if (!ok && !warned)
            log_warning(NULL, "webhook deliveries: %s", error);
        warned = !ok;
        if (!store_session_ok(session)) {
            store_session_close(session);
            session = NULL;
        }
        if (!ok)
            nap(ERROR_NAP_MS);
        else if (!claimed)
            nap(IDLE_NAP_MS);
    }
    store_session_close(session);
    webhook_client_free(client);
    return NULL;
}

static void make_instance_id(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char hex[33];
    hex_encode(b, sizeof b, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

void webhook_worker_start(const char *database_url, unsigned threads, double retry_scale)
{
    worker.url = xstrdup(database_url);
    worker.retry_scale = retry_scale;
    make_instance_id(worker.instance);
    atomic_store(&worker.stop, false);
    worker.curl_ready = webhook_post_init();
    if (!worker.curl_ready) {
        log_warning(NULL, "cannot start the webhook worker: libcurl did not initialise (deliveries wait)");
        return;
    }
    for (unsigned i = 0; i < threads && i < MAX_THREADS; i++) {
        if (pthread_create(&worker.threads[worker.started], NULL, deliver_loop, NULL) != 0) {
            log_warning(NULL, "cannot start webhook worker thread %u (deliveries go out on fewer)", i + 1);
            break;
        }
        worker.started++;
    }
}

void webhook_worker_stop(void)
{
    atomic_store(&worker.stop, true);
    for (unsigned i = 0; i < worker.started; i++)
        pthread_join(worker.threads[i], NULL);
    worker.started = 0;
    if (worker.curl_ready)
        webhook_post_cleanup();
    worker.curl_ready = false;
    free(worker.url);
    worker.url = NULL;
}
