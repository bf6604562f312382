/* The transaction a request keeps open across its store calls (store/db.c):
 * a POST with an Idempotency-Key until the record of its response commits
 * with it, or a batch until its last operation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/db.h"
#include "store/pool.h"

DB_STATEMENT(idempotency_record,
             "SELECT api_idempotency_record(decode($1, 'hex'), decode($2, 'hex'), $3::int, $4, $5, $6)", DB_TYPE_TEXT,
             DB_TYPE_TEXT, DB_TYPE_INT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_TEXT);

const struct db_statement *const idempotency_statements[] = {&idempotency_record, NULL};

void store_idempotency_init(struct store_idempotency *idem)
{
    memset(idem, 0, sizeof *idem);
}

void store_idempotency_cleanup(struct store_idempotency *idem)
{
    free(idem->replay_location);
    free(idem->replay_etag);
    free(idem->replay_body);
    store_idempotency_init(idem);
}

enum store_status store_transaction_begin(struct store_auth *auth, struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, NULL, 0, &r, res) == STORE_OK)
        PQclear(r);
    return res->status;
}

void store_transaction_init(struct store_transaction *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->connection = -1;
}

bool store_transaction_finish(struct store_transaction *tx, const struct store_idempotency *idem,
                              const char *request_id, bool commit, int status, const char *location, const char *etag,
                              const char *body)
{
    if (!tx->open)
        return true;
    int index = tx->connection;
    PGconn *conn = pool_conn(index);
    bool ok = true;
    if (commit && conn == NULL) {
        ok = false;
    } else if (commit) {
        PGresult *error = NULL, *last = NULL;
        bool sent = true;
        if (idem) {
            struct db_query q = {&idempotency_record,
                                 {DB_TEXT(idem->key_hash), DB_TEXT(idem->request_hash), DB_INT(status),
                                  DB_TEXT(location), DB_TEXT(etag), DB_TEXT(body)}};
            sent = db_send(conn, &q, request_id);
        }
        ok = sent && PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(conn) &&
             db_read_all(conn, idem ? 2 : 1, &last, &error, -1, NULL) && error == NULL && last &&
             strcmp(PQcmdStatus(last), "COMMIT") == 0; /* a failed transaction "commits" as ROLLBACK */
        if (!ok)
            pool_count_error();
        if (error)
            log_error(request_id, "committing the request's transaction failed: %s", PQresultErrorMessage(error));
        PQclear(error);
        PQclear(last);
    }
    /* Without commit, or after a failure, pool_release rolls back. */
    tx->open = false;
    tx->connection = -1;
    pool_release(index);
    return ok;
}
