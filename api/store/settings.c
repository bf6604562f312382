#include "store/settings.h"

#include "store/db.h"

DB_STATEMENT_NO_PARAMS(settings_get, "SELECT settings_json(s)::text, s.version, 1 FROM settings s");
DB_STATEMENT(settings_patch, "SELECT body::text, version, id FROM api_settings_patch($1::jsonb, $2)", DB_TYPE_JSON,
             DB_TYPE_IF_MATCH);

const struct db_statement *const settings_statements[] = {&settings_get, &settings_patch, NULL};

enum store_status store_settings_get(struct store_auth *auth, struct store_result *res)
{
    struct db_query q = {.statement = &settings_get};
    return db_run_document(auth, &q, res);
}

enum store_status store_settings_patch(struct store_auth *auth, const char *json, struct store_if_match if_match,
                                       struct store_result *res)
{
    struct db_query q = {&settings_patch, {DB_JSON(json), DB_IF_MATCH(if_match)}};
    return db_run_document(auth, &q, res);
}
