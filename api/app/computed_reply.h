/* A 200 whose body a report thread computes from a checked request: the
 * check (every 4xx) ran on the HTTP thread; the computation (a store call
 * that cannot fail on the request) and an optional export of its JSON run
 * on a report thread (the transport's deferred bodies) while this HTTP thread serves its
 * other connections. Used by the forecast results and the dashboard. */
#ifndef APP_COMPUTED_REPLY_H
#define APP_COMPUTED_REPLY_H
#include <jansson.h>
#include <stddef.h>

#include "http/request.h"
#include "store/store.h"

/* The store call that computes the document of a checked request. */
typedef enum store_status (*computed_document_fn)(const char *request_id, const char *checked,
                                                  struct store_result *res);
/* Turns the document into another format: a new buffer and its length, or
 * NULL when it cannot. */
typedef char *(*computed_export_fn)(const json_t *document, size_t *length);

/* Replies 200 with content_type; the body is compute(checked), as it is
 * when export is NULL, else exported, made on a report thread (a failure
 * there cuts the chunked body short). When no report thread takes it (the
 * server is stopping) it is computed here, and a failure is the store's
 * problem. checked is borrowed (copied); what names the document in log
 * lines ("funnel"). */
void reply_computed(struct request *req, const char *content_type, computed_document_fn compute, const char *checked,
                    computed_export_fn export, const char *what);

#endif
