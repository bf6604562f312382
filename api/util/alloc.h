/* Allocation helpers that never return NULL: out of memory aborts, so
 * callers carry no untested error branches (the Kore habit). */
#ifndef UTIL_ALLOC_H
#define UTIL_ALLOC_H
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Returns a new copy of s (NULL stays NULL). */
char *xstrdup(const char *s);
/* Returns a new NUL-terminated copy of the first len bytes of s. */
char *xstrndup(const char *s, size_t len);
/* Returns a new string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
