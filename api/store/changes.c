#include "store/changes.h"

#include "log.h"
#include "store/db.h"
#include "util/alloc.h"

DB_STATEMENT(changes_check, "SELECT api_changes_check($1, $2, $3::timestamptz)", DB_TYPE_OPT_INT, DB_TYPE_OPT_INT,
             DB_TYPE_TEXT);
/* One row per event, in position order (its JSON and its position), each
 * with the horizon: the position every event listed later will be past,
 * the reader's snapshot xmin (see db/functions/changes.sql). A page with
 * no event is one row whose position is NULL. */
DB_STATEMENT(changes_page,
             "SELECT json_build_object('id', e.id, 'type', e.type, 'resource_id', e.resource_id, "
             "'version', e.version, 'occurred_at', api_ts(e.occurred_at), 'changed_by', CASE WHEN u.id IS NOT NULL "
             "THEN json_build_object('id', u.id, 'name', u.name) END, 'data', e.data)::text, "
             "e.position_major::text || ',' || e.position_minor, h.xmin::text || ',0' "
             "FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) h "
             "LEFT JOIN LATERAL (SELECT * FROM change_events c "
             "WHERE (c.position_major, c.position_minor) > "
             "(coalesce($1::bigint::text::xid8, '0'), coalesce($2::bigint, 0)) "
             "AND c.position_major < h.xmin AND ($3::timestamptz IS NULL OR c.occurred_at >= $3) "
             "AND ($4::text[] IS NULL OR c.type = ANY ($4::text[]) OR c.resource_type = ANY ($4::text[])) "
             "ORDER BY c.position_major, c.position_minor LIMIT $5::int + 1) e ON true "
             "LEFT JOIN users u ON u.id = e.changed_by "
             "ORDER BY e.position_major, e.position_minor",
             DB_TYPE_OPT_INT, DB_TYPE_OPT_INT, DB_TYPE_TEXT, DB_TYPE_TEXT, DB_TYPE_INT);

const struct db_statement *const change_statements[] = {&changes_check, &changes_page, NULL};

enum store_status store_changes_page(struct store_auth *auth, const struct store_changes_from *from, const char *types,
                                     int limit, struct store_result *res)
{
    struct db_query q[2] = {
        {&changes_check, {DB_OPT_INT(from->major), DB_OPT_INT(from->minor), DB_TEXT(from->since)}},
        {&changes_page,
         {DB_OPT_INT(from->major), DB_OPT_INT(from->minor), DB_TEXT(from->since), DB_TEXT(types), DB_INT(limit)}},
    };
    /* Without a position to check, the page alone (one statement). */
    bool check = from->major.present || from->since != NULL;
    PGresult *r;
    if (db_run(auth, check ? q : q + 1, check ? 2 : 1, &r, res) != STORE_OK)
        return res->status;
    int rows = PQgetisnull(r, 0, 1) ? 0 : PQntuples(r); /* no position: no event */
    int shown = rows > limit ? limit : rows;
    res->body = db_json_array(r, shown);
    if (res->body == NULL) {
        log_error(auth->request_id, "a change feed page of %d events has one over %zu bytes", shown,
                  STORE_ITEM_MAX_BYTES);
        res->status = STORE_ERROR;
    } else {
        /* More follow: resume after the last one shown; else from the horizon. */
        res->next_key = xstrdup(rows > limit ? PQgetvalue(r, shown - 1, 1) : PQgetvalue(r, 0, 2));
        res->count = shown;
    }
    PQclear(r);
    return res->status;
}
