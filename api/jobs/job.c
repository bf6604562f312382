#include "jobs/job.h"

#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store/session.h"
#include "util/alloc.h"

#define NAP_MS 100 /* how soon a stop is noticed */

bool job_start(struct job *job, const char *database_url, void *(*loop)(void *job), const char *what)
{
    job->url = xstrdup(database_url);
    atomic_store(&job->stop, false);
    job->started = pthread_create(&job->thread, NULL, loop, job) == 0;
    if (!job->started)
        log_warning(NULL, "cannot start %s", what);
    return job->started;
}

void job_stop(struct job *job)
{
    if (job->started) {
        atomic_store(&job->stop, true);
        pthread_join(job->thread, NULL);
        job->started = false;
    }
    free(job->url);
    job->url = NULL;
}

bool job_stopping(struct job *job)
{
    return atomic_load(&job->stop);
}

bool job_nap(struct job *job, int ms)
{
    for (int i = 0; i < ms / NAP_MS; i++) {
        if (job_stopping(job))
            return false;
        nanosleep(&(struct timespec){0, NAP_MS * 1000000L}, NULL);
    }
    return !job_stopping(job);
}

void job_every(struct job *job, int first_ms, int every_ms,
               bool (*work)(struct store_session *session, char *error, size_t error_size), const char *failing)
{
    struct store_session *session = NULL;
    bool warned = false;
    for (int wait_ms = first_ms; job_nap(job, wait_ms); wait_ms = every_ms) {
        if (session == NULL && (session = store_session_open(job->url)) == NULL)
            continue;
        char error[256];
        bool ok = work(session, error, sizeof error);
        if (!ok && !warned)
            log_warning(NULL, "%s: %s", failing, error);
        warned = !ok;
        if (!store_session_ok(session)) {
            store_session_close(session);
            session = NULL;
        }
    }
    store_session_close(session);
}
