/* The Prometheus text exposition (format 0.0.4) of GET /metrics. */
#ifndef METRICS_TEXT_H
#define METRICS_TEXT_H
#include <stdbool.h>

#include "util/strbuf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends every family (HELP, TYPE, then its samples) to out: the
 * request counts folded from every thread, the database pool and the
 * process. False when out reached its maximum. */
bool metrics_text_write(struct strbuf *out);

#endif
