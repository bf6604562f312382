/* Service configuration: read once from the environment, then immutable. */
#ifndef CONFIG_H
#define CONFIG_H
#include <stdbool.h>

#include "log.h"

struct config {
    const char *database_url; /* borrowed from the environment */
    const char *bind;
    unsigned port;
    unsigned db_pool_size;
    unsigned threads;
    unsigned report_threads; /* compute report bodies off the HTTP threads (deferred_body.h) */
    enum log_level log_level;
    bool log_json;
};

/* Fills cfg from the environment. On any bad variable prints every problem
 * to stderr and returns false. */
bool config_load(struct config *cfg);

#endif
