/* The CORS headers of a reply (http/cors.h decides them), written into
 * Ulfius' header map once the reply's own headers are there. */
#ifndef NET_CORS_HEADERS_H
#define NET_CORS_HEADERS_H
#include "http/cors.h"

struct _u_map;
/* Adds to a reply's headers what the request's Origin earns: for an allowed
 * origin Access-Control-Allow-Origin and -Expose-Headers; and, whenever the
 * policy is a list, Origin in Vary (merged into a Vary already there), since
 * the reply then depends on the Origin. Nothing when CORS is off. */
void cors_add_reply_headers(const struct cors_policy *policy, const char *origin, struct _u_map *headers);

#endif
