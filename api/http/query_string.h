/* The query string and percent-encoding of a request target, parsed as
 * the dispatcher does it: pure text work on a struct request (no
 * framework types), so unit tests and fuzzers can drive it alone. */
#ifndef QUERY_STRING_H
#define QUERY_STRING_H
#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

/* Percent-decodes s[0..len) into a new string ('+' as a space when
 * plus_is_space); NULL when malformed, when it holds a NUL, or when the
 * result is not UTF-8. */
char *percent_decode(const char *s, size_t len, bool plus_is_space);

/* Parses query (the text after '?', or NULL) into req->query, checking the
 * names against req->route's query parameters: unknown names are recorded
 * as field errors as they come (the caller replies 400 when there are
 * any), known ones kept. Returns false after replying 400 itself when the
 * query string is malformed or repeats a name. */
bool parse_query(struct request *req, const char *query);

#endif
