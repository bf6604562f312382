/* API token secrets: made from 32 random bytes, stored only as SHA-256. */
#ifndef UTIL_TOKEN_H
#define UTIL_TOKEN_H
#include <stdbool.h>
#include <stddef.h>

#define TOKEN_PREFIX "crm_"
#define TOKEN_TEXT_SIZE 48 /* "crm_" + 43 base64url chars + NUL */
#define TOKEN_HASH_HEX_SIZE 65

/* Writes a new secret token into out. */
void token_generate(char out[TOKEN_TEXT_SIZE]);
/* Writes the hex SHA-256 of the token into out; false if it is not token-shaped. */
bool token_hash(const char *token, char out[TOKEN_HASH_HEX_SIZE]);

/* Writes the hex SHA-256 of data into out. */
void token_hash_bytes(const void *data, size_t len, char out[TOKEN_HASH_HEX_SIZE]);

#endif
