/* Opportunities (deals) and their lines. */
#ifndef STORE_OPPORTUNITIES_H
#define STORE_OPPORTUNITIES_H
#include <stdbool.h>

#include "store/store.h"

/* The sorts a list can take, each ascending or descending. */
enum opportunity_sort { SORT_ID, SORT_CLOSE_DATE, SORT_UPDATED_AT, SORT_CREATED_AT, SORT_NAME, SORT_VALUE, SORT_COUNT };

struct opportunity_filter {
    struct store_opt_int account_id, owner_id, status_id, forecast_id, source_id;
    /* Validated text, NULL when absent. */
    const char *outcome; /* open | won | lost */
    const char *close_from, *close_to; /* YYYY-MM-DD */
    const char *updated_since; /* RFC 3339 */
    const char *q, *external_id;
    bool include_deleted;
    bool account_must_exist; /* listing one account's deals: 404 when it does not exist */
    enum opportunity_sort sort;
    bool descending;
    const char *after_key; /* the sort value of the last row seen, as text */
    struct store_opt_int after_id; /* its id */
    int limit;
};

enum store_status store_opportunity_list(struct store_auth *auth, const struct opportunity_filter *filter,
                                         struct store_result *res);
/* The database's checks of a body alone (id absent for a new one): STORE_INVALID lists what it refuses. */
enum store_status store_opportunity_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                          struct store_result *res);
enum store_status store_line_check(struct store_auth *auth, const char *json, struct store_opt_int id,
                                   struct store_result *res);
enum store_status store_opportunity_get(struct store_auth *auth, int64_t id, struct store_result *res);
enum store_status store_opportunity_create(struct store_auth *auth, const char *json, struct store_result *res);
enum store_status store_opportunity_patch(struct store_auth *auth, int64_t id, const char *json,
                                          struct store_if_match if_match, struct store_result *res);
enum store_status store_opportunity_upsert(struct store_auth *auth, const char *external_id, const char *json,
                                           struct store_if_match if_match, struct store_result *res);
enum store_status store_opportunity_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                           struct store_result *res);

enum store_status store_line_list(struct store_auth *auth, int64_t opportunity_id, const char *after, int limit,
                                  struct store_result *res);
enum store_status store_line_get(struct store_auth *auth, int64_t opportunity_id, int64_t line_id,
                                 struct store_result *res);
enum store_status store_line_create(struct store_auth *auth, int64_t opportunity_id, const char *json,
                                    struct store_if_match if_match, struct store_result *res);
enum store_status store_line_patch(struct store_auth *auth, int64_t opportunity_id, int64_t line_id, const char *json,
                                   struct store_if_match if_match, struct store_result *res);
enum store_status store_line_delete(struct store_auth *auth, int64_t opportunity_id, int64_t line_id,
                                    struct store_if_match if_match, struct store_result *res);
enum store_status store_lines_replace(struct store_auth *auth, int64_t opportunity_id, const char *json,
                                      struct store_if_match if_match, struct store_result *res);

#endif
