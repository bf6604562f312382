#include "store/history.h"

#include "store/db.h"

DB_STATEMENT(opportunity_check_exists, "SELECT opportunity_check_exists($1)", DB_TYPE_ID);
DB_STATEMENT(history_list,
             "SELECT history_json(h)::text, h.id::text FROM opportunity_history h WHERE h.opportunity_id = $1 "
             "AND ($2::bigint IS NULL OR h.id < $2) ORDER BY h.id DESC LIMIT $3::int + 1",
             DB_TYPE_ID, DB_TYPE_OPT_ID, DB_TYPE_INT);

const struct db_statement *const history_statements[] = {&opportunity_check_exists, &history_list, NULL};

enum store_status store_history_list(struct store_auth *auth, int64_t opportunity_id, struct store_opt_int after,
                                     int limit, struct store_result *res)
{
    struct db_query q[2] = {
        {&opportunity_check_exists, {DB_ID(opportunity_id)}},
        {&history_list, {DB_ID(opportunity_id), DB_OPT_ID(after), DB_INT(limit)}},
    };
    return db_run_list_queries(auth, q, 2, limit, res);
}
