#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void strbuf_init(struct strbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = false;
}

void strbuf_cleanup(struct strbuf *b)
{
    free(b->data);
    strbuf_init(b, b->max);
}

/* Marks b failed and lets go of what it held; returns false. */
static bool fail(struct strbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = true;
    return false;
}

bool strbuf_append(struct strbuf *b, const char *s, size_t len)
{
    if (b->failed || len > b->max - b->len)
        return fail(b);
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool strbuf_reserve(struct strbuf *b, size_t size)
{
    if (b->failed || size > b->max + 1)
        return fail(b);
    if (size > b->cap) {
        b->data = xrealloc(b->data, size);
        b->cap = size;
    }
    return true;
}

bool strbuf_puts(struct strbuf *b, const char *s)
{
    return strbuf_append(b, s, strlen(s));
}

bool strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b);
    if ((size_t)n < sizeof small)
        return strbuf_append(b, small, (size_t)n);
    if (b->failed || (size_t)n > b->max - b->len) /* before allocating the text */
        return fail(b);
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = strbuf_append(b, big, (size_t)n);
    free(big);
    return ok;
}

bool strbuf_json_string(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!strbuf_append(b, "\"", 1))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7];
        const char *out = esc;
        size_t n = 2;
        esc[0] = '\\';
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (*p < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                n = 6;
            } else {
                out = (const char *)p;
                n = 1;
            }
        }
        if (!strbuf_append(b, out, n))
            return false;
    }
    return strbuf_append(b, "\"", 1);
}

bool strbuf_failed(const struct strbuf *b)
{
    return b->failed;
}

char *strbuf_take(struct strbuf *b)
{
    char *out = b->failed ? NULL : b->data ? b->data : xstrdup("");
    strbuf_init(b, b->max);
    return out;
}
