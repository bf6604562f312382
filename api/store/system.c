/* Store functions outside any resource: authentication, readiness,
 * migrations and the first admin. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "log.h"
#include "store/db.h"
#include "store/pool.h"
#include "util/alloc.h"
#include "util/text.h"
#include "util/token.h"

const struct db_statement system_statements[] = {
    {"authenticate", "SELECT api_authenticate(decode($1, 'hex'), $2::boolean)"},
    /* A caller known from the token cache (store/auth_cache.h). */
    {"as_caller", "SELECT set_config('app.user_id', $1, true), set_config('app.role', $2, true)"},
    {"ready", "SELECT count(*) FROM schema_migrations"},
    {"if_match_list", "SELECT set_config('app.if_match', $1, true)"},
    {"idempotency_claim", "SELECT api_idempotency_claim(decode($1, 'hex'), decode($2, 'hex'))"},
    {"idempotency_record", "SELECT api_idempotency_record(decode($1, 'hex'), decode($2, 'hex'), $3::int, $4, $5, $6)"},
    {NULL, NULL},
};

#define MIGRATIONS_PREFIX "db/migrations/"
#define MIGRATION_LOCK_KEY "727072" /* any constant shared by all instances */

static int migration_count(void)
{
    int n = 0;
    for (const struct embedded_file *f = embedded_files; f->name; f++)
        if (strncmp(f->name, MIGRATIONS_PREFIX, strlen(MIGRATIONS_PREFIX)) == 0)
            n++;
    return n;
}

enum store_status store_authenticate(const struct store_auth *auth, struct store_result *res)
{
    PGresult *r;
    if (db_run(auth, NULL, 0, &r, res) == STORE_OK)
        PQclear(r);
    return res->status;
}

bool store_ready(void)
{
    struct store_result res;
    store_result_init(&res);
    struct db_query q = {"ready", 0, {NULL}};
    PGresult *r;
    bool ready = false;
    if (db_run(NULL, &q, 1, &r, &res) == STORE_OK) {
        long applied;
        ready = parse_int_range(PQgetvalue(r, 0, 0), 0, INT_MAX, &applied) && applied == migration_count();
        PQclear(r);
    }
    store_result_cleanup(&res);
    return ready;
}

static bool exec_ok(PGconn *conn, const char *sql, int nparams, const char *const *params, const char *what)
{
    PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        log_error(NULL, "%s failed: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static bool migration_applied(PGconn *conn, const char *version, bool *applied)
{
    const char *params[] = {version};
    PGresult *r =
        PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    *applied = ok && PQntuples(r) > 0;
    PQclear(r);
    return ok;
}

/* Runs one migration file and records it, in one transaction. */
static bool apply_migration(PGconn *conn, const struct embedded_file *f, const char *version)
{
    char *sql = xstrndup((const char *)f->data, f->size);
    bool ok = exec_ok(conn, "BEGIN", 0, NULL, "begin");
    if (ok) {
        PGresult *r = PQexec(conn, sql); /* a script of many statements, no parameters */
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            log_error(NULL, "migration %s failed: %s", f->name, PQresultErrorMessage(r));
        PQclear(r);
    }
    const char *params[] = {version};
    ok = ok && exec_ok(conn, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, params, "record migration");
    ok = ok && exec_ok(conn, "COMMIT", 0, NULL, "commit");
    if (!ok)
        exec_ok(conn, "ROLLBACK", 0, NULL, "rollback");
    else
        log_info(NULL, "applied migration %s", f->name);
    free(sql);
    return ok;
}

bool store_migrate(const char *database_url)
{
    PGconn *conn = db_connect(database_url, NULL);
    if (conn == NULL)
        return false;
    /* Several instances may start at once: one migrates, the others wait
     * on the lock and then find nothing left to do. */
    bool ok = exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", 0, NULL, "migration lock") &&
              exec_ok(conn,
                      "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                      "applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, "create schema_migrations");
    for (const struct embedded_file *f = embedded_files; ok && f->name; f++) {
        if (strncmp(f->name, MIGRATIONS_PREFIX, strlen(MIGRATIONS_PREFIX)) != 0)
            continue;
        const char *version = f->name + strlen(MIGRATIONS_PREFIX);
        bool applied;
        ok = migration_applied(conn, version, &applied);
        if (ok && !applied)
            ok = apply_migration(conn, f, version);
    }
    exec_ok(conn, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", 0, NULL, "migration unlock");
    PQfinish(conn);
    return ok;
}

char *store_create_admin(const char *database_url, const char *name, const char *email, char **error)
{
    *error = NULL;
    PGconn *conn = db_connect(database_url, NULL);
    if (conn == NULL) {
        *error = xstrdup("cannot connect to the database");
        return NULL;
    }
    char token[TOKEN_TEXT_SIZE];
    char hash[TOKEN_HASH_HEX_SIZE];
    token_generate(token);
    token_hash(token, hash);
    const char *params[] = {name, email, hash};
    PGresult *r =
        PQexecParams(conn,
                     "WITH u AS (INSERT INTO users (name, email, role) VALUES ($1, $2, 'admin') RETURNING id) "
                     "INSERT INTO api_tokens (user_id, name, token_hash) "
                     "SELECT id, 'create-admin', decode($3, 'hex') FROM u RETURNING id",
                     3, NULL, params, NULL, NULL, 0);
    char *result = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        result = xstrdup(token);
    } else {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "23505") == 0)
            *error = xasprintf("a user with email %s already exists", email);
        else if (state && strcmp(state, "23514") == 0)
            *error = xstrdup("name must be 1-200 characters and email 3-254 characters");
        else
            *error = xstrdup(PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(conn);
    return result;
}
