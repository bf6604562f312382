/* Folds the changes the writing transactions append to the opportunity
 * totals (db/functions/totals.sql) into the totals, once a second, on a
 * connection of its own. Readers add the changes not folded yet, so this
 * only keeps their number small: results never depend on it. */
#ifndef JOBS_TOTALS_FOLDER_H
#define JOBS_TOTALS_FOLDER_H

void totals_folder_start(const char *database_url);
void totals_folder_stop(void);

#endif
