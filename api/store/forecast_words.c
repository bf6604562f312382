/* The words of a forecast report definition (store/forecast_reports.h):
 * data alone, apart from the statements, so code that checks definitions
 * links without the database. */
#include <stddef.h>

#include "store/forecast_reports.h"

const char *const forecast_periods[] = {"this_month",     "this_quarter",   "this_year", "next_quarter",
                                        "last_12_months", "next_12_months", NULL};
const char *const forecast_group_bys[] = {"month", "quarter", NULL};
const char *const forecast_split_bys[] = {"owner", "status", "forecast", "none", NULL};
const char *const forecast_outcomes[] = {"open", "won", "lost", NULL};
