#include "util/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/alloc.h"

bool utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n >= len - i) /* the sequence runs past the end */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}

bool parse_id(const char *s, int64_t *out)
{
    long long v;
    if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 19)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    v = strtoll(s, NULL, 10);
    if (errno != 0 || v <= 0)
        return false;
    *out = (int64_t)v;
    return true;
}

bool parse_int_range(const char *s, long min, long max, long *out)
{
    const char *p = s;
    if (s == NULL || *s == '\0' || strlen(s) > 12)
        return false;
    if (*p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    long v = strtol(s, NULL, 10);
    if (errno != 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Length of the JSON number at s (RFC 8259 grammar), or 0 when the run of
 * number characters there is not one (the parser then refuses it). */
static size_t json_number_length(const char *s, size_t len, bool *real, int *int_digits)
{
    size_t i = 0;
    *real = false;
    if (i < len && s[i] == '-')
        i++;
    size_t digits_start = i;
    if (i < len && s[i] == '0')
        i++;
    else
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i == digits_start)
        return 0;
    *int_digits = (int)(i - digits_start);
    if (i < len && s[i] == '.') {
        size_t f = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return 0;
        *real = true;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return 0;
        *real = true;
    }
    /* A number runs into nothing that could continue it. */
    if (i < len &&
        (s[i] == '.' || s[i] == '-' || s[i] == '+' || (s[i] >= '0' && s[i] <= '9') || s[i] == 'e' || s[i] == 'E'))
        return 0;
    return i;
}

static bool starts_with_marker(const char *s, size_t len)
{
    return (len >= 3 && memcmp(s, JSON_WRITTEN_NUMBER, 3) == 0) ||
           (len >= 6 && s[0] == '\\' && s[1] == 'u' && (s[2] == 'e' || s[2] == 'E') && s[3] == '0' && s[4] == '0' &&
            s[5] == '0');
}

char *json_keep_written_numbers(const char *s, size_t len, size_t *out_len)
{
    /* A number grows by the quotes and the 6-byte marker escape at most. */
    size_t cap = len * 9 + 1;
    char *out = xmalloc(cap);
    size_t o = 0, i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '"') { /* copy a string, escapes included */
            if (starts_with_marker(s + i + 1, len - i - 1)) {
                free(out); /* the marker is ours: a client string may not begin with it */
                return NULL;
            }
            out[o++] = s[i++];
            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len)
                    out[o++] = s[i++];
                out[o++] = s[i++];
            }
            if (i < len)
                out[o++] = s[i++];
            continue;
        }
        bool real = false;
        int int_digits = 0;
        size_t n = (c == '-' || (c >= '0' && c <= '9')) ? json_number_length(s + i, len - i, &real, &int_digits) : 0;
        /* Fractions, exponents and integers past 64 bits go as written. */
        const char *digits = s + i + (c == '-' ? 1 : 0);
        bool fits_int64 = int_digits < 19 || (int_digits == 19 && strncmp(digits, "9223372036854775807", 19) <= 0);
        if (n == 0 || (!real && fits_int64)) {
            size_t copy = n;
            if (copy == 0) /* not a number: copy the whole run for the parser to refuse */
                while (copy < len - i && strchr("-+.eE0123456789", s[i + copy]) && s[i + copy] != '\0')
                    copy++;
            if (copy == 0)
                copy = 1;
            memcpy(out + o, s + i, copy);
            o += copy;
            i += copy;
            continue;
        }
        memcpy(out + o, "\"" JSON_WRITTEN_NUMBER_ESCAPE, 7);
        o += 7;
        memcpy(out + o, s + i, n);
        o += n;
        out[o++] = '"';
        i += n;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

const char *json_written_number(const char *text)
{
    size_t n = strlen(JSON_WRITTEN_NUMBER);
    return text && strncmp(text, JSON_WRITTEN_NUMBER, n) == 0 ? text + n : NULL;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *base64url_encode(const unsigned char *data, size_t len)
{
    char *out = xmalloc(len * 4 / 3 + 4);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

char *base64url_decode(const char *s, size_t *out_len)
{
    size_t len = strlen(s);
    if (len % 4 == 1)
        return NULL;
    char *out = xmalloc(len * 3 / 4 + 2);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

void hex_encode(const unsigned char *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[data[i] >> 4];
        out[2 * i + 1] = hex[data[i] & 15];
    }
    out[2 * len] = '\0';
}

/* xoshiro256** (public domain, Blackman and Vigna): fast and well spread;
 * request ids need uniqueness, not secrecy. */
static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void request_id_generate(char out[33])
{
    static _Thread_local uint64_t s[4];
    static _Thread_local bool seeded;
    if (!seeded) {
        random_bytes((unsigned char *)s, sizeof s);
        seeded = true;
    }
    unsigned char raw[16];
    for (int half = 0; half < 2; half++) {
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        memcpy(raw + 8 * half, &result, 8);
    }
    hex_encode(raw, sizeof raw, out);
}

void random_bytes(unsigned char *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("crm-api: getrandom");
            abort();
        }
        done += (size_t)n;
    }
}
