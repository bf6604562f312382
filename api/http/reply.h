/* Replies: JSON documents, pages of a list, resources with their ETag,
 * and RFC 9457 problems built from the one problem table (errors.def),
 * with the field errors a request collected. */
#ifndef HTTP_REPLY_H
#define HTTP_REPLY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

enum problem {
#define PROBLEM(name, status, slug, title) PROBLEM_##name,
#include "errors.def"
};

/* Drops the reply, its headers and field errors made so far. */
void http_reply_reset(struct request *req);
/* Adds a response header (copied). */
void http_header(struct request *req, const char *name, const char *value);
/* A response header set so far (borrowed), or NULL. */
const char *http_reply_header(const struct request *req, const char *name);
/* Replies with a JSON text (copied) and status. */
void http_reply_json(struct request *req, int status, const char *json_text);
/* Replies with an already formatted body that is handed over (new reference). */
void http_reply_take(struct request *req, int status, const char *content_type, char *body, size_t length);
/* Replies with a body a report thread computes (the transport's deferred
 * bodies), taking the reply's reference to it; release drops that reference. */
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
/* Records a field error unless the field has one already. */
void http_field_error_once(struct request *req, const char *field, const char *message);

/* Replies with a single resource's JSON text: ETag from version (when
 * positive), 304 when If-None-Match matches it on a GET, Location
 * location_prefix/id when status is 201. */
void http_reply_versioned(struct request *req, int status, const char *json_text, int64_t version, int64_t id,
                          const char *location_prefix);
/* Replies with a list page {"data": ..., "next_cursor": ...}: data is a
 * JSON array text (NULL: empty), next_key the key of the last row when
 * more follow (encoded into an opaque cursor for cursor_kind) or NULL. */
void http_reply_page(struct request *req, const char *data, const char *next_key, const char *cursor_kind);
/* Replies 400 listing the query errors recorded so far. */
void http_reply_query_errors(struct request *req);

#endif
