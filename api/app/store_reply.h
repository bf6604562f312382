/* Replies made from a store result: the resource or the list page on
 * STORE_OK, else the problem errors.def names for the store's outcome
 * (a replay answers the response stored under the Idempotency-Key). */
#ifndef APP_STORE_REPLY_H
#define APP_STORE_REPLY_H
#include "http/reply.h"
#include "store/store.h"

/* Adds the store's field errors whose fields are not listed yet. */
void merge_store_field_errors(struct request *req, const struct store_result *res);
/* Replies for a store result that is not STORE_OK. */
void reply_store_error(struct request *req, const struct store_result *res);
/* The usual ending of a handler: the resource on STORE_OK (with status;
 * see http_reply_versioned), else the matching problem. */
void reply_store_result(struct request *req, int status, const struct store_result *res, const char *location_prefix);
/* Same for lists: the page of the store's data array and next key. */
void reply_store_list(struct request *req, const struct store_result *res, const char *cursor_kind);

#endif
