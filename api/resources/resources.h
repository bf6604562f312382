/* Every route handler, one group per resource file. */
#ifndef RESOURCES_H
#define RESOURCES_H
#include "app/state.h"
#include "app/store_reply.h"
#include "http/query.h"
#include "resources/query_params.h"
#include "http/reply.h"

/* health.c */
void health_live(struct request *req);
void health_ready(struct request *req);
void openapi_document(struct request *req);

/* metrics.c */
void metrics_scrape(struct request *req);

/* docs.c */
void docs_page(struct request *req);
void docs_asset(struct request *req);

/* users.c */
void users_list(struct request *req);
void users_create(struct request *req);
void users_me(struct request *req);
void users_get(struct request *req);
void users_patch(struct request *req);

/* tokens.c */
void tokens_list(struct request *req);
void tokens_create(struct request *req);
void tokens_revoke(struct request *req);

/* lookups.c */
void lookups_tables(struct request *req);
void lookups_list(struct request *req);
void lookups_create(struct request *req);
void lookups_get(struct request *req);
void lookups_patch(struct request *req);
void lookups_delete(struct request *req);

/* accounts.c */
void accounts_list(struct request *req);
void accounts_create(struct request *req);
void accounts_get(struct request *req);
void accounts_patch(struct request *req);
void accounts_delete(struct request *req);
void accounts_upsert(struct request *req);

/* settings.c */
void settings_get(struct request *req);
void settings_patch(struct request *req);

/* opportunities.c */
void opportunities_list(struct request *req);
void account_opportunities_list(struct request *req);
void opportunities_create(struct request *req);
void opportunities_get(struct request *req);
void opportunities_patch(struct request *req);
void opportunities_delete(struct request *req);
void opportunities_upsert(struct request *req);

/* lines.c */
void lines_list(struct request *req);
void lines_create(struct request *req);
void lines_get(struct request *req);
void lines_patch(struct request *req);
void lines_delete(struct request *req);
void lines_replace(struct request *req);

/* history.c */
void history_list(struct request *req);

/* dashboard.c */
void dashboard_funnel(struct request *req);
void dashboard_sales_grid(struct request *req);

/* forecast_reports.c */
void forecast_reports_list(struct request *req);
void forecast_reports_create(struct request *req);
void forecast_reports_get(struct request *req);
void forecast_reports_patch(struct request *req);
void forecast_reports_delete(struct request *req);

/* report_results.c */
void forecast_report_results(struct request *req);
void forecast_results(struct request *req);

#endif
