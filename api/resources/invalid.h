/* The 422 of a body that failed validation before the database: the
 * database still checks the fields that passed (references to accounts,
 * users and lookup items), so one reply lists every invalid field. */
#ifndef RESOURCES_INVALID_H
#define RESOURCES_INVALID_H
#include "resources/resources.h"

typedef enum store_status (*store_check_fn)(struct store_auth *auth, const char *json, struct store_opt_int id,
                                            struct store_result *res);

/* Replies 422 with req's errors and the database's (id absent for a new resource). */
void reply_invalid_body(struct request *req, const json_t *body, store_check_fn check, struct store_opt_int id,
                        const char *detail);

#endif
