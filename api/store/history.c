#include "store/history.h"

#include "store/db.h"

const struct db_statement history_statements[] = {
    {"opportunity_check_exists", "SELECT opportunity_check_exists($1)"},
    {"history_list", "SELECT history_json(h)::text, h.id::text FROM opportunity_history h WHERE h.opportunity_id = $1 "
                     "AND ($2::bigint IS NULL OR h.id < $2) ORDER BY h.id DESC LIMIT $3::int + 1"},
    {NULL, NULL},
};

enum store_status store_history_list(const struct store_auth *auth, int64_t opportunity_id, const char *after,
                                     int limit, struct store_result *res)
{
    char idbuf[24], lim[24];
    struct db_query q[2] = {
        {"opportunity_check_exists", 1, {db_int(idbuf, opportunity_id)}},
        {"history_list", 3, {idbuf, after, db_int(lim, limit)}},
    };
    return db_run_list_queries(auth, q, 2, limit, res);
}
