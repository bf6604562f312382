/* Inside the store: what a failed statement means for the request. The
 * SQLSTATE picks the store outcome (errors.def); our SQL functions put a
 * JSON array of {field, message} in DETAIL for 422 and a count in HINT for
 * 409; constraint names ("<table>__<field>__<kind>") name the field. */
#ifndef STORE_SQL_ERRORS_H
#define STORE_SQL_ERRORS_H
#include <libpq-fe.h>
#include <stdbool.h>

#include "store/store.h"

/* Fills res from a failed result (a replay of a stored response into
 * auth->idempotency); logs and counts the failures that are not the
 * request's own. */
void db_describe_error(const PGresult *r, struct store_result *res, struct store_auth *auth);
/* Serialization failures and deadlocks: the transaction may be tried again. */
bool db_retryable(const PGresult *r);

#endif
