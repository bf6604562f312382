/* Standard Webhooks signing: a secret "whsec_" + base64 of random bytes,
 * and "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the
 * secret's decoded bytes. */
#ifndef UTIL_WEBHOOK_SIGNATURE_H
#define UTIL_WEBHOOK_SIGNATURE_H
#include <stdbool.h>
#include <stddef.h>

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_SECRET_SIZE 52 /* "whsec_" + 44 base64 chars + NUL (and spare) */
#define WEBHOOK_SIGNATURE_SIZE 48 /* "v1," + 44 base64 chars + NUL */

/* Writes a new secret into out. */
void webhook_secret_generate(char out[WEBHOOK_SECRET_SIZE]);
/* Writes the webhook-signature header value into out; false when the
 * secret is not "whsec_" + base64. */
bool webhook_sign(const char *secret, const char *event_id, long long timestamp, const char *body, size_t body_len,
                  char out[WEBHOOK_SIGNATURE_SIZE]);

/* Standard base64 (with padding): encodes len bytes into out, which holds
 * at least 4 * ((len + 2) / 3) + 1 bytes. */
void base64_encode(const unsigned char *data, size_t len, char *out);
/* Decodes s into out (at most out_size bytes); false on bad input. */
bool base64_decode(const char *s, unsigned char *out, size_t out_size, size_t *out_len);

#endif
