#include "jobs/changes_retention.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store/session.h"
#include "util/alloc.h"

#define PURGE_EVERY_MS 60000
#define NAP_MS 100 /* how soon a stop is noticed */
#define BATCH 1000 /* events per transaction: short locks, short transactions */

static struct {
    atomic_bool stop;
    pthread_t thread;
    bool started;
    char *url;
    unsigned days;
} retention;

/* Sleeps ms in naps; false when asked to stop meanwhile. */
static bool nap(int ms)
{
    for (int i = 0; i < ms / NAP_MS; i++) {
        if (atomic_load(&retention.stop))
            return false;
        nanosleep(&(struct timespec){0, NAP_MS * 1000000L}, NULL);
    }
    return !atomic_load(&retention.stop);
}

/* Deletes batch after batch until a batch comes back short; false on a failure. */
static bool purge(struct store_session *session, char *error, size_t error_size)
{
    long deleted = BATCH;
    while (deleted == BATCH && !atomic_load(&retention.stop))
        if (!store_changes_purge(session, retention.days, BATCH, &deleted, error, error_size))
            return false;
    return true;
}

static void *purge_loop(void *arg)
{
    (void)arg;
    struct store_session *session = NULL;
    bool warned = false;
    int wait_ms = 0; /* the first clean-up right at start */
    while (nap(wait_ms)) {
        wait_ms = PURGE_EVERY_MS;
        if (session == NULL && (session = store_session_open(retention.url)) == NULL)
            continue;
        char error[256];
        bool ok = purge(session, error, sizeof error);
        if (!ok && !warned)
            log_warning(NULL, "cannot delete old change feed events (they are kept meanwhile): %s", error);
        warned = !ok;
        if (!store_session_ok(session)) {
            store_session_close(session);
            session = NULL;
        }
    }
    store_session_close(session);
    return NULL;
}

void changes_retention_start(const char *database_url, unsigned days)
{
    retention.url = xstrdup(database_url);
    retention.days = days;
    atomic_store(&retention.stop, false);
    retention.started = pthread_create(&retention.thread, NULL, purge_loop, NULL) == 0;
    if (!retention.started)
        log_warning(NULL, "cannot start the change feed clean-up (old events are kept)");
}

void changes_retention_stop(void)
{
    if (retention.started) {
        atomic_store(&retention.stop, true);
        pthread_join(retention.thread, NULL);
        retention.started = false;
    }
    free(retention.url);
    retention.url = NULL;
}
