#include "jobs/totals_folder.h"

#include <stdbool.h>

#include "jobs/job.h"
#include "store/session.h"

#define FOLD_EVERY_MS 1000

static struct job folder;

static void *fold_loop(void *arg)
{
    job_every(arg, FOLD_EVERY_MS, FOLD_EVERY_MS, store_totals_fold,
              "cannot fold the opportunity totals (reports stay exact, only slower)");
    return NULL;
}

void totals_folder_start(const char *database_url)
{
    job_start(&folder, database_url, fold_loop, "the opportunity totals folder (reports stay exact, only slower)");
}

void totals_folder_stop(void)
{
    job_stop(&folder);
}
