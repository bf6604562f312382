/* A 200 whose body is computed from a checked request: the check (every
 * 4xx) has run; the computation (a store call) and an optional export of
 * its JSON follow. Used by the forecast results and the dashboard. */
#ifndef COMPUTED_REPLY_H
#define COMPUTED_REPLY_H
#include <jansson.h>
#include <stddef.h>

#include "http.h"

/* The store call that computes the document of a checked request. */
typedef enum store_status (*computed_document_fn)(const char *request_id, const char *checked,
                                                  struct store_result *res);
/* Turns the document into another format: a new buffer and its length, or
 * NULL when it cannot. */
typedef char *(*computed_export_fn)(const json_t *document, size_t *length);

/* Replies 200 with content_type and compute(checked), exported when export
 * is not NULL; the store's problem when the computation fails. checked is
 * borrowed; what names the document in log lines ("funnel"). */
void http_reply_computed(struct request *req, const char *content_type, computed_document_fn compute,
                         const char *checked, computed_export_fn export, const char *what);

#endif
