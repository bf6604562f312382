/* The transaction a POST with an Idempotency-Key keeps open after its
 * write (store/db.c) until the record of its response commits with it. */
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
    idem->connection = -1;
}

void store_idempotency_cleanup(struct store_idempotency *idem)
{
    if (idem->transaction_open)
        store_idempotency_finish(idem, NULL, false, 0, NULL, NULL, NULL);
    free(idem->replay_location);
    free(idem->replay_etag);
    free(idem->replay_body);
    store_idempotency_init(idem);
}

bool store_idempotency_finish(struct store_idempotency *idem, const char *request_id, bool commit, int status,
                              const char *location, const char *etag, const char *body)
{
    if (!idem->transaction_open)
        return true;
    int index = idem->connection;
    PGconn *conn = pool_conn(index);
    bool ok = true;
    if (commit) {
        struct db_query q = {&idempotency_record,
                             {DB_TEXT(idem->key_hash), DB_TEXT(idem->request_hash), DB_INT(status), DB_TEXT(location),
                              DB_TEXT(etag), DB_TEXT(body)}};
        PGresult *error = NULL, *last = NULL;
        ok = db_send(conn, &q, request_id) && PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) &&
             PQpipelineSync(conn) && db_read_all(conn, 2, &last, &error, -1, NULL) && error == NULL;
        if (!ok)
            pool_count_error();
        if (error)
            log_error(request_id, "recording the idempotent response failed: %s", PQresultErrorMessage(error));
        PQclear(error);
        PQclear(last);
    }
    /* Without commit, or after a failure, pool_release rolls back. */
    idem->transaction_open = false;
    idem->connection = -1;
    pool_release(index);
    return ok;
}
