/* References between the operations of a batch: a path segment, or a body
 * value, that is exactly "$N.id" stands for the id in the result of
 * operation N, which must run before the operation holding it. */
#ifndef APP_BATCH_REFERENCES_H
#define APP_BATCH_REFERENCES_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

/* What an operation answered, kept for the batch's reply and for the
 * references of later operations. */
struct batch_result {
    int status;
    char *body; /* the reply body (owned), NULL for 204 */
    char *location, *etag; /* owned, NULL when not sent */
    int64_t id; /* the body's id once a reference asked for it; 0: none */
    bool id_read;
};

struct batch_references {
    struct request *req; /* field errors are recorded here */
    int index; /* the operation holding the references */
    struct batch_result *results; /* the earlier results; NULL: check the order only */
};

/* N when s is "$N.id", else -1. */
int batch_reference_of(const char *s);
/* Replaces every reference among the values of body (in place; with
 * results NULL only checks them). field names the body in errors. False
 * after recording a field error. */
bool batch_references_in_body(const struct batch_references *refs, json_t *body, const char *field);
/* The path with each reference segment replaced by its id (new string;
 * with results NULL by "1", for routing), or NULL after recording a field
 * error on operations[index].path. */
char *batch_references_in_path(const struct batch_references *refs, const char *path);

#endif
