/* The request context every layer above the transport shares: what the
 * client sent (method, target, headers through the transport, body), what
 * routing and parsing made of it, the field errors collected and the reply
 * being built. No framework types and no store types: the transport
 * (net/) fills the first part, the application (app/) keeps its own state
 * behind `app`. */
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_BODY 1048576
#define HTTP_MAX_PATH_PARAMS 4
#define HTTP_MAX_QUERY_PARAMS 32
#define HTTP_MAX_FIELD_ERRORS 64

struct field_error {
    char *field;
    char *message;
};

struct query_param {
    char *name;
    char *value;
};

struct route; /* router.h */
struct app_state; /* app/pipeline.h */
struct request;

#define ETAG_LIST_MAX 8
/* The versions an If-Match or If-None-Match header names. */
struct etag_list {
    bool present;
    bool any; /* "*" */
    int count;
    int64_t versions[ETAG_LIST_MAX];
};

/* A reply body computed off the transport's threads: a new buffer in
 * *body (handed over) and its length; false when it cannot be made
 * (logged). */
typedef bool (*deferred_compute_fn)(void *job, char **body, size_t *length);

enum defer_result {
    DEFER_STARTED, /* the transport computes the body; the job is its own now */
    DEFER_NO_CONNECTION, /* the request's connection is unknown; the job is untouched */
    DEFER_STOPPING, /* no thread takes work any more; the job is untouched */
};

/* The transport's way to answer status and content_type with a body that
 * compute(job) makes on another thread; job_free(job) runs once it is done. */
typedef enum defer_result (*request_defer_fn)(struct request *req, int status, const char *content_type,
                                              deferred_compute_fn compute, void *job, void (*job_free)(void *job));

struct request {
    /* Set by the transport before anything else runs. */
    const char *method;
    const char *url; /* the request target as sent: path and query string */
    const char *body_bytes; /* borrowed; body_length bytes, not NUL-terminated */
    size_t body_length;
    const void *transport; /* borrowed: the transport's own request */
    const char *(*header_of)(const void *transport, const char *name); /* a request header, or NULL */
    request_defer_fn defer; /* NULL: no deferred bodies */
    char request_id[64];
    /* Set by the pipeline before the handler runs. */
    const struct route *route;
    const char *path_params[HTTP_MAX_PATH_PARAMS]; /* decoded; borrowed from the split path */
    int path_param_count;
    struct query_param query[HTTP_MAX_QUERY_PARAMS];
    int query_count;
    struct app_state *app; /* the application's part while the pipeline runs, else NULL */
    json_t *body; /* parsed JSON body or NULL; owned */
    struct etag_list if_none_match;
    const char *if_none_match_header; /* borrowed raw header or NULL, for ETags that are not versions (/docs) */
    const char *accept; /* borrowed header or NULL */
    /* Collected validation errors (422 / 400). */
    struct field_error errors[HTTP_MAX_FIELD_ERRORS];
    int error_count;
    /* The reply, filled by http_reply_* and sent by the transport. */
    int status;
    char *reply_body; /* owned */
    size_t reply_length;
    void *deferred; /* a body still being computed (the reply's reference), or NULL */
    void (*deferred_release)(void *deferred); /* drops that reference */
    const char *content_type;
    struct {
        char *name;
        char *value;
    } headers[8];
    int header_count;
};

/* A request header as sent (borrowed), or NULL. */
const char *http_request_header(const struct request *req, const char *name);
/* Query parameter value or NULL (borrowed). */
const char *http_query(const struct request *req, const char *name);
/* Path parameter i (0-based), borrowed; NULL when it was not valid
 * percent-encoded UTF-8 or held a NUL. */
const char *http_path(const struct request *req, int i);

/* Takes the client's X-Request-Id when it is printable ASCII that fits,
 * else makes a new one. */
void http_request_set_id(struct request *req, const char *given);

/* Frees what the request owns: query, field errors, reply, headers, body. */
void http_request_cleanup(struct request *req);

#endif
