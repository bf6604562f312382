/* A growable string buffer with a hard maximum (curl's dynbuf habit):
 * appending past the maximum fails instead of growing without bound. */
#ifndef UTIL_STRBUF_H
#define UTIL_STRBUF_H
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated, owned */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass this fail */
};

void strbuf_init(struct strbuf *b, size_t max);
void strbuf_cleanup(struct strbuf *b);
bool strbuf_append(struct strbuf *b, const char *s, size_t len);
bool strbuf_puts(struct strbuf *b, const char *s);
bool strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
bool strbuf_json_string(struct strbuf *b, const char *s);
/* Hands the buffer over to the caller (new reference) and resets b. */
char *strbuf_take(struct strbuf *b);

#endif
