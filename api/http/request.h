/* Per-request plumbing shared by every resource: the request context,
 * query parameters, JSON bodies, conditional headers and replies
 * (JSON documents and RFC 9457 problems). */
#ifndef HTTP_H
#define HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct _u_request;

enum problem {
#define PROBLEM(name, status, slug, title) PROBLEM_##name,
#include "errors.def"
#undef PROBLEM
};

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

#define ETAG_LIST_MAX 8
/* The versions an If-Match or If-None-Match header names. */
struct etag_list {
    bool present;
    bool any; /* "*" */
    int count;
    int64_t versions[ETAG_LIST_MAX];
};

struct request {
    /* Set by the dispatcher before the handler runs. */
    const char *method;
    const struct route *route;
    char request_id[64];
    const char *path_params[HTTP_MAX_PATH_PARAMS]; /* decoded, owned */
    int path_param_count;
    struct query_param query[HTTP_MAX_QUERY_PARAMS];
    int query_count;
    struct store_auth auth; /* token hash + request id for the store */
    char token_hash[65];
    bool authenticated; /* the token was checked in the database */
    json_t *body; /* parsed JSON body or NULL; owned */
    int64_t if_match; /* a version or STORE_IF_MATCH_* (0 can never match) */
    char if_match_list[ETAG_LIST_MAX * 12]; /* "3,7" when If-Match names several versions */
    struct etag_list if_none_match;
    const char *if_none_match_header; /* borrowed raw header or NULL, for ETags that are not versions (/docs) */
    struct store_idempotency idempotency; /* in use when auth.idempotency points here */
    char *idempotent_body; /* what a replay answers instead of reply_body (owned), e.g. without a secret */
    const char *accept; /* borrowed header or NULL */
    const struct _u_request *u_request; /* borrowed; finds the connection (lifecycle_connection_of) */
    /* Collected validation errors (422 / 400). */
    struct field_error errors[HTTP_MAX_FIELD_ERRORS];
    int error_count;
    /* The reply, filled by http_reply_* and sent by the dispatcher. */
    int status;
    char *reply_body; /* owned */
    size_t reply_length;
    void *deferred; /* a body still being computed (the reply's reference: deferred_body.h), or NULL */
    void (*deferred_release)(void *deferred); /* drops that reference */
    const char *content_type;
    struct {
        char *name;
        char *value;
    } headers[8];
    int header_count;
};

/* Query parameter value or NULL (borrowed). */
const char *http_query(const struct request *req, const char *name);
/* Path parameter i (0-based), borrowed; NULL when it was not valid
 * percent-encoded UTF-8 or held a NUL. */
const char *http_path(const struct request *req, int i);

/* Drops the reply, its headers and field errors made so far. */
void http_reply_reset(struct request *req);
/* Adds a response header (copied). */
void http_header(struct request *req, const char *name, const char *value);
/* Replies with a JSON text (copied) and status. */
void http_reply_json(struct request *req, int status, const char *json_text);
/* Replies with an already formatted body that is handed over (new reference). */
void http_reply_take(struct request *req, int status, const char *content_type, char *body, size_t length);
/* Replies with a body a report thread computes (deferred_body.h), taking
 * the reply's reference to it; release drops that reference. */
void http_reply_deferred(struct request *req, int status, const char *content_type, void *body,
                         void (*release)(void *body));
/* Replies 204 / 304 without a body. */
void http_reply_empty(struct request *req, int status);
/* Replies with a problem document listing req->errors; detail may be NULL. */
void http_reply_problem(struct request *req, enum problem kind, const char *detail);
/* Same with one extension member (name: integer), used for reference counts. */
void http_reply_problem_count(struct request *req, enum problem kind, const char *detail, const char *member,
                              long long value);
/* Records a field error (copied) for the next problem reply. */
void http_field_error(struct request *req, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds the store's field errors whose fields are not listed yet. */
void http_merge_field_errors(struct request *req, const struct store_result *res);
/* Replies for a store result that is not STORE_OK (maps status to problem). */
void http_reply_store_error(struct request *req, const struct store_result *res);
/* Replies with the store's JSON body for a single resource: ETag from the
 * version, 304 when If-None-Match matches, Location when status is 201. */
void http_reply_resource(struct request *req, int status, const struct store_result *res, const char *location_prefix);
/* The usual ending of a handler: the resource on STORE_OK (with status),
 * else the matching problem. */
void http_reply_result(struct request *req, int status, const struct store_result *res, const char *location_prefix);
/* Same for lists. */
void http_reply_list_result(struct request *req, const struct store_result *res, const char *cursor_kind);
/* Replies 400 listing the query errors recorded so far; returns false so
 * handlers can `return http_query_failed(req)`-style bail out. */
void http_reply_query_errors(struct request *req);

/* Replies with a list page {"data": ..., "next_cursor": ...} built from the
 * store's data array text and next key (encoded into an opaque cursor). */
void http_reply_list(struct request *req, const struct store_result *res, const char *cursor_kind);

/* Parses `limit` (default 50, 1..500); false after recording a 400 error. */
bool http_query_limit(struct request *req, int *limit);
/* Decodes `cursor` made for cursor_kind into its key text (new, or NULL when
 * absent); false after recording a 400 error. */
bool http_query_cursor(struct request *req, const char *cursor_kind, char **key);
/* Parses `limit` and `cursor` of a list page: the cursor must have been
 * made for cursor_kind and carry a key that key_valid accepts (an id when
 * key_valid is http_key_is_id). True: *after is new (the caller frees it)
 * or NULL when there is no cursor. False after recording 400 errors for
 * both parameters (the caller replies with http_reply_query_errors); *after
 * is then always NULL, so a caller may return without freeing it. */
bool http_query_page(struct request *req, const char *cursor_kind, bool (*key_valid)(const char *key), int *limit,
                     char **after);
/* Cursor keys that are a plain id. */
bool http_key_is_id(const char *key);
/* Cursor keys "position,id" of lists in position order (lookup items, lines). */
bool http_key_is_position_id(const char *key);
/* Parses an optional id-valued query parameter; false after recording an error. */
bool http_query_id(struct request *req, const char *name, int64_t *out, bool *present);
/* Parses an optional boolean query parameter (true|false). */
bool http_query_bool(struct request *req, const char *name, bool *out);
/* Parses an optional RFC 3339 timestamp query parameter; returns it normalised (borrowed). */
bool http_query_timestamp(struct request *req, const char *name, const char **out);
/* Parses an optional date query parameter (YYYY-MM-DD). */
bool http_query_date(struct request *req, const char *name, const char **out);

/* Parses path parameter i as an id; replies 404 and returns false if it is not one. */
bool http_path_id(struct request *req, int i, int64_t *out);
/* Requires a JSON object body; replies 400 and returns false otherwise. */
bool http_require_object(struct request *req);

/* Sync tools echo whole objects back: on PUT by external id, an
 * external_id in the body equal to the one in the path is dropped (a
 * different one stays and is refused as read-only). */
void http_drop_echoed_external_id(struct request *req, const char *external_id);

/* Validates an RFC 3339 timestamp text. */
bool http_valid_timestamp(const char *s);
/* Validates a YYYY-MM-DD date that exists in the calendar. */
bool http_valid_date(const char *s);

#endif
