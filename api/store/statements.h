/* Inside the store: how a statement is declared and called. Each
 * statement is one declaration: its name, its SQL and the types of its
 * parameters; a call gives it values made by the typed DB_* helpers, and
 * a value of another kind is refused before anything is sent (a 500 and a
 * log line naming the statement), not left to PostgreSQL. Each store module lists its statements, NULL-terminated;
 * the pool prepares them all on every new connection. */
#ifndef STORE_STATEMENTS_H
#define STORE_STATEMENTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define DB_MAX_PARAMS 16

/* The kinds of parameter values. Optional kinds may be SQL NULL. */
enum db_type {
    DB_TYPE_END, /* after the last parameter */
    DB_TYPE_ID, /* a row id (int64) */
    DB_TYPE_OPT_ID, /* an id or NULL */
    DB_TYPE_INT, /* a count or limit (int64) */
    DB_TYPE_OPT_INT, /* a number or NULL (a cursor's position) */
    DB_TYPE_BOOL,
    DB_TYPE_OPT_BOOL, /* true, false or NULL (a filter that may be absent) */
    DB_TYPE_JSON, /* JSON text (jsonb in SQL) or NULL */
    DB_TYPE_TEXT, /* text or NULL: names, hashes, validated dates and timestamps */
    DB_TYPE_ID_ARRAY, /* ids as a bigint[] or NULL */
    DB_TYPE_IF_MATCH, /* a precondition, as api_check_version takes it */
    DB_TYPE_VERSION_LIST, /* the versions of an If-Match list, as app.if_match holds them ("3,7") */
};

struct db_statement {
    const char *name;
    const char *sql;
    enum db_type params[DB_MAX_PARAMS]; /* ends at the first DB_TYPE_END */
};

/* Declares the statement `id` (prepared under that name). */
#define DB_STATEMENT(id, text, ...)                                                                                    \
    static const struct db_statement id = {.name = #id, .sql = (text), .params = {__VA_ARGS__}}
#define DB_STATEMENT_NO_PARAMS(id, text) static const struct db_statement id = {.name = #id, .sql = (text)}

/* A parameter value, made by the typed helpers below; db.c alone turns
 * it into the text PostgreSQL is sent ("t"/"f" for booleans, decimal
 * ids, NULL for an absent optional). */
struct db_param {
    enum db_type type;
    bool present; /* optional kinds: false for SQL NULL */
    int64_t number; /* ids, numbers, booleans (0/1) */
    const char *text; /* JSON and text; NULL for SQL NULL */
    const int64_t *ids; /* DB_TYPE_ID_ARRAY */
    size_t id_count;
    struct store_if_match if_match;
};

#define DB_ID(v) ((struct db_param){.type = DB_TYPE_ID, .present = true, .number = (v)})
#define DB_OPT_ID(o) ((struct db_param){.type = DB_TYPE_OPT_ID, .present = (o).present, .number = (o).value})
#define DB_INT(v) ((struct db_param){.type = DB_TYPE_INT, .present = true, .number = (v)})
#define DB_OPT_INT(o) ((struct db_param){.type = DB_TYPE_OPT_INT, .present = (o).present, .number = (o).value})
#define DB_BOOL(b) ((struct db_param){.type = DB_TYPE_BOOL, .present = true, .number = (b)})
#define DB_OPT_BOOL(o) ((struct db_param){.type = DB_TYPE_OPT_BOOL, .present = (o).present, .number = (o).value})
#define DB_JSON(s) ((struct db_param){.type = DB_TYPE_JSON, .text = (s)})
#define DB_TEXT(s) ((struct db_param){.type = DB_TYPE_TEXT, .text = (s)})
#define DB_ID_ARRAY(list, count)                                                                                       \
    ((struct db_param){.type = DB_TYPE_ID_ARRAY, .present = (list) != NULL, .ids = (list), .id_count = (count)})
#define DB_IF_MATCH(m) ((struct db_param){.type = DB_TYPE_IF_MATCH, .if_match = (m)})
#define DB_VERSION_LIST(m) ((struct db_param){.type = DB_TYPE_VERSION_LIST, .if_match = (m)})

/* One statement and its values, in the order of its declaration. */
struct db_query {
    const struct db_statement *statement;
    struct db_param params[DB_MAX_PARAMS];
};

/* The statements of the runner (db.c) and of keyed writes (idempotency.c). */
extern const struct db_statement *const runner_statements[];
extern const struct db_statement *const idempotency_statements[];
extern const struct db_statement *const account_statements[];
extern const struct db_statement *const lookup_statements[];
extern const struct db_statement *const user_statements[];
extern const struct db_statement *const token_statements[];
extern const struct db_statement *const system_statements[];
extern const struct db_statement *const settings_statements[];
extern const struct db_statement *const opportunity_statements[];
extern const struct db_statement *const history_statements[];
extern const struct db_statement *const dashboard_statements[];
extern const struct db_statement *const forecast_report_statements[];

#endif
