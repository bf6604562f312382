/* Inside the store: the pipeline runner (the pool is store/pool.h). Every
 * request is one round trip: the caller's token check and the statements
 * of the request go out together in one libpq pipeline and run in one
 * implicit transaction, so a failed check stops the rest and a failed
 * write leaves nothing behind. */
#ifndef STORE_DB_H
#define STORE_DB_H
#include <libpq-fe.h>

#include "store/statements.h"
#include "store/store.h"

#define DB_MAX_PARAMS 16

struct db_query {
    const char *statement;
    int nparams;
    const char *params[DB_MAX_PARAMS]; /* text values, NULL for SQL NULL */
};

/* Runs the queries after the caller's authentication (skipped when
 * auth->token_hash is NULL) in one pipeline. On success *last holds the
 * last query's result (caller clears it with PQclear). On failure res gets
 * the status and problem details, and *last is NULL. Serialization
 * failures and deadlocks are retried. */
enum store_status db_run(const struct store_auth *auth, const struct db_query *queries, int count, PGresult **last,
                         struct store_result *res);

/* Convenience for the common shape: one query whose result is zero rows
 * (STORE_NOT_FOUND) or one row of (body json, version, id). */
enum store_status db_run_document(const struct store_auth *auth, const struct db_query *query,
                                  struct store_result *res);
/* One query returning rows of (document json text, key text); builds the
 * data array of up to limit rows and next_key when a further row came. */
enum store_status db_run_list(const struct store_auth *auth, const struct db_query *query, int limit,
                              struct store_result *res);
/* Same, when the list query (the last) follows set-up queries. */
enum store_status db_run_list_queries(const struct store_auth *auth, const struct db_query *queries, int count,
                                      int limit, struct store_result *res);

/* Runs one query for its effect or its error alone (the result is dropped). */
enum store_status db_run_statement(const struct store_auth *auth, const struct db_query *query,
                                   struct store_result *res);

/* Formats an int64 into buf (at least 24 bytes) and returns buf. */
const char *db_int(char *buf, int64_t value);

/* The If-Match version as the SQL functions take it (see api_check_version):
 * NULL without a precondition, -1 for "*", 0 for a version beyond the SQL
 * integer range (it can match nothing). */
const char *db_version(char *buf, int64_t if_match);

#endif
