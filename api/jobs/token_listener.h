/* The token cache's listener (store/auth_cache.h): a thread with a
 * database connection of its own that LISTENs on crm_auth and empties the
 * cache on every notification. The cache is on only while it listens;
 * when the connection is lost it is off until the listener is back. */
#ifndef JOBS_TOKEN_LISTENER_H
#define JOBS_TOKEN_LISTENER_H

void token_listener_start(const char *database_url);
void token_listener_stop(void);

#endif
