/* Inside the store: the one place where typed parameter values (statements.h)
 * become the text PostgreSQL is sent. */
#ifndef STORE_PARAMS_H
#define STORE_PARAMS_H
#include <stdbool.h>

#include "store/statements.h"

/* The text values of one query's parameters; numbers and id arrays are
 * written into the struct's own buffers. */
struct db_param_texts {
    int count;
    const char *values[DB_MAX_PARAMS];
    char numbers[DB_MAX_PARAMS][24];
    char *arrays[DB_MAX_PARAMS]; /* owned: "{3,7}", "3,7" */
};

/* Fills out from q; false (logged with request_id) when a value's type is
 * not the one the statement declares, or a required value is missing:
 * a mistake in the calling store code, answered with a 500. */
bool db_param_texts_make(struct db_param_texts *out, const struct db_query *q, const char *request_id);
void db_param_texts_free(struct db_param_texts *texts);

#endif
