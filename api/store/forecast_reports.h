/* Forecast reports: saved definitions and running them. The SQL is in
 * db/functions/forecast_reports.sql. */
#ifndef STORE_FORECAST_REPORTS_H
#define STORE_FORECAST_REPORTS_H
#include <stdbool.h>

#include "store/store.h"

/* The words of a definition, NULL-terminated; the table's CHECK
 * constraints allow exactly these. */
extern const char *const forecast_periods[]; /* this_month ... next_12_months */
extern const char *const forecast_group_bys[]; /* month, quarter */
extern const char *const forecast_split_bys[]; /* owner, status, forecast, none */
extern const char *const forecast_outcomes[]; /* open, won, lost */

/* At most this many ids (or outcomes) in one list of a definition. */
#define FORECAST_MAX_LIST 200

struct forecast_report_filter {
    struct store_opt_int owner_id;
    struct store_opt_bool shared;
    struct store_opt_int after; /* the last id seen */
    int limit;
};

/* Lists the reports the caller can see (their own and shared ones). */
enum store_status store_forecast_report_list(struct store_auth *auth, const struct forecast_report_filter *f,
                                             struct store_result *res);
enum store_status store_forecast_report_get(struct store_auth *auth, int64_t id, struct store_result *res);
/* json: the validated body (merge patch for patch). */
enum store_status store_forecast_report_create(struct store_auth *auth, const char *json, struct store_result *res);
enum store_status store_forecast_report_patch(struct store_auth *auth, int64_t id, const char *json,
                                              struct store_if_match if_match, struct store_result *res);
enum store_status store_forecast_report_delete(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                               struct store_result *res);
/* Runs saved report id, or, with id absent, the definition given as a
 * JSON object (the query parameters, lists as arrays), in two steps. The
 * check (as the caller: every 4xx is its) gives res->body = {"definition",
 * "from", "to", "name"}; the compute turns that text into the result
 * document, with no caller. */
enum store_status store_forecast_check(struct store_auth *auth, struct store_opt_int id, const char *definition_json,
                                       struct store_result *res);
enum store_status store_forecast_compute(const char *request_id, const char *checked_json, struct store_result *res);

#endif
