/* Small text checks and codecs used at the HTTP boundary. */
#ifndef UTIL_TEXT_H
#define UTIL_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);
/* Number of code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* Parses a positive 64-bit id written in plain decimal ("1".."9223372036854775807"). */
bool parse_id(const char *s, int64_t *out);
/* Parses a decimal integer in [min, max], no sign for positives, no spaces. */
bool parse_int_range(const char *s, long min, long max, long *out);
/* Jansson reads every number with a fraction or exponent as a double,
 * which would round amounts like 12.340000000000000001 silently. Before
 * parsing, each such number is turned into a string holding its text as
 * written behind a marker (U+E000, a private-use character), so the
 * validator sees exactly what the client sent and never a double. */
#define JSON_WRITTEN_NUMBER "\xee\x80\x80" /* U+E000 in UTF-8 */
#define JSON_WRITTEN_NUMBER_ESCAPE "\\ue000" /* the same as a JSON escape */
/* Returns the rewritten text (new; *out_len its length), or NULL when a
 * string of the text begins with the marker itself (refused: reserved). */
char *json_keep_written_numbers(const char *s, size_t len, size_t *out_len) ALLOC_NEW;
/* The number as written, when text is such a marked string; else NULL. */
const char *json_written_number(const char *text);
/* Returns a new base64url string (no padding) of data. */
char *base64url_encode(const unsigned char *data, size_t len) ALLOC_NEW;
/* Decodes base64url (no padding) into a new NUL-terminated buffer; NULL if invalid. */
char *base64url_decode(const char *s, size_t *out_len) ALLOC_NEW;
/* Writes 2*len lowercase hex digits and a NUL into out. */
void hex_encode(const unsigned char *data, size_t len, char *out);
/* Writes 32 hex digits (and a NUL) that identify a request: a per-thread
 * generator seeded once from the kernel, so no system call per request. */
void request_id_generate(char out[33]);
/* Fills buf with len cryptographically random bytes. */
void random_bytes(unsigned char *buf, size_t len);

#endif
