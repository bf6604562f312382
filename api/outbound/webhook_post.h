/* Sends one webhook over HTTP(S) with libcurl, the only code that includes
 * curl/curl.h: a POST of the body with the Standard Webhooks headers,
 * 10 s in all, no redirects, no proxy, and only to addresses the URL
 * policy allows (the name is resolved here and the address pinned; every
 * socket is checked before it connects). */
#ifndef OUTBOUND_WEBHOOK_POST_H
#define OUTBOUND_WEBHOOK_POST_H
#include <stdbool.h>

#define WEBHOOK_TIMEOUT_MS 10000
#define WEBHOOK_CONNECT_TIMEOUT_MS 5000

struct webhook_client;

struct webhook_attempt {
    long status; /* the receiver's HTTP status; 0 when none came */
    char error[256]; /* why it failed ("" on a 2xx) */
};

/* Once, before any thread posts; and at the end. */
bool webhook_post_init(void);
void webhook_post_cleanup(void);

/* A client per thread: it keeps connections to receivers open. */
struct webhook_client *webhook_client_new(void);
void webhook_client_free(struct webhook_client *client);

/* Posts body to url, signed with secret as event event_id at this moment.
 * cancelled (or NULL) is asked while the transfer runs: true aborts it
 * (out->error "cancelled"), so a stopping server does not wait for a
 * slow receiver. */
void webhook_post(struct webhook_client *client, const char *url, const char *secret, const char *event_id,
                  const char *body, bool (*cancelled)(void), struct webhook_attempt *out);

#endif
