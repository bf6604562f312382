#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/auth_cache.h"
#include "store/params.h"
#include "store/pool.h"
#include "store/sql_errors.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#define MAX_RETRIES 3 /* serialization failures and deadlocks */

void store_result_init(struct store_result *res)
{
    memset(res, 0, sizeof *res);
}

void store_result_cleanup(struct store_result *res)
{
    free(res->body);
    free(res->next_key);
    free(res->message);
    for (int i = 0; i < res->error_count; i++) {
        free(res->errors[i].field);
        free(res->errors[i].message);
    }
    store_result_init(res);
}

/* The statements the runner itself sends around a request's own. */
DB_STATEMENT(authenticate, "SELECT api_authenticate(decode($1, 'hex'), $2::boolean)", DB_TYPE_TEXT, DB_TYPE_BOOL);
/* A caller known from the token cache (store/auth_cache.h). */
DB_STATEMENT(as_caller, "SELECT set_config('app.user_id', $1, true), set_config('app.role', $2, true)", DB_TYPE_ID,
             DB_TYPE_TEXT);
DB_STATEMENT(if_match_list, "SELECT set_config('app.if_match', $1, true)", DB_TYPE_VERSION_LIST);
DB_STATEMENT(idempotency_claim, "SELECT api_idempotency_claim(decode($1, 'hex'), decode($2, 'hex'))", DB_TYPE_TEXT,
             DB_TYPE_TEXT);
/* A batch's next operation is one change, as its own request would be: a
 * history change id of its own, one version step per record, and the
 * records earlier operations created are changed like any other. */
DB_STATEMENT_NO_PARAMS(new_change, "SELECT set_config('app.change_id', '', true), set_config('app.versioned', '', "
                                   "true), set_config('app.created', '', true)");

const struct db_statement *const runner_statements[] = {
    &authenticate, &as_caller, &if_match_list, &idempotency_claim, &new_change, NULL,
};

void db_key_pair(const char *key, struct store_opt_int *position, struct store_opt_int *id)
{
    *position = *id = (struct store_opt_int){0};
    const char *comma = key ? strchr(key, ',') : NULL;
    if (comma == NULL)
        return;
    char *end;
    long long p = strtoll(key, &end, 10), i;
    if (end != comma)
        return;
    i = strtoll(comma + 1, &end, 10);
    if (*end != '\0')
        return;
    *position = (struct store_opt_int){.present = true, .value = p};
    *id = (struct store_opt_int){.present = true, .value = i};
}

bool db_send(PGconn *conn, const struct db_query *q, const char *request_id)
{
    struct db_param_texts texts;
    if (!db_param_texts_make(&texts, q, request_id))
        return false;
    bool sent = PQsendQueryPrepared(conn, q->statement->name, texts.count, texts.values, NULL, NULL, 0) == 1;
    db_param_texts_free(&texts);
    return sent;
}

/* A caller known from the token cache. */
struct cached_caller {
    int64_t user_id;
    bool admin;
};

/* The If-Match list a query carries: api_check_version reads it from a
 * setting sent before the queries. */
static const struct store_if_match *version_list_of(const struct db_query *queries, int count)
{
    for (int i = 0; i < count; i++)
        for (int p = 0; p < DB_MAX_PARAMS && queries[i].params[p].type != DB_TYPE_END; p++)
            if (queries[i].params[p].type == DB_TYPE_IF_MATCH &&
                queries[i].params[p].if_match.kind == STORE_IF_MATCH_LIST)
                return &queries[i].params[p].if_match;
    return NULL;
}

/* What goes out before a call's own statements. A call that opens the
 * request's transaction sends BEGIN and the key's claim; one inside it the
 * token check only when it needs an admin, and the reset of new_change
 * when it starts a change of its own. */
struct preamble {
    bool begin, token, claim, new_change;
};

static struct preamble preamble_of(const struct store_auth *auth)
{
    struct preamble p = {false, false, false, false};
    if (auth == NULL)
        return p;
    const struct store_transaction *tx = auth->transaction;
    bool inside = tx && tx->open;
    p.begin = tx && !inside;
    p.token = auth->token_hash && (!inside || auth->admin_only);
    p.claim = auth->idempotency && !inside;
    p.new_change = inside && tx->new_change;
    return p;
}

static bool send_all(PGconn *conn, const struct store_auth *auth, const struct preamble *p,
                     const struct cached_caller *cached, const struct db_query *queries, int count)
{
    const char *rid = auth ? auth->request_id : NULL;
    if (p->begin && !PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
        return false;
    if (p->new_change) {
        struct db_query q = {.statement = &new_change};
        if (!db_send(conn, &q, rid))
            return false;
    }
    if (p->token && cached) {
        struct db_query q = {&as_caller, {DB_ID(cached->user_id), DB_TEXT(cached->admin ? "admin" : "member")}};
        if (!db_send(conn, &q, rid))
            return false;
    } else if (p->token) {
        struct db_query q = {&authenticate, {DB_TEXT(auth->token_hash), DB_BOOL(auth->admin_only)}};
        if (!db_send(conn, &q, rid))
            return false;
    }
    const struct store_if_match *versions = version_list_of(queries, count);
    if (versions) {
        struct db_query q = {&if_match_list, {DB_VERSION_LIST(*versions)}};
        if (!db_send(conn, &q, rid))
            return false;
    }
    if (p->claim) {
        struct db_query q = {&idempotency_claim,
                             {DB_TEXT(auth->idempotency->key_hash), DB_TEXT(auth->idempotency->request_hash)}};
        if (!db_send(conn, &q, rid))
            return false;
    }
    for (int i = 0; i < count; i++)
        if (!db_send(conn, &queries[i], rid))
            return false;
    return PQpipelineSync(conn) == 1;
}

/* How many results send_all's commands give. */
static int command_count(const struct preamble *p, const struct db_query *queries, int count)
{
    return count + p->begin + p->new_change + p->token + p->claim + (version_list_of(queries, count) ? 1 : 0);
}

/* Reads every result up to the sync. Keeps the first error and the last
 * query result. Returns false when the connection broke. */
bool db_read_all(PGconn *conn, int commands, PGresult **last, PGresult **first_error, int keep_index,
                 PGresult **kept_result)
{
    for (int i = 0; i < commands; i++) {
        PGresult *r;
        PGresult *kept = NULL;
        while ((r = PQgetResult(conn)) != NULL) {
            if (kept)
                PQclear(kept);
            kept = r;
        }
        if (kept == NULL)
            return false;
        ExecStatusType st = PQresultStatus(kept);
        if (st == PGRES_FATAL_ERROR && *first_error == NULL) {
            *first_error = kept;
        } else if (i == commands - 1 && *first_error == NULL) {
            *last = kept;
        } else if (i == keep_index && kept_result && st == PGRES_TUPLES_OK) {
            *kept_result = kept;
        } else {
            PQclear(kept);
        }
    }
    PGresult *sync = PQgetResult(conn);
    bool ok = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    return ok;
}

/* Ends a failed explicit transaction so it can be tried again. */
static void rollback(PGconn *conn)
{
    PGresult *error = NULL, *last = NULL;
    if (PQsendQueryParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(conn))
        db_read_all(conn, 1, &last, &error, -1, NULL);
    PQclear(error);
    PQclear(last);
}

/* Remembers the caller a full token check found ("id:role"). */
static void cache_caller(struct store_auth *auth, const PGresult *r, uint64_t generation)
{
    if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        return;
    const char *value = PQgetvalue(r, 0, 0);
    const char *colon = strchr(value, ':');
    if (colon)
        auth_cache_store(auth->token_hash, strtoll(value, NULL, 10), strcmp(colon + 1, "admin") == 0, generation);
}

/* Gives the connection back, or keeps it for the rest of the request's
 * transaction once a call opened it. */
static void release_or_keep(struct store_auth *auth, const struct preamble *p, int index, bool ok)
{
    struct store_transaction *tx = auth ? auth->transaction : NULL;
    if (tx && p->begin && ok) {
        tx->connection = index;
        tx->open = true;
    } else if (tx == NULL || p->begin) {
        pool_release(index);
    }
}

enum store_status db_run(struct store_auth *auth, const struct db_query *queries, int count, PGresult **last,
                         struct store_result *res)
{
    const char *rid = auth ? auth->request_id : NULL;
    *last = NULL;
    struct cached_caller caller;
    bool cached = auth && auth->token_hash && auth_cache_lookup(auth->token_hash, &caller.user_id, &caller.admin);
    if (cached && auth->admin_only && !caller.admin) {
        res->message = xstrdup("This action needs the admin role.");
        return res->status = STORE_FORBIDDEN;
    }
    struct preamble p = preamble_of(auth);
    struct store_transaction *tx = auth ? auth->transaction : NULL;
    int index;
    if (tx && tx->open) {
        index = tx->connection;
        tx->new_change = false;
    } else {
        enum store_status why = STORE_UNAVAILABLE;
        index = pool_acquire(rid, &why);
        if (index < 0)
            return res->status = why;
    }
    PGconn *conn = pool_conn(index);
    int commands = command_count(&p, queries, count);
    /* Where the full token check's answer comes back (after BEGIN and the change reset, if any). */
    int check_index = (p.token && !cached) ? p.begin + p.new_change : -1;
    uint64_t generation = auth_cache_generation(); /* before the check is sent */

    for (int attempt = 1;; attempt++) {
        PGresult *error = NULL, *check = NULL;
        bool sent = send_all(conn, auth, &p, cached ? &caller : NULL, queries, count);
        if (!sent || !db_read_all(conn, commands, last, &error, check_index, &check)) {
            pool_count_error();
            log_warning(rid, "database connection lost: %s", PQerrorMessage(conn));
            PQclear(error);
            PQclear(check);
            PQclear(*last);
            *last = NULL;
            pool_drop(index);
            if (tx && tx->open)
                store_transaction_finish(tx, NULL, rid, false, 0, NULL, NULL, NULL);
            else
                pool_release(index);
            return res->status = STORE_UNAVAILABLE;
        }
        if (error == NULL) {
            if (check_index >= 0)
                cache_caller(auth, check_index == commands - 1 ? *last : check, generation);
            PQclear(check);
            res->status = STORE_OK;
            break;
        }
        PQclear(check);
        if (auth && auth->token_hash) {
            /* The token check runs first: any other failure means it passed. */
            const char *state = PQresultErrorField(error, PG_DIAG_SQLSTATE);
            auth->authenticated = state && strcmp(state, "C4401") != 0 && strcmp(state, "C4403") != 0;
        }
        /* Inside an open transaction only its owner can run it all again. */
        bool inside = tx && !p.begin;
        if (db_retryable(error) && inside)
            tx->retry = true;
        if (db_retryable(error) && !inside && attempt < MAX_RETRIES) {
            PQclear(error);
            PQclear(*last);
            *last = NULL;
            if (p.begin)
                rollback(conn);
            continue;
        }
        db_describe_error(error, res, auth);
        PQclear(error);
        PQclear(*last);
        *last = NULL;
        break;
    }
    if (res->status == STORE_OK && auth && auth->token_hash)
        auth->authenticated = true;
    release_or_keep(auth, &p, index, res->status == STORE_OK);
    return res->status;
}

enum store_status db_run_statement(struct store_auth *auth, const struct db_query *query, struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, query, 1, &r, res) == STORE_OK)
        PQclear(r);
    return res->status;
}

static int64_t int_value(const PGresult *r, int row, int col)
{
    if (PQnfields(r) <= col || PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

enum store_status db_run_document(struct store_auth *auth, const struct db_query *query, struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, query, 1, &r, res) != STORE_OK)
        return res->status;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        res->status = STORE_NOT_FOUND;
    } else {
        res->body = xstrdup(PQgetvalue(r, 0, 0));
        res->version = int_value(r, 0, 1);
        res->id = int_value(r, 0, 2);
        res->created = PQnfields(r) > 3 && strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    }
    PQclear(r);
    return res->status;
}

char *db_json_array(const PGresult *r, int rows)
{
    /* A page is up to a few hundred KB: one block of the exact size, no
     * growth by copies (each fresh block of that size costs page faults). */
    size_t size = 3; /* "[", "]" and the NUL */
    for (int i = 0; i < rows; i++)
        size += (size_t)PQgetlength(r, i, 0) + 1;
    struct strbuf data;
    strbuf_init(&data, STORE_LIST_BYTES(rows));
    strbuf_reserve(&data, size);
    strbuf_puts(&data, "[");
    for (int i = 0; i < rows; i++) {
        if (i)
            strbuf_puts(&data, ",");
        strbuf_append(&data, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
    }
    strbuf_puts(&data, "]");
    return strbuf_take(&data);
}

enum store_status db_run_list(struct store_auth *auth, const struct db_query *query, int limit,
                              struct store_result *res)
{
    return db_run_list_queries(auth, query, 1, limit, res);
}

enum store_status db_run_list_queries(struct store_auth *auth, const struct db_query *queries, int count, int limit,
                                      struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, queries, count, &r, res) != STORE_OK)
        return res->status;
    int rows = PQntuples(r);
    int shown = rows > limit ? limit : rows;
    res->body = db_json_array(r, shown);
    if (res->body == NULL) {
        log_error(auth ? auth->request_id : NULL, "a list page of %d rows has an item over %zu bytes", shown,
                  STORE_ITEM_MAX_BYTES);
        res->status = STORE_ERROR;
    } else if (rows > limit && shown > 0) {
        res->next_key = xstrdup(PQgetvalue(r, shown - 1, 1));
    }
    PQclear(r);
    return res->status;
}
