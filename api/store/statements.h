/* Inside the store: the named statements of each store module,
 * NULL-terminated; the pool prepares them all on every new connection. */
#ifndef STORE_STATEMENTS_H
#define STORE_STATEMENTS_H

struct db_statement {
    const char *name;
    const char *sql;
};

extern const struct db_statement account_statements[];
extern const struct db_statement lookup_statements[];
extern const struct db_statement user_statements[];
extern const struct db_statement token_statements[];
extern const struct db_statement system_statements[];
extern const struct db_statement settings_statements[];
extern const struct db_statement opportunity_statements[];
extern const struct db_statement history_statements[];
extern const struct db_statement change_statements[];
extern const struct db_statement dashboard_statements[];
extern const struct db_statement forecast_report_statements[];

#endif
