/* POST with an Idempotency-Key: the key and the request it stands for are
 * hashed before the handler runs; the handler's write then stays open in
 * the request's transaction until the reply is known, and commits with the
 * record of that reply (store_transaction_finish), or rolls back on an
 * error. A batch keeps its transaction open the same way, key or not. */
#ifndef APP_IDEMPOTENCY_H
#define APP_IDEMPOTENCY_H
#include <stdbool.h>

#include "http/request.h"

/* Reads the key of a POST; false after replying 400 to a malformed one. */
bool idempotency_read_key(struct request *req);
/* Commits the request's open transaction (a keyed write with the record
 * of its reply), or rolls it back when the reply is an error. A failed
 * commit keeps nothing: the reply becomes a 503 saying so. */
void idempotency_finish(struct request *req);

#endif
