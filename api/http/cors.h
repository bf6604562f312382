/* CORS for browser front-ends (SPEC §8): CORS_ORIGINS parsed once at
 * start-up into a policy, the answer to OPTIONS, and the headers every
 * reply to an allowed origin carries. */
#ifndef HTTP_CORS_H
#define HTTP_CORS_H
#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

#define CORS_MAX_ORIGINS 32
#define CORS_MAX_ORIGIN_LENGTH 255

/* What a browser may send besides the safelisted request headers. */
#define CORS_ALLOWED_HEADERS "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id"
/* Response headers a page may read besides the safelisted ones. */
#define CORS_EXPOSED_HEADERS "ETag, Location, X-Request-Id, Retry-After, Content-Disposition"
#define CORS_MAX_AGE "600"

enum cors_mode {
    CORS_OFF, /* CORS_ORIGINS empty: no CORS header at all */
    CORS_ANY, /* "*" */
    CORS_LIST, /* exact origins */
};

struct cors_origin {
    const char *text; /* borrowed from the setting; not NUL-terminated here */
    size_t length;
};

struct cors_policy {
    enum cors_mode mode;
    int count;
    struct cors_origin origins[CORS_MAX_ORIGINS];
};

/* Parses a CORS_ORIGINS value: empty (off), "*", or exact origins
 * (scheme://host[:port], as browsers send them) separated by commas. The
 * policy borrows setting, which must outlive it. On a malformed value
 * returns false with error naming the bad origin and what is wrong. */
bool cors_policy_parse(const char *setting, struct cors_policy *policy, char *error, size_t error_size);

/* Whether a request with this Origin header (NULL: none) may read replies. */
bool cors_origin_allowed(const struct cors_policy *policy, const char *origin);

/* Answers OPTIONS on a known path whose methods are allow ("GET, POST").
 * A preflight (Origin and Access-Control-Request-Method sent) from an
 * allowed origin gets 204 with the Access-Control-Allow-* headers, one from
 * any other origin 403; any other OPTIONS gets 204 with Allow. No token. */
void cors_reply_options(struct request *req, const struct cors_policy *policy, const char *origin,
                        const char *request_method, const char *allow);

/* What a reply to a request with this Origin (NULL: none) carries: Origin
 * in Vary whenever the policy is a list (the reply then depends on the
 * Origin), and for an allowed origin Access-Control-Allow-Origin (with
 * Access-Control-Expose-Headers). Nothing when CORS is off. */
struct cors_reply {
    bool vary_origin;
    const char *allow_origin; /* "*", the origin (borrowed), or NULL */
};
struct cors_reply cors_reply_for(const struct cors_policy *policy, const char *origin);
/* Whether a Vary value names Origin already (or is "*", which covers it). */
bool cors_vary_lists_origin(const char *vary);

#endif
