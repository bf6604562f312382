#include "jobs/totals_folder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "store/session.h"
#include "util/alloc.h"

#define FOLD_EVERY_MS 1000
#define NAP_MS 100 /* how soon a stop is noticed */

static struct {
    atomic_bool stop;
    pthread_t thread;
    bool started;
    char *url;
} folder;

/* Sleeps FOLD_EVERY_MS in naps; false when asked to stop meanwhile. */
static bool wait_for_next_fold(void)
{
    for (int i = 0; i < FOLD_EVERY_MS / NAP_MS; i++) {
        if (atomic_load(&folder.stop))
            return false;
        nanosleep(&(struct timespec){0, NAP_MS * 1000000L}, NULL);
    }
    return !atomic_load(&folder.stop);
}

static void *fold_loop(void *arg)
{
    (void)arg;
    struct store_session *session = NULL;
    bool warned = false;
    while (wait_for_next_fold()) {
        if (session == NULL && (session = store_session_open(folder.url)) == NULL)
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
    folder.url = xstrdup(database_url);
    atomic_store(&folder.stop, false);
    folder.started = pthread_create(&folder.thread, NULL, fold_loop, NULL) == 0;
    if (!folder.started)
        log_warning(NULL, "cannot start the opportunity totals folder (reports stay exact, only slower)");
}

void totals_folder_stop(void)
{
    if (folder.started) {
        atomic_store(&folder.stop, true);
        pthread_join(folder.thread, NULL);
        folder.started = false;
    }
    free(folder.url);
    folder.url = NULL;
}
