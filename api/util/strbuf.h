/* A growable string buffer with a hard maximum (curl's dynbuf habit):
 * appending past the maximum fails instead of growing without bound.
 * The first failed append empties the buffer and every later one fails
 * too, so what was built is either whole or gone: check strbuf_failed()
 * (or strbuf_take()'s NULL) once at the end. */
#ifndef UTIL_STRBUF_H
#define UTIL_STRBUF_H
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated, owned; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass this fail */
    bool failed; /* an append failed: data is gone, appends fail */
};

void strbuf_init(struct strbuf *b, size_t max);
void strbuf_cleanup(struct strbuf *b);
bool strbuf_append(struct strbuf *b, const char *s, size_t len);
/* Makes room for size bytes in all (the NUL included) at once, when the
 * caller knows the size: no growth by copies. Fails like an append past
 * the maximum. */
bool strbuf_reserve(struct strbuf *b, size_t size);
bool strbuf_puts(struct strbuf *b, const char *s);
bool strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
bool strbuf_json_string(struct strbuf *b, const char *s);
/* True when an append failed since strbuf_init (what was built is lost). */
bool strbuf_failed(const struct strbuf *b);
/* Hands the buffer over to the caller (new reference; "" when nothing was
 * appended) and resets b; NULL, with b reset, when an append failed. */
char *strbuf_take(struct strbuf *b) __attribute__((warn_unused_result));

#endif
