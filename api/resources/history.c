/* GET /opportunities/{id}/history: the change log, newest first. It is
 * read-only: the router answers 405 to every other method. */
#include <stdio.h>
#include <stdlib.h>

#include "resources/resources.h"
#include "store/history.h"
#include "util/text.h"

void history_list(struct request *req)
{
    int64_t id;
    if (!http_path_id(req, 0, &id))
        return;
    int limit;
    struct store_opt_int after;
    char kind[48]; /* a cursor belongs to one opportunity's history */
    snprintf(kind, sizeof kind, "history:%lld", (long long)id);
    if (!query_id_page(req, kind, &limit, &after)) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_history_list(&req->app->auth, id, after, limit, &res);
    reply_store_list(req, &res, kind);
    store_result_cleanup(&res);
}
