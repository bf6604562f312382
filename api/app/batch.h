/* POST /batch: up to 200 writes to accounts, opportunities, their lines
 * and lookup items, run in order in one transaction, all or nothing
 * (app/batch_operation.h runs each one through its own route). */
#ifndef APP_BATCH_H
#define APP_BATCH_H
#include "http/request.h"

void batch_run(struct request *req);

#endif
