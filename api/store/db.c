#include "store/db.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/auth_cache.h"
#include "store/totals_folder.h"
#include "util/alloc.h"
#include "util/strbuf.h"

static const struct db_statement *const all_statements[] = {
    system_statements,
    user_statements,
    token_statements,
    lookup_statements,
    account_statements,
    settings_statements,
    opportunity_statements,
    history_statements,
    dashboard_statements,
    forecast_report_statements,
    NULL,
};

struct pooled_conn {
    PGconn *conn; /* NULL until first use or after a failure */
};

static struct {
    char *url;
    unsigned size;
    struct pooled_conn *conns;
    unsigned *free_stack; /* indexes of idle connections */
    unsigned free_count;
    pthread_mutex_t lock;
    pthread_cond_t available;
} pool;

#define POOL_WAIT_SECONDS 5
#define MAX_RETRIES 3

/* Database failures met by requests (db_errors_total): connections that
 * could not be made or were found broken, and statements that failed for
 * a reason other than the request's own (see describe_error). Rare, so
 * one shared counter does. */
static atomic_uint_fast64_t db_errors;

static void count_db_error(void)
{
    atomic_fetch_add_explicit(&db_errors, 1, memory_order_relaxed);
}

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

const char *db_int(char *buf, int64_t value)
{
    snprintf(buf, 24, "%lld", (long long)value);
    return buf;
}

const char *db_version(char *buf, int64_t if_match)
{
    if (if_match == STORE_IF_MATCH_ANY)
        return "-1";
    if (if_match == STORE_IF_MATCH_LIST)
        return "-3";
    if (if_match < 0)
        return NULL;
    return db_int(buf, if_match > INT32_MAX ? 0 : if_match);
}

bool store_open(const char *database_url, unsigned pool_size)
{
    pool.url = xstrdup(database_url);
    pool.size = pool_size;
    pool.conns = xcalloc(pool_size, sizeof *pool.conns);
    pool.free_stack = xcalloc(pool_size, sizeof *pool.free_stack);
    for (unsigned i = 0; i < pool_size; i++)
        pool.free_stack[i] = pool_size - 1 - i;
    pool.free_count = pool_size;
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.available, NULL);
    auth_cache_start(database_url);
    totals_folder_start(database_url);
    return true;
}

void store_pool_stats(struct store_pool_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&pool.lock);
    /* A slot in the free stack is touched by nobody else while the lock is
     * held: whoever took it out wrote its connection before putting it back. */
    out->busy = pool.size - pool.free_count;
    for (unsigned i = 0; i < pool.free_count; i++)
        if (pool.conns[pool.free_stack[i]].conn)
            out->idle++;
    pthread_mutex_unlock(&pool.lock);
    out->closed = pool.size - out->busy - out->idle;
    out->errors = atomic_load_explicit(&db_errors, memory_order_relaxed);
}

void store_close(void)
{
    totals_folder_stop();
    auth_cache_stop();
    for (unsigned i = 0; i < pool.size; i++)
        if (pool.conns[i].conn)
            PQfinish(pool.conns[i].conn);
    free(pool.conns);
    free(pool.free_stack);
    free(pool.url);
    pthread_mutex_destroy(&pool.lock);
    pthread_cond_destroy(&pool.available);
    memset(&pool, 0, sizeof pool);
}

PGconn *db_connect(const char *url, const char *request_id)
{
    /* JIT compiling costs reports seconds and saves nothing on queries of
     * milliseconds; timeouts bound any statement and idle transaction. */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *values[] = {url, "3", "crm-api",
                            "-c client_min_messages=warning -c jit=off -c statement_timeout=30000 -c "
                            "idle_in_transaction_session_timeout=60000 -c TimeZone=UTC",
                            NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        log_warning(request_id, "database connection failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static bool prepare_all(PGconn *conn, const char *request_id)
{
    for (int m = 0; all_statements[m]; m++) {
        for (const struct db_statement *s = all_statements[m]; s->name; s++) {
            PGresult *r = PQprepare(conn, s->name, s->sql, 0, NULL);
            bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!ok)
                log_error(request_id, "prepare %s failed: %s", s->name, PQresultErrorMessage(r));
            PQclear(r);
            if (!ok)
                return false;
        }
    }
    return PQenterPipelineMode(conn) == 1;
}

/* A connection may have died while it sat in the pool (database restart).
 * A healthy idle backend sends nothing, so anything readable (the FATAL
 * sent at shutdown, or EOF) means it is gone. */
static bool idle_connection_usable(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return false;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    return poll(&pfd, 1, 0) == 0;
}

/* Takes an idle connection, connecting it if needed. Returns the pool index
 * or -1 (pool exhausted for too long, or database unreachable). */
static int pool_acquire(const char *request_id, enum store_status *why)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += POOL_WAIT_SECONDS;
    pthread_mutex_lock(&pool.lock);
    while (pool.free_count == 0) {
        if (pthread_cond_timedwait(&pool.available, &pool.lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool.lock);
            log_warning(request_id, "no database connection free after %d s", POOL_WAIT_SECONDS);
            *why = STORE_UNAVAILABLE;
            return -1;
        }
    }
    int index = (int)pool.free_stack[--pool.free_count];
    pthread_mutex_unlock(&pool.lock);

    struct pooled_conn *pc = &pool.conns[index];
    if (pc->conn && !idle_connection_usable(pc->conn)) {
        count_db_error();
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
    if (pc->conn == NULL) {
        pc->conn = db_connect(pool.url, request_id);
        if (pc->conn && !prepare_all(pc->conn, request_id)) {
            PQfinish(pc->conn);
            pc->conn = NULL;
        }
    }
    if (pc->conn == NULL) {
        count_db_error();
        pthread_mutex_lock(&pool.lock);
        pool.free_stack[pool.free_count++] = (unsigned)index;
        pthread_cond_signal(&pool.available);
        pthread_mutex_unlock(&pool.lock);
        *why = STORE_UNAVAILABLE;
        return -1;
    }
    return index;
}

static void pool_release(int index)
{
    /* A connection goes back idle: a transaction left open by a failure is
     * rolled back, a broken connection is dropped and remade on next use. */
    PGconn *conn = pool.conns[index].conn;
    if (conn && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *r = NULL;
        bool ok = PQsendQueryParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(conn);
        while (ok && (r = PQgetResult(conn)) != NULL) {
            bool done = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (done)
                break;
        }
        if (!ok || PQtransactionStatus(conn) != PQTRANS_IDLE) {
            count_db_error();
            PQfinish(conn);
            pool.conns[index].conn = NULL;
        }
    }
    pthread_mutex_lock(&pool.lock);
    pool.free_stack[pool.free_count++] = (unsigned)index;
    pthread_cond_signal(&pool.available);
    pthread_mutex_unlock(&pool.lock);
}

/* Our own SQLSTATEs, raised by the SQL functions in db/functions/. */
static enum store_status status_of_sqlstate(const char *state)
{
    static const struct {
        const char *state;
        enum store_status status;
    } map[] = {
        {"C4401", STORE_UNAUTHORIZED}, {"C4403", STORE_FORBIDDEN},    {"C4404", STORE_NOT_FOUND},
        {"C4409", STORE_CONFLICT},     {"C4412", STORE_PRECONDITION}, {"C4422", STORE_INVALID},
        {"23505", STORE_CONFLICT},     {"23503", STORE_INVALID},      {"23514", STORE_INVALID},
        {"22001", STORE_INVALID},      {"57014", STORE_UNAVAILABLE},  {"57P01", STORE_UNAVAILABLE},
        {"53300", STORE_UNAVAILABLE},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].state, state) == 0)
            return map[i].status;
    if (strncmp(state, "08", 2) == 0)
        return STORE_UNAVAILABLE;
    return STORE_ERROR;
}

static void add_field_error(struct store_result *res, const char *field, const char *message)
{
    if (res->error_count >= (int)(sizeof res->errors / sizeof res->errors[0]))
        return;
    res->errors[res->error_count].field = xstrdup(field);
    res->errors[res->error_count].message = xstrdup(message);
    res->error_count++;
}

/* Fills the replay of a stored response from the claim's error detail. */
static void read_replay(struct store_idempotency *idem, const char *detail)
{
    json_t *doc = json_loads(detail ? detail : "", 0, NULL);
    idem->replay_status = (int)json_integer_value(json_object_get(doc, "status"));
    idem->replay_location = xstrdup(json_string_value(json_object_get(doc, "location")));
    idem->replay_etag = xstrdup(json_string_value(json_object_get(doc, "etag")));
    idem->replay_body = xstrdup(json_string_value(json_object_get(doc, "body")));
    json_decref(doc);
}

/* Constraint names follow "<table>__<field>__<kind>", so a violation can
 * name the field without a lookup table. */
static char *field_of_constraint(const char *constraint)
{
    const char *start = constraint ? strstr(constraint, "__") : NULL;
    if (start == NULL)
        return NULL;
    start += 2;
    const char *end = strstr(start, "__");
    return end ? xstrndup(start, (size_t)(end - start)) : NULL;
}

/* Fills res from a failed result. Our functions put a JSON array of
 * {field, message} in DETAIL for 422, and a count in HINT for 409. */
static void describe_error(const PGresult *r, struct store_result *res, const struct store_auth *auth)
{
    const char *request_id = auth ? auth->request_id : NULL;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    res->status = status_of_sqlstate(state ? state : "XX000");

    if (state && strcmp(state, "C4200") == 0 && auth && auth->idempotency) {
        res->status = STORE_REPLAY;
        read_replay(auth->idempotency, detail);
        return;
    }
    if (state && state[0] == 'C' && state[1] == '4') {
        free(res->message);
        res->message = xstrdup(message);
        if (detail && detail[0] == '[') {
            json_t *list = json_loads(detail, 0, NULL);
            size_t i;
            json_t *item;
            json_array_foreach(list, i, item)
            {
                add_field_error(res, json_string_value(json_object_get(item, "field")),
                                json_string_value(json_object_get(item, "message")));
            }
            json_decref(list);
        }
        if (hint)
            res->count = strtoll(hint, NULL, 10);
        return;
    }
    char *field = field_of_constraint(constraint);
    switch (res->status) {
    case STORE_CONFLICT:
        res->message = xasprintf("Another record already has this %s.", field ? field : "value");
        if (field)
            add_field_error(res, field, "is already taken");
        break;
    case STORE_INVALID:
        res->message = xstrdup("A value was refused by the database.");
        add_field_error(res, field ? field : "body",
                        strcmp(state, "23503") == 0 ? "refers to a record that does not exist" : "is not allowed");
        break;
    case STORE_UNAVAILABLE:
        count_db_error();
        log_warning(request_id, "database unavailable: %s", message ? message : "?");
        break;
    default:
        count_db_error();
        log_error(request_id, "database error %s: %s", state ? state : "?", message ? message : "?");
        break;
    }
    free(field);
}

static bool retryable(const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* A caller known from the token cache. */
struct cached_caller {
    int64_t user_id;
    bool admin;
};

static bool send_all(PGconn *conn, const struct store_auth *auth, const struct cached_caller *cached,
                     const struct db_query *queries, int count)
{
    struct store_idempotency *idem = auth ? auth->idempotency : NULL;
    if (idem && !PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
        return false;
    if (auth && auth->token_hash && cached) {
        char user_id[24];
        const char *params[] = {db_int(user_id, cached->user_id), cached->admin ? "admin" : "member"};
        if (!PQsendQueryPrepared(conn, "as_caller", 2, params, NULL, NULL, 0))
            return false;
    } else if (auth && auth->token_hash) {
        const char *params[] = {auth->token_hash, auth->admin_only ? "t" : "f"};
        if (!PQsendQueryPrepared(conn, "authenticate", 2, params, NULL, NULL, 0))
            return false;
    }
    if (auth && auth->if_match_list) {
        const char *params[] = {auth->if_match_list};
        if (!PQsendQueryPrepared(conn, "if_match_list", 1, params, NULL, NULL, 0))
            return false;
    }
    if (idem) {
        const char *params[] = {idem->key_hash, idem->request_hash};
        if (!PQsendQueryPrepared(conn, "idempotency_claim", 2, params, NULL, NULL, 0))
            return false;
    }
    for (int i = 0; i < count; i++)
        if (!PQsendQueryPrepared(conn, queries[i].statement, queries[i].nparams, queries[i].params, NULL, NULL, 0))
            return false;
    return PQpipelineSync(conn) == 1;
}

/* How many results send_all's commands give. */
static int command_count(const struct store_auth *auth, int count)
{
    return count + ((auth && auth->token_hash) ? 1 : 0) + ((auth && auth->idempotency) ? 2 : 0) +
           ((auth && auth->if_match_list) ? 1 : 0);
}

/* Reads every result up to the sync. Keeps the first error and the last
 * query result. Returns false when the connection broke. */
static bool read_all(PGconn *conn, int commands, PGresult **last, PGresult **first_error, int keep_index,
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
        read_all(conn, 1, &last, &error, -1, NULL);
    PQclear(error);
    PQclear(last);
}

/* Remembers the caller a full token check found ("id:role"). */
static void cache_caller(const struct store_auth *auth, const PGresult *r, uint64_t generation)
{
    if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        return;
    const char *value = PQgetvalue(r, 0, 0);
    const char *colon = strchr(value, ':');
    if (colon)
        auth_cache_store(auth->token_hash, strtoll(value, NULL, 10), strcmp(colon + 1, "admin") == 0, generation);
}

enum store_status db_run(const struct store_auth *auth, const struct db_query *queries, int count, PGresult **last,
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
    enum store_status why = STORE_UNAVAILABLE;
    int index = pool_acquire(rid, &why);
    if (index < 0)
        return res->status = why;
    PGconn *conn = pool.conns[index].conn;
    int commands = command_count(auth, count);
    /* Where the full token check's answer comes back (after BEGIN, if any). */
    int check_index = (auth && auth->token_hash && !cached) ? (auth->idempotency ? 1 : 0) : -1;
    uint64_t generation = auth_cache_generation(); /* before the check is sent */

    for (int attempt = 1;; attempt++) {
        PGresult *error = NULL, *check = NULL;
        bool sent = send_all(conn, auth, cached ? &caller : NULL, queries, count);
        if (!sent || !read_all(conn, commands, last, &error, check_index, &check)) {
            count_db_error();
            log_warning(rid, "database connection lost: %s", PQerrorMessage(conn));
            PQclear(error);
            PQclear(check);
            PQclear(*last);
            *last = NULL;
            PQfinish(conn);
            pool.conns[index].conn = NULL;
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
        if (auth && auth->authenticated && auth->token_hash) {
            /* The token check runs first: any other failure means it passed. */
            const char *state = PQresultErrorField(error, PG_DIAG_SQLSTATE);
            *auth->authenticated = state && strcmp(state, "C4401") != 0 && strcmp(state, "C4403") != 0;
        }
        if (retryable(error) && attempt < MAX_RETRIES) {
            PQclear(error);
            PQclear(*last);
            *last = NULL;
            if (auth && auth->idempotency)
                rollback(conn);
            continue;
        }
        describe_error(error, res, auth);
        PQclear(error);
        PQclear(*last);
        *last = NULL;
        break;
    }
    if (res->status == STORE_OK && auth && auth->authenticated && auth->token_hash)
        *auth->authenticated = true;
    if (res->status == STORE_OK && auth && auth->idempotency) {
        /* Keep the transaction (and the connection) until the response is recorded. */
        auth->idempotency->connection = index;
        auth->idempotency->transaction_open = true;
        return res->status;
    }
    pool_release(index);
    return res->status;
}

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
    PGconn *conn = pool.conns[index].conn;
    bool ok = true;
    if (commit) {
        char status_text[16];
        snprintf(status_text, sizeof status_text, "%d", status);
        const char *params[] = {idem->key_hash, idem->request_hash, status_text, location, etag, body};
        PGresult *error = NULL, *last = NULL;
        ok = PQsendQueryPrepared(conn, "idempotency_record", 6, params, NULL, NULL, 0) &&
             PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(conn) &&
             read_all(conn, 2, &last, &error, -1, NULL) && error == NULL;
        if (!ok)
            count_db_error();
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

enum store_status db_run_statement(const struct store_auth *auth, const struct db_query *query,
                                   struct store_result *res)
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

enum store_status db_run_document(const struct store_auth *auth, const struct db_query *query, struct store_result *res)
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

enum store_status db_run_list(const struct store_auth *auth, const struct db_query *query, int limit,
                              struct store_result *res)
{
    return db_run_list_queries(auth, query, 1, limit, res);
}

enum store_status db_run_list_queries(const struct store_auth *auth, const struct db_query *queries, int count,
                                      int limit, struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, queries, count, &r, res) != STORE_OK)
        return res->status;
    int rows = PQntuples(r);
    int shown = rows > limit ? limit : rows;
    struct strbuf data;
    strbuf_init(&data, STORE_LIST_BYTES(shown));
    strbuf_puts(&data, "[");
    for (int i = 0; i < shown; i++) {
        if (i)
            strbuf_puts(&data, ",");
        strbuf_append(&data, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
    }
    strbuf_puts(&data, "]");
    res->body = strbuf_take(&data);
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
