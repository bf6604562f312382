#include "store/auth_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1024 /* direct-mapped on the token hash, which is uniform */
#define FRESH_SECONDS 60

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

void auth_cache_enable(bool on)
{
    if (on) {
        auth_cache_clear(); /* changes made while nobody listened */
        atomic_store(&cache.enabled, true);
    } else {
        atomic_store(&cache.enabled, false);
        auth_cache_clear();
    }
}
