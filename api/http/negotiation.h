/* What a request says about representations: its body's media type and
 * JSON text, and the entity tags of If-Match and If-None-Match. */
#ifndef HTTP_NEGOTIATION_H
#define HTTP_NEGOTIATION_H
#include <stdbool.h>

#include "http/request.h"

/* Whether a Content-Type names expected, with no parameter but an
 * optional UTF-8 charset. */
bool http_media_type_is(const char *content_type, const char *expected);

/* Parses an entity tag list ("*", or tags like "3", W/"3"): the versions
 * it names (weak ones only where allowed), whether it is "*", and whether
 * the header was sent at all (value not NULL). Tags that are not versions
 * of ours match nothing. */
void http_parse_etags(const char *value, bool allow_weak, struct etag_list *out);

/* Checks the body's size, media type (as the route takes it) and JSON
 * syntax, and parses it into req->body; false after replying 413, 415 or
 * 400. */
bool http_read_body(struct request *req);

#endif
