#include "store/pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/statements.h"
#include "util/alloc.h"

static const struct db_statement *const *const all_statements[] = {
    runner_statements,
    idempotency_statements,
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

/* Database failures met by requests (db_errors_total): connections that
 * could not be made or were found broken, and statements that failed for
 * a reason other than the request's own (see db_describe_error). Rare, so
 * one shared counter does. */
static atomic_uint_fast64_t db_errors;

void pool_count_error(void)
{
    atomic_fetch_add_explicit(&db_errors, 1, memory_order_relaxed);
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
        for (const struct db_statement *const *each = all_statements[m]; *each; each++) {
            const struct db_statement *s = *each;
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

int pool_acquire(const char *request_id, enum store_status *why)
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
        pool_count_error();
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
        pool_count_error();
        pthread_mutex_lock(&pool.lock);
        pool.free_stack[pool.free_count++] = (unsigned)index;
        pthread_cond_signal(&pool.available);
        pthread_mutex_unlock(&pool.lock);
        *why = STORE_UNAVAILABLE;
        return -1;
    }
    return index;
}

void pool_release(int index)
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
            pool_count_error();
            PQfinish(conn);
            pool.conns[index].conn = NULL;
        }
    }
    pthread_mutex_lock(&pool.lock);
    pool.free_stack[pool.free_count++] = (unsigned)index;
    pthread_cond_signal(&pool.available);
    pthread_mutex_unlock(&pool.lock);
}

PGconn *pool_conn(int index)
{
    return pool.conns[index].conn;
}

void pool_drop(int index)
{
    PQfinish(pool.conns[index].conn);
    pool.conns[index].conn = NULL;
}
