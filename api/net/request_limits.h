/* The size limits of a request's head: the request target (414) and the
 * header fields (431), answered as problems like every other refusal.
 * libmicrohttpd's memory pool (net/server.c) is sized well above them so
 * that such requests reach us instead of its own HTML pages. */
#ifndef NET_REQUEST_LIMITS_H
#define NET_REQUEST_LIMITS_H
#include <stdbool.h>
#include <ulfius.h>

#include "http/request.h"

/* Path and query string, as sent. */
#define REQUEST_TARGET_MAX 8192
/* Every header field line ("Name: value" and its CRLF) together. */
#define REQUEST_HEADERS_MAX 16384

/* True when the request is within the limits; otherwise replies 414 or
 * 431 and returns false. */
bool request_within_limits(struct request *req, const struct _u_request *u_req);

#endif
