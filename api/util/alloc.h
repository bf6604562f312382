/* Allocation helpers that never return NULL: out of memory aborts, so
 * callers carry no untested error branches (the Kore habit).
 *
 * Every helper of api/util that returns a new allocation is declared
 * warn_unused_result, so a call whose result is dropped (a leak, or a
 * copy made for nothing) does not compile; those returning memory no
 * other pointer reaches are also malloc-like (ALLOC_NEW). */
#ifndef UTIL_ALLOC_H
#define UTIL_ALLOC_H
#include <stddef.h>

#define ALLOC_NEW __attribute__((malloc, warn_unused_result))

void *xmalloc(size_t size) ALLOC_NEW __attribute__((returns_nonnull, alloc_size(1)));
void *xcalloc(size_t count, size_t size) ALLOC_NEW __attribute__((returns_nonnull, alloc_size(1, 2)));
/* Not malloc-like: the block keeps the contents of ptr. */
void *xrealloc(void *ptr, size_t size) __attribute__((warn_unused_result, returns_nonnull, alloc_size(2)));
/* Returns a new copy of s (NULL stays NULL). */
char *xstrdup(const char *s) ALLOC_NEW;
/* Returns a new NUL-terminated copy of the first len bytes of s. */
char *xstrndup(const char *s, size_t len) ALLOC_NEW __attribute__((returns_nonnull));
/* Returns a new string formatted like printf. */
char *xasprintf(const char *fmt, ...) ALLOC_NEW __attribute__((returns_nonnull, format(printf, 1, 2)));

#endif
