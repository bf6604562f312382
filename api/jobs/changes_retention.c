#include "jobs/changes_retention.h"

#include <stdbool.h>
#include <stddef.h>

#include "jobs/job.h"
#include "log.h"
#include "store/session.h"

#define PURGE_EVERY_MS 60000
#define BATCH 1000 /* events per transaction: short locks, short transactions */

static struct job retention;
static unsigned retention_days;

/* Deletes batch after batch until a batch comes back short; false on a failure. */
static bool purge(struct store_session *session, char *error, size_t error_size)
{
    long deleted = BATCH;
    while (deleted == BATCH && !job_stopping(&retention))
        if (!store_changes_purge(session, retention_days, BATCH, &deleted, error, error_size))
            return false;
    return true;
}

static void *purge_loop(void *arg)
{
    struct job *job = arg;
    struct store_session *session = NULL;
    bool warned = false;
    int wait_ms = 0; /* the first clean-up right at start */
    while (job_nap(job, wait_ms)) {
        wait_ms = PURGE_EVERY_MS;
        if (session == NULL && (session = store_session_open(job->url)) == NULL)
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
    retention_days = days;
    job_start(&retention, database_url, purge_loop, "the change feed clean-up (old events are kept)");
}

void changes_retention_stop(void)
{
    job_stop(&retention);
}
