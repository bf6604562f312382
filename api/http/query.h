/* What handlers read from a request: query parameters of every kind
 * (limits, cursors, ids, booleans, dates), path ids and the body's shape.
 * Each parser records a field error (or replies) when the value is wrong. */
#ifndef HTTP_QUERY_H
#define HTTP_QUERY_H
#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

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
