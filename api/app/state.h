/* The application's part of a request (req->app while the pipeline runs):
 * who calls, for the store, the precondition, the Idempotency-Key and the
 * request's transaction (a keyed write's, a batch's). Filled by the
 * pipeline (app/auth.c, app/idempotency.c, app/pipeline.c), read by the
 * handlers. */
#ifndef APP_STATE_H
#define APP_STATE_H
#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "store/store.h"

struct app_state {
    struct store_auth auth; /* token hash + request id for the store */
    char token_hash[65];
    struct store_if_match if_match;
    int64_t if_match_versions[ETAG_LIST_MAX]; /* when If-Match names several versions */
    struct store_idempotency idempotency; /* in use when auth.idempotency points here */
    struct store_transaction transaction; /* in use when auth.transaction points here */
    char *idempotent_body; /* what a replay answers instead of reply_body (owned), e.g. without a secret */
};

#endif
