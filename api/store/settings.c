#include "store/settings.h"

#include "store/db.h"

const struct db_statement settings_statements[] = {
    {"settings_get", "SELECT settings_json(s)::text, s.version, 1 FROM settings s"},
    {"settings_patch", "SELECT body::text, version, id FROM api_settings_patch($1::jsonb, $2)"},
    {NULL, NULL},
};

enum store_status store_settings_get(const struct store_auth *auth, struct store_result *res)
{
    struct db_query q = {"settings_get", 0, {NULL}};
    return db_run_document(auth, &q, res);
}

enum store_status store_settings_patch(const struct store_auth *auth, const char *json, int64_t if_match,
                                       struct store_result *res)
{
    char vbuf[24];
    struct db_query q = {"settings_patch", 2, {json, db_version(vbuf, if_match)}};
    return db_run_document(auth, &q, res);
}
