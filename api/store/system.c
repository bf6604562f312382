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
#include "util/strbuf.h"
#include "util/text.h"
#include "util/token.h"

DB_STATEMENT_NO_PARAMS(schema_files_applied, "SELECT count(*) FROM schema_migrations WHERE checksum IS NOT NULL");

const struct db_statement *const system_statements[] = {&schema_files_applied, NULL};

/* db/schema/: tables, indexes, types and data moves, applied once each in
 * order and recorded with their SHA-256 (append-only: a changed applied
 * file stops the start-up). db/functions/: every function, view and
 * trigger, applied again as a whole after them on every migrate. */
#define SCHEMA_PREFIX "db/schema/"
#define FUNCTIONS_PREFIX "db/functions/"
#define MIGRATION_LOCK_KEY "727072" /* any constant shared by all instances */

/* Databases migrated before the split recorded db/migrations/ files by
 * name, without a checksum. The tables of each now come from a schema
 * file (NULL: it held functions only), whose checksum they adopt. */
static const struct {
    const char *old_version, *version;
} legacy_migrations[] = {
    {"0001_foundation.sql", "0001_foundation.sql"},
    {"0002_lookups.sql", "0002_lookups.sql"},
    {"0003_accounts.sql", "0003_accounts.sql"},
    {"0004_settings.sql", "0004_settings.sql"},
    {"0005_opportunities.sql", "0005_opportunities.sql"},
    {"0006_idempotency.sql", "0006_idempotency.sql"},
    {"0007_history.sql", "0007_history.sql"},
    {"0008_forecast_reports.sql", "0008_forecast_reports.sql"},
    {"0009_dashboard.sql", NULL},
    {"0010_opportunity_totals.sql", "0009_opportunity_totals.sql"},
    {"0011_opportunity_documents.sql", NULL},
    {"0012_history_early_exit.sql", NULL},
    {"0013_report_check_compute.sql", NULL},
    {"0014_dashboard_check_compute.sql", NULL},
};

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int schema_file_count(void)
{
    int n = 0;
    for (const struct embedded_file *f = embedded_files; f->name; f++)
        if (has_prefix(f->name, SCHEMA_PREFIX))
            n++;
    return n;
}

enum store_status store_authenticate(struct store_auth *auth, struct store_result *res)
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
    struct db_query q = {.statement = &schema_files_applied};
    PGresult *r;
    bool ready = false;
    if (db_run(NULL, &q, 1, &r, &res) == STORE_OK) {
        long applied;
        ready = parse_int_range(PQgetvalue(r, 0, 0), 0, INT_MAX, &applied) && applied == schema_file_count();
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

/* The checksum recorded for a schema file (a new string), or NULL when it
 * is not applied or on error (then *ok is false). */
static char *recorded_checksum(PGconn *conn, const char *version, bool *ok)
{
    const char *params[] = {version};
    PGresult *r =
        PQexecParams(conn, "SELECT checksum FROM schema_migrations WHERE version = $1", 1, NULL, params, NULL, NULL, 0);
    *ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!*ok)
        log_error(NULL, "reading schema_migrations failed: %s", PQresultErrorMessage(r));
    char *sum = *ok && PQntuples(r) > 0 ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return sum;
}

static void file_checksum(const struct embedded_file *f, char out[TOKEN_HASH_HEX_SIZE])
{
    token_hash_bytes(f->data, f->size, out);
}

/* Runs a script of many statements (no parameters) inside the caller's
 * transaction. */
static bool exec_script(PGconn *conn, const struct embedded_file *f)
{
    char *sql = xstrndup((const char *)f->data, f->size);
    PGresult *r = PQexec(conn, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        log_error(NULL, "migration %s failed: %s", f->name, PQresultErrorMessage(r));
    PQclear(r);
    free(sql);
    return ok;
}

static bool commit_or_rollback(PGconn *conn, bool ok)
{
    ok = ok && exec_ok(conn, "COMMIT", 0, NULL, "commit");
    if (!ok)
        exec_ok(conn, "ROLLBACK", 0, NULL, "rollback");
    return ok;
}

/* Runs one schema file and records it with its checksum, in one transaction. */
static bool apply_schema_file(PGconn *conn, const struct embedded_file *f, const char *version)
{
    char sum[TOKEN_HASH_HEX_SIZE];
    file_checksum(f, sum);
    const char *params[] = {version, sum};
    bool ok = exec_ok(conn, "BEGIN", 0, NULL, "begin") && exec_script(conn, f) &&
              exec_ok(conn, "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", 2, params,
                      "record migration");
    ok = commit_or_rollback(conn, ok);
    if (ok)
        log_info(NULL, "applied migration %s", f->name);
    return ok;
}

/* Gives the rows of legacy_migrations their schema file and its checksum,
 * in one transaction; any other row without a checksum is an error. */
static bool adopt_legacy_migrations(PGconn *conn)
{
    bool ok = exec_ok(conn, "BEGIN", 0, NULL, "begin");
    for (size_t i = 0; ok && i < sizeof legacy_migrations / sizeof legacy_migrations[0]; i++) {
        const char *version = legacy_migrations[i].version;
        if (version == NULL) {
            const char *params[] = {legacy_migrations[i].old_version};
            ok = exec_ok(conn, "DELETE FROM schema_migrations WHERE version = $1 AND checksum IS NULL", 1, params,
                         "adopt migration");
            continue;
        }
        char *name = xasprintf(SCHEMA_PREFIX "%s", version);
        const struct embedded_file *f = embedded_find(name);
        free(name);
        if (f == NULL) {
            log_error(NULL, "legacy migration %s maps to a missing schema file", legacy_migrations[i].old_version);
            ok = false;
            break;
        }
        char sum[TOKEN_HASH_HEX_SIZE];
        file_checksum(f, sum);
        const char *params[] = {legacy_migrations[i].old_version, version, sum};
        ok = exec_ok(conn,
                     "UPDATE schema_migrations SET version = $2, checksum = $3 WHERE version = $1 AND checksum IS NULL",
                     3, params, "adopt migration");
    }
    PGresult *r = ok ? PQexec(conn, "SELECT string_agg(version, ', ' ORDER BY version) FROM schema_migrations "
                                    "WHERE checksum IS NULL")
                     : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && !PQgetisnull(r, 0, 0)) {
        log_error(NULL, "schema_migrations lists migrations this version does not know: %s", PQgetvalue(r, 0, 0));
        ok = false;
    } else if (r && PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_error(NULL, "reading schema_migrations failed: %s", PQresultErrorMessage(r));
        ok = false;
    }
    PQclear(r);
    return commit_or_rollback(conn, ok);
}

/* False, with a message naming the file and both checksums, when an
 * applied schema file differs from what was applied. */
static bool schema_files_unchanged(PGconn *conn)
{
    bool ok = true;
    for (const struct embedded_file *f = embedded_files; ok && f->name; f++) {
        if (!has_prefix(f->name, SCHEMA_PREFIX))
            continue;
        char *recorded = recorded_checksum(conn, f->name + strlen(SCHEMA_PREFIX), &ok);
        char sum[TOKEN_HASH_HEX_SIZE];
        file_checksum(f, sum);
        if (recorded && strcmp(recorded, sum) != 0) {
            log_error(NULL,
                      "%s was changed after it was applied (applied: sha256 %s, now: sha256 %s); schema files "
                      "are append-only: restore it and put the change in a new file",
                      f->name, recorded, sum);
            ok = false;
        }
        free(recorded);
    }
    return ok;
}

/* Applies the pending schema files in order, each in its own transaction;
 * *applied tells whether there was one. */
static bool apply_pending_schema(PGconn *conn, bool *applied)
{
    *applied = false;
    bool ok = true;
    for (const struct embedded_file *f = embedded_files; ok && f->name; f++) {
        if (!has_prefix(f->name, SCHEMA_PREFIX))
            continue;
        const char *version = f->name + strlen(SCHEMA_PREFIX);
        char *recorded = recorded_checksum(conn, version, &ok);
        if (ok && recorded == NULL) {
            ok = apply_schema_file(conn, f, version);
            *applied = true;
        }
        free(recorded);
    }
    return ok;
}

/* One SHA-256 over the names and checksums of every functions file. */
static void functions_checksum(char out[TOKEN_HASH_HEX_SIZE])
{
    struct strbuf list;
    strbuf_init(&list, 64 * 1024);
    for (const struct embedded_file *f = embedded_files; f->name; f++) {
        if (!has_prefix(f->name, FUNCTIONS_PREFIX))
            continue;
        char sum[TOKEN_HASH_HEX_SIZE];
        file_checksum(f, sum);
        strbuf_puts(&list, f->name);
        strbuf_puts(&list, " ");
        strbuf_puts(&list, sum);
        strbuf_puts(&list, "\n");
    }
    char *text = strbuf_take(&list);
    token_hash_bytes(text ? text : "", text ? strlen(text) : 0, out);
    free(text);
}

/* Applies every functions file, in the order embedded, in one transaction,
 * and records their checksum. Skipped when that checksum is the one
 * recorded and no schema file was applied now: replacing a trigger
 * function locks its table, so instances restarting during a rolling
 * deploy of the same version would queue behind each other's writes. */
static bool apply_functions(PGconn *conn, bool schema_changed)
{
    char sum[TOKEN_HASH_HEX_SIZE];
    functions_checksum(sum);
    const char *params[] = {sum};
    bool ok = exec_ok(conn,
                      "CREATE TABLE IF NOT EXISTS schema_functions (checksum text NOT NULL, applied_at timestamptz NOT "
                      "NULL DEFAULT clock_timestamp())",
                      0, NULL, "create schema_functions");
    PGresult *r =
        ok ? PQexecParams(conn, "SELECT 1 FROM schema_functions WHERE checksum = $1", 1, NULL, params, NULL, NULL, 0)
           : NULL;
    bool unchanged = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!ok || (unchanged && !schema_changed))
        return ok;
    ok = exec_ok(conn, "BEGIN", 0, NULL, "begin");
    for (const struct embedded_file *f = embedded_files; ok && f->name; f++)
        if (has_prefix(f->name, FUNCTIONS_PREFIX))
            ok = exec_script(conn, f);
    ok = ok && exec_ok(conn, "DELETE FROM schema_functions", 0, NULL, "record functions") &&
         exec_ok(conn, "INSERT INTO schema_functions (checksum) VALUES ($1)", 1, params, "record functions");
    return commit_or_rollback(conn, ok);
}

bool store_migrate(const char *database_url)
{
    PGconn *conn = db_connect(database_url, NULL);
    if (conn == NULL)
        return false;
    /* Several instances may start at once: one migrates, the others wait
     * on the lock, then find nothing left to apply. */
    bool schema_changed = false;
    bool ok = exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", 0, NULL, "migration lock") &&
              exec_ok(conn,
                      "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
                      "applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, "create schema_migrations") &&
              exec_ok(conn, "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text", 0, NULL,
                      "add schema_migrations.checksum") &&
              adopt_legacy_migrations(conn) && schema_files_unchanged(conn) &&
              apply_pending_schema(conn, &schema_changed) && apply_functions(conn, schema_changed);
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
