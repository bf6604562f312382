/* A cache of checked tokens, so most requests need no token lookup in the
 * database: a hit sends only the caller's id and role with the request's
 * statements. Entries live 60 seconds (then the full check runs again and
 * refreshes last_used_at), and a listener on the database's crm_auth
 * channel (jobs/token_listener.c) empties the cache whenever a token or
 * user changes, in whatever way: triggers notify it. Without a listening
 * connection the cache is off and every request checks its token in full. */
#ifndef STORE_AUTH_CACHE_H
#define STORE_AUTH_CACHE_H
#include <stdbool.h>
#include <stdint.h>

/* On only while invalidations are guaranteed to arrive: switching it
 * either way empties it. Off at start. */
void auth_cache_enable(bool on);
/* True (and the caller) when the token hash is known and fresh. */
bool auth_cache_lookup(const char *token_hash, int64_t *user_id, bool *admin);
/* The cache's generation: it moves on every clear. */
uint64_t auth_cache_generation(void);
/* Remembers a check made at generation (ignored when a clear came since,
 * so a check that raced a revocation is never kept). */
void auth_cache_store(const char *token_hash, int64_t user_id, bool admin, uint64_t generation);
/* Forgets everything (a token was revoked or a user changed here). */
void auth_cache_clear(void);

#endif
