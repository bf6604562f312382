/* Inside the store: the pipeline runner (the pool is store/pool.h). Every
 * request is one round trip: the caller's token check and the statements
 * of the request go out together in one libpq pipeline and run in one
 * implicit transaction, so a failed check stops the rest and a failed
 * write leaves nothing behind. */
#ifndef STORE_DB_H
#define STORE_DB_H
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/statements.h"
#include "store/store.h"

/* Runs the queries after the caller's authentication (skipped when
 * auth->token_hash is NULL) in one pipeline. On success *last holds the
 * last query's result (caller clears it with PQclear). On failure res gets
 * the status and problem details, and *last is NULL. Serialization
 * failures and deadlocks are retried. */
enum store_status db_run(struct store_auth *auth, const struct db_query *queries, int count, PGresult **last,
                         struct store_result *res);

/* Convenience for the common shape: one query whose result is zero rows
 * (STORE_NOT_FOUND) or one row of (body json, version, id). */
enum store_status db_run_document(struct store_auth *auth, const struct db_query *query, struct store_result *res);
/* One query returning rows of (document json text, key text); builds the
 * data array of up to limit rows and next_key when a further row came. */
enum store_status db_run_list(struct store_auth *auth, const struct db_query *query, int limit,
                              struct store_result *res);
/* Same, when the list query (the last) follows set-up queries. */
enum store_status db_run_list_queries(struct store_auth *auth, const struct db_query *queries, int count, int limit,
                                      struct store_result *res);

/* The first column of the first rows of r as a JSON array text (new), or
 * NULL when an item is over STORE_ITEM_MAX_BYTES. */
char *db_json_array(const PGresult *r, int rows);

/* Runs one query for its effect or its error alone (the result is dropped). */
enum store_status db_run_statement(struct store_auth *auth, const struct db_query *query, struct store_result *res);

/* Sends one query of a pipeline (its values made text by store/params.c);
 * false when it could not be sent or its values do not fit its declaration. */
bool db_send(PGconn *conn, const struct db_query *q, const char *request_id);
/* Reads the results of `commands` pipelined commands up to the sync: the
 * first error in *first_error, the last command's result in *last, the
 * result at keep_index (when >= 0) in *kept_result. False when the
 * connection broke. */
bool db_read_all(PGconn *conn, int commands, PGresult **last, PGresult **first_error, int keep_index,
                 PGresult **kept_result);

/* Splits a list key "position,id" (made by the list itself) into its two
 * numbers; both absent when key is NULL or not of that shape. */
void db_key_pair(const char *key, struct store_opt_int *position, struct store_opt_int *id);

#endif
