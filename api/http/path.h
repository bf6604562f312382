/* The request path: split into percent-decoded segments for the router,
 * and the 404 of a path that ends with a slash. */
#ifndef HTTP_PATH_H
#define HTTP_PATH_H
#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

#define HTTP_MAX_SEGMENTS 8

/* The request path split into segments. */
struct path_segments {
    char *segments[HTTP_MAX_SEGMENTS]; /* decoded, owned; see undecodable */
    int count;
    unsigned undecodable; /* bit i: segment i kept as sent (bad escape, NUL, not UTF-8) */
    bool trailing_slash; /* "/accounts/": the empty last segment is left out */
};

/* Splits the raw path into segments, percent-decoded; a segment that
 * cannot be decoded is kept as sent, so it can still fill a path
 * parameter (which then reaches no handler) but never a literal segment.
 * False when the path has too many segments or does not start with '/'. */
bool http_path_split(const char *path, size_t len, struct path_segments *out);
void http_path_cleanup(struct path_segments *path);

/* A path parameter that could not be decoded reaches its handler as NULL
 * (an id is then not found; an external id is a 422 naming it). */
void http_path_drop_undecodable(struct request *req, const struct path_segments *path);

/* Paths never end with a slash: "/accounts/204/" is not found, and when
 * the path without the slash exists the detail names it. */
void http_reply_trailing_slash(struct request *req, const struct path_segments *path, const char *raw, size_t raw_len);

#endif
