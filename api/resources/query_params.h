/* Query parameters as the store takes them: optional ids and booleans,
 * and the id a list cursor carries. Syntax errors are recorded as 400s
 * naming the parameter (http/query.h). */
#ifndef RESOURCES_QUERY_PARAMS_H
#define RESOURCES_QUERY_PARAMS_H
#include <stdbool.h>

#include "http/request.h"
#include "store/store.h"

/* name=<id>: absent, or present with its value; false after a 400 error. */
bool query_opt_id(struct request *req, const char *name, struct store_opt_int *out);
/* name=true|false: absent, or present with its value; false after a 400 error. */
bool query_opt_bool(struct request *req, const char *name, struct store_opt_bool *out);
/* A page of a list keyed by id (http_query_page with http_key_is_id): the
 * limit and the last id seen (absent on the first page); false after
 * recording 400 errors. */
bool query_id_page(struct request *req, const char *cursor_kind, int *limit, struct store_opt_int *after);

#endif
