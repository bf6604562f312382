#include "jobs/totals_folder.h"

#include <stdbool.h>

#include "jobs/job.h"
#include "log.h"
#include "store/session.h"

#define FOLD_EVERY_MS 1000

static struct job folder;

static void *fold_loop(void *arg)
{
    struct job *job = arg;
    struct store_session *session = NULL;
    bool warned = false;
    while (job_nap(job, FOLD_EVERY_MS)) {
        if (session == NULL && (session = store_session_open(job->url)) == NULL)
            continue;
        char error[256];
        bool ok = store_totals_fold(session, error, sizeof error);
        if (!ok && !warned)
            log_warning(NULL, "cannot fold the opportunity totals (reports stay exact, only slower): %s", error);
        warned = !ok;
        if (!store_session_ok(session)) {
            store_session_close(session);
            session = NULL;
        }
    }
    store_session_close(session);
    return NULL;
}

void totals_folder_start(const char *database_url)
{
    job_start(&folder, database_url, fold_loop, "the opportunity totals folder (reports stay exact, only slower)");
}

void totals_folder_stop(void)
{
    job_stop(&folder);
}
