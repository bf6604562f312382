#include "util/webhook_signature.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const unsigned char *data, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

static int sextet(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

bool base64_decode(const char *s, unsigned char *out, size_t out_size, size_t *out_len)
{
    size_t len = strlen(s), n = 0;
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        int pad = (s[i + 2] == '=') + (s[i + 3] == '=');
        if (pad && i + 4 != len) /* padding only at the end */
            return false;
        if (s[i + 3] != '=' && s[i + 2] == '=')
            return false;
        int a = sextet(s[i]), b = sextet(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : sextet(s[i + 2]), d = s[i + 3] == '=' ? 0 : sextet(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            return false;
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
        for (int k = 0; k < 3 - pad; k++) {
            if (n >= out_size)
                return false;
            out[n++] = bytes[k];
        }
    }
    *out_len = n;
    return true;
}

void webhook_secret_generate(char out[WEBHOOK_SECRET_SIZE])
{
    unsigned char raw[WEBHOOK_SECRET_BYTES];
    random_bytes(raw, sizeof raw);
    size_t prefix = strlen(WEBHOOK_SECRET_PREFIX);
    memcpy(out, WEBHOOK_SECRET_PREFIX, prefix);
    base64_encode(raw, sizeof raw, out + prefix); /* 44 characters and the NUL */
}

bool webhook_sign(const char *secret, const char *event_id, long long timestamp, const char *body, size_t body_len,
                  char out[WEBHOOK_SIGNATURE_SIZE])
{
    size_t prefix = strlen(WEBHOOK_SECRET_PREFIX);
    unsigned char key[128];
    size_t key_len;
    if (strncmp(secret, WEBHOOK_SECRET_PREFIX, prefix) != 0 ||
        !base64_decode(secret + prefix, key, sizeof key, &key_len) || key_len == 0)
        return false;
    char head[320];
    int head_len = snprintf(head, sizeof head, "%s.%lld.", event_id, timestamp);
    if (head_len < 0 || (size_t)head_len >= sizeof head)
        return false;
    gnutls_hmac_hd_t mac;
    if (gnutls_hmac_init(&mac, GNUTLS_MAC_SHA256, key, key_len) != 0)
        return false;
    unsigned char digest[32];
    bool ok = gnutls_hmac(mac, head, (size_t)head_len) == 0 && gnutls_hmac(mac, body, body_len) == 0;
    gnutls_hmac_deinit(mac, digest);
    if (!ok)
        return false;
    memcpy(out, "v1,", 3);
    base64_encode(digest, sizeof digest, out + 3);
    return true;
}
