/* One operation of POST /batch: its shape checked before anything runs,
 * then run as a request of its own through the route table and its
 * resource's handler, with the store calls going into the batch's open
 * transaction. "$N.id" in a path segment or as a body value stands for the
 * id in the result of operation N, an earlier one. */
#ifndef APP_BATCH_OPERATION_H
#define APP_BATCH_OPERATION_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/batch_references.h"
#include "http/request.h"

#define BATCH_MAX_OPERATIONS 200

struct batch_operation {
    const char *method;
    const char *path;
    json_t *body; /* borrowed from the batch's body; NULL when left out */
    const char *if_match; /* as the If-Match header would carry it, or NULL */
};

void batch_result_cleanup(struct batch_result *result);

/* Checks operation index's shape (members, method, a path the batch may
 * write, the body its route takes, references to earlier operations only),
 * recording field errors named operations[index].… on req; fills *out and
 * returns true when there were none. */
bool batch_operation_check(struct request *req, int index, json_t *value, struct batch_operation *out);

/* Runs a checked operation. On success fills results[index] and returns
 * true; on failure replies on req with the operation's own status and
 * problem, operation_index and its fields named operations[index].…, and
 * returns false. */
bool batch_operation_run(struct request *req, int index, const struct batch_operation *op,
                         struct batch_result *results);

#endif
