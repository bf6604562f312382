#include "jobs/token_listener.h"

#include <stdbool.h>

#include "jobs/job.h"
#include "log.h"
#include "store/auth_cache.h"
#include "store/session.h"

#define RECONNECT_SECONDS 1
#define WAIT_MS 200 /* how soon a stop is noticed */

static struct job listener;

/* Listens on crm_auth; any notification empties the cache. */
static void *listen_loop(void *arg)
{
    struct job *job = arg;
    struct store_session *session = NULL;
    while (!job_stopping(job)) {
        if (session == NULL) {
            session = store_session_open(job->url);
            if (session == NULL || !store_session_listen(session, "crm_auth")) {
                store_session_close(session);
                session = NULL;
                job_nap(job, RECONNECT_SECONDS * 1000);
                continue;
            }
            auth_cache_enable(true);
        }
        unsigned notifications;
        bool ok = store_session_wait(session, WAIT_MS, &notifications);
        if (notifications)
            auth_cache_clear();
        if (!ok) {
            log_warning(NULL, "token cache off: its database listener lost the connection");
            auth_cache_enable(false);
            store_session_close(session);
            session = NULL;
        }
    }
    auth_cache_enable(false);
    store_session_close(session);
    return NULL;
}

void token_listener_start(const char *database_url)
{
    job_start(&listener, database_url, listen_loop, "the token cache's listener (tokens are checked every time)");
}

void token_listener_stop(void)
{
    job_stop(&listener);
}
