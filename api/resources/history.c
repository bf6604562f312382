/* GET /opportunities/{id}/history: the change log, newest first. It is
 * read-only: the router answers 405 to every other method. */
#include "resources/crud.h"
#include "resources/resources.h"
#include "store/history.h"

void history_list(struct request *req)
{
    crud_child_list(req, "history", store_history_list);
}
