#include "store/session.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/pool.h"
#include "util/alloc.h"

struct store_session {
    PGconn *conn;
};

struct store_session *store_session_open(const char *database_url)
{
    PGconn *conn = db_connect(database_url, NULL);
    if (conn == NULL)
        return NULL;
    struct store_session *session = xcalloc(1, sizeof *session);
    session->conn = conn;
    return session;
}

PGconn *store_session_conn(struct store_session *session)
{
    return session->conn;
}

void store_session_close(struct store_session *session)
{
    if (session == NULL)
        return;
    PQfinish(session->conn);
    free(session);
}

bool store_session_ok(const struct store_session *session)
{
    return PQstatus(session->conn) == CONNECTION_OK;
}

bool store_session_listen(struct store_session *session, const char *channel)
{
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    PGresult *r = PQexec(session->conn, sql);
    bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return listening;
}

bool store_session_wait(struct store_session *session, int timeout_ms, unsigned *count)
{
    *count = 0;
    struct pollfd pfd = {.fd = PQsocket(session->conn), .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return true;
    bool ok = PQconsumeInput(session->conn) == 1;
    PGnotify *n;
    while ((n = PQnotifies(session->conn)) != NULL) {
        (*count)++;
        PQfreemem(n);
    }
    return ok && PQstatus(session->conn) == CONNECTION_OK;
}

bool store_totals_fold(struct store_session *session, char *error, size_t error_size)
{
    PGresult *r = PQexec(session->conn, "SELECT opportunity_totals_compact()");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(error, error_size, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

bool store_changes_purge(struct store_session *session, unsigned days, unsigned batch, long *deleted, char *error,
                         size_t error_size)
{
    char days_text[16], batch_text[16];
    snprintf(days_text, sizeof days_text, "%u", days);
    snprintf(batch_text, sizeof batch_text, "%u", batch);
    const char *params[2] = {days_text, batch_text};
    PGresult *r = PQexecParams(session->conn, "SELECT change_events_purge($1::int, $2::int)", 2, NULL, params, NULL,
                               NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    *deleted = ok ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    if (!ok)
        snprintf(error, error_size, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}
