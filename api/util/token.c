#include "util/token.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

void token_generate(char out[TOKEN_TEXT_SIZE])
{
    unsigned char secret[32];
    random_bytes(secret, sizeof secret);
    char *encoded = base64url_encode(secret, sizeof secret);
    memcpy(out, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
    memcpy(out + strlen(TOKEN_PREFIX), encoded, 43);
    out[TOKEN_TEXT_SIZE - 1] = '\0';
    free(encoded);
}

bool token_hash(const char *token, char out[TOKEN_HASH_HEX_SIZE])
{
    size_t len = strlen(token);
    if (len == 0 || len > 256)
        return false;
    unsigned char digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, len, digest) != 0)
        return false;
    hex_encode(digest, sizeof digest, out);
    return true;
}

void token_hash_bytes(const void *data, size_t len, char out[TOKEN_HASH_HEX_SIZE])
{
    unsigned char digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest) != 0)
        abort(); /* SHA-256 is always available in GnuTLS */
    hex_encode(digest, sizeof digest, out);
}
