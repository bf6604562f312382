/* Small text checks and codecs used at the HTTP boundary. */
#ifndef UTIL_TEXT_H
#define UTIL_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t len);
/* Number of code points in a valid UTF-8 string. */
size_t utf8_length(const char *s);
/* Parses a positive 64-bit id written in plain decimal ("1".."9223372036854775807"). */
bool parse_id(const char *s, int64_t *out);
/* Parses a decimal integer in [min, max], no sign for positives, no spaces. */
bool parse_int_range(const char *s, long min, long max, long *out);
/* Largest count of significant digits a JSON fraction may carry: Jansson
 * reads fractions as doubles, which hold 15 decimal digits exactly. */
#define JSON_REAL_MAX_DIGITS 15
/* True when every number with a fraction or exponent in the JSON text
 * s[0..len) has at most JSON_REAL_MAX_DIGITS significant digits (trailing
 * zeros of the fraction aside), so reading it as a double loses nothing. */
bool json_reals_exact(const char *s, size_t len);
/* Returns a new base64url string (no padding) of data. */
char *base64url_encode(const unsigned char *data, size_t len);
/* Decodes base64url (no padding) into a new NUL-terminated buffer; NULL if invalid. */
char *base64url_decode(const char *s, size_t *out_len);
/* Writes 2*len lowercase hex digits and a NUL into out. */
void hex_encode(const unsigned char *data, size_t len, char *out);
/* Fills buf with len cryptographically random bytes. */
void random_bytes(unsigned char *buf, size_t len);

#endif
