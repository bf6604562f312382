#include "jobs/changes_retention.h"

#include <stdbool.h>
#include <stddef.h>

#include "jobs/job.h"
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
    /* The first clean-up right at start. */
    job_every(arg, 0, PURGE_EVERY_MS, purge, "cannot delete old change feed events (they are kept meanwhile)");
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
