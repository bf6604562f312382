/* The route table and the matcher. One table says, for every endpoint,
 * the method, the path pattern, who may call it, which query parameters it
 * takes and its handler; the matcher gives 404 and 405 (+ Allow) from it. */
#ifndef ROUTER_H
#define ROUTER_H
#include "http/request.h"

enum route_access {
    ACCESS_PUBLIC, /* no token: health, readiness, the OpenAPI document */
    ACCESS_USER, /* any active user's token */
    ACCESS_ADMIN, /* an admin's token */
};

enum route_body {
    BODY_NONE, /* a body is refused with 400... unless empty */
    BODY_JSON, /* application/json */
    BODY_PATCH, /* application/json or application/merge-patch+json */
};

typedef void (*route_handler)(struct request *req);

struct route {
    const char *method;
    const char *pattern; /* segments; ":name" matches one segment */
    enum route_access access;
    enum route_body body;
    const char *query_params; /* space-separated names accepted in the query string */
    route_handler handler;
    bool (*exists)(void); /* NULL: always; else the route exists only while this says so (METRICS=off) */
};

extern const struct route routes[];

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD };

/* Matches a decoded path split into segments. On ROUTE_FOUND *out is the
 * route and params[] point into segments[]; on ROUTE_NO_METHOD allow gets
 * the methods the path takes ("GET, PATCH"). */
enum route_match router_match(const char *method, char *const *segments, int count, const struct route **out,
                              const char **params, int *param_count, char *allow, size_t allow_size);

#endif
