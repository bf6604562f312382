/* GET /metrics: public, no token; absent with METRICS=off (routes.c). */
#include "resources/metrics_text.h"
#include "resources/resources.h"

/* Far above the largest possible text (every route x method x status
 * series and every histogram, about 100 bytes a line: under 1 MiB). */
#define METRICS_TEXT_MAX (8u << 20)

void metrics_scrape(struct request *req)
{
    struct strbuf text;
    strbuf_init(&text, METRICS_TEXT_MAX);
    if (!metrics_text_write(&text)) {
        strbuf_cleanup(&text);
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        return;
    }
    size_t length = text.len;
    http_reply_take(req, 200, METRICS_CONTENT_TYPE, strbuf_take(&text), length);
}
