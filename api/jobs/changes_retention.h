/* Deletes change feed events older than CHANGES_RETENTION_DAYS, at start
 * and then every minute, in batches, on a connection of its own. A reader
 * whose position is older than what was deleted gets 410 (resync from the
 * lists): the database records the highest position deleted. */
#ifndef JOBS_CHANGES_RETENTION_H
#define JOBS_CHANGES_RETENTION_H

void changes_retention_start(const char *database_url, unsigned days);
void changes_retention_stop(void);

#endif
