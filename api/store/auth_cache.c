#include "store/auth_cache.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/db.h"
#include "util/alloc.h"

#define SLOTS 1024 /* direct-mapped on the token hash, which is uniform */
#define FRESH_SECONDS 60
#define RECONNECT_SECONDS 1

struct entry {
    char token_hash[65];
    int64_t user_id;
    bool admin;
    time_t verified; /* monotonic seconds; 0 = empty */
};

static struct {
    pthread_mutex_t lock;
    struct entry slots[SLOTS];
    atomic_bool enabled; /* only while invalidations are guaranteed to arrive */
    atomic_uint_fast64_t generation;
    atomic_bool stop;
    pthread_t listener;
    bool started;
    char *url;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static time_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static struct entry *slot_of(const char *token_hash)
{
    char prefix[9];
    memcpy(prefix, token_hash, 8);
    prefix[8] = '\0';
    return &cache.slots[strtoul(prefix, NULL, 16) % SLOTS];
}

bool auth_cache_lookup(const char *token_hash, int64_t *user_id, bool *admin)
{
    if (!atomic_load(&cache.enabled))
        return false;
    bool hit = false;
    pthread_mutex_lock(&cache.lock);
    struct entry *e = slot_of(token_hash);
    if (e->verified && now_seconds() - e->verified < FRESH_SECONDS && strcmp(e->token_hash, token_hash) == 0) {
        *user_id = e->user_id;
        *admin = e->admin;
        hit = true;
    }
    pthread_mutex_unlock(&cache.lock);
    return hit;
}

uint64_t auth_cache_generation(void)
{
    return atomic_load(&cache.generation);
}

void auth_cache_store(const char *token_hash, int64_t user_id, bool admin, uint64_t generation)
{
    if (!atomic_load(&cache.enabled))
        return;
    pthread_mutex_lock(&cache.lock);
    if (generation != atomic_load(&cache.generation)) {
        pthread_mutex_unlock(&cache.lock);
        return;
    }
    struct entry *e = slot_of(token_hash);
    memcpy(e->token_hash, token_hash, sizeof e->token_hash);
    e->token_hash[64] = '\0';
    e->user_id = user_id;
    e->admin = admin;
    e->verified = now_seconds();
    pthread_mutex_unlock(&cache.lock);
}

void auth_cache_clear(void)
{
    pthread_mutex_lock(&cache.lock);
    memset(cache.slots, 0, sizeof cache.slots);
    atomic_fetch_add(&cache.generation, 1);
    pthread_mutex_unlock(&cache.lock);
}

static void disable(void)
{
    atomic_store(&cache.enabled, false);
    auth_cache_clear();
}

/* Listens on crm_auth; any notification empties the cache. */
static void *listen_loop(void *arg)
{
    (void)arg;
    PGconn *conn = NULL;
    while (!atomic_load(&cache.stop)) {
        if (conn == NULL) {
            conn = db_connect(cache.url, NULL);
            PGresult *r = conn ? PQexec(conn, "LISTEN crm_auth") : NULL;
            bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
            if (!listening) {
                if (conn)
                    PQfinish(conn);
                conn = NULL;
                for (int i = 0; i < RECONNECT_SECONDS * 10 && !atomic_load(&cache.stop); i++)
                    nanosleep(&(struct timespec){0, 100000000}, NULL);
                continue;
            }
            auth_cache_clear(); /* changes made while nobody listened */
            atomic_store(&cache.enabled, true);
        }
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        if (poll(&pfd, 1, 200) > 0) {
            bool ok = PQconsumeInput(conn) == 1;
            PGnotify *n;
            while ((n = PQnotifies(conn)) != NULL) {
                auth_cache_clear();
                PQfreemem(n);
            }
            if (!ok || PQstatus(conn) != CONNECTION_OK) {
                log_warning(NULL, "token cache off: its database listener lost the connection");
                disable();
                PQfinish(conn);
                conn = NULL;
            }
        }
    }
    disable();
    if (conn)
        PQfinish(conn);
    return NULL;
}

void auth_cache_start(const char *database_url)
{
    cache.url = xstrdup(database_url);
    atomic_store(&cache.stop, false);
    cache.started = pthread_create(&cache.listener, NULL, listen_loop, NULL) == 0;
}

void auth_cache_stop(void)
{
    if (cache.started) {
        atomic_store(&cache.stop, true);
        pthread_join(cache.listener, NULL);
        cache.started = false;
    }
    free(cache.url);
    cache.url = NULL;
}
