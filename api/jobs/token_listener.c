#include "jobs/token_listener.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store/auth_cache.h"
#include "store/session.h"
#include "util/alloc.h"

#define RECONNECT_SECONDS 1
#define WAIT_MS 200 /* how soon a stop is noticed */

static struct {
    atomic_bool stop;
    pthread_t thread;
    bool started;
    char *url;
} listener;

/* Listens on crm_auth; any notification empties the cache. */
static void *listen_loop(void *arg)
{
    (void)arg;
    struct store_session *session = NULL;
    while (!atomic_load(&listener.stop)) {
        if (session == NULL) {
            session = store_session_open(listener.url);
            if (session == NULL || !store_session_listen(session, "crm_auth")) {
                store_session_close(session);
                session = NULL;
                for (int i = 0; i < RECONNECT_SECONDS * 10 && !atomic_load(&listener.stop); i++)
                    nanosleep(&(struct timespec){0, 100000000}, NULL);
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
    listener.url = xstrdup(database_url);
    atomic_store(&listener.stop, false);
    listener.started = pthread_create(&listener.thread, NULL, listen_loop, NULL) == 0;
}

void token_listener_stop(void)
{
    if (listener.started) {
        atomic_store(&listener.stop, true);
        pthread_join(listener.thread, NULL);
        listener.started = false;
    }
    free(listener.url);
    listener.url = NULL;
}
