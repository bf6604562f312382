/* What the fuzz targets share: a request built as the dispatcher builds
 * one and freed the same way, the body parsed as the dispatcher parses it,
 * and invariant checks that abort (so libFuzzer keeps the input). */
#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/query.h"
#include "http/reply.h"
#include "app/validate.h"

/* What the target is doing (an endpoint, a step), printed when an
 * invariant breaks; NULL when there is nothing to add. */
extern const char *fuzz_context;

#define FUZZ_ASSERT(cond)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, #cond,                           \
                    fuzz_context ? fuzz_context : "-");                                                                \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* libFuzzer's entry points (no header declares them). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds Jansson's hash once, as main.c does, but with a fixed seed so a
 * run can be replayed. */
void fuzz_init(void);

/* A zeroed request for route (may be NULL), as the dispatcher starts one. */
void fuzz_request_init(struct request *req, const struct route *route);
/* Frees everything the dispatcher frees when a request ends: the query,
 * the field errors, the reply and its headers, the body. */
void fuzz_request_cleanup(struct request *req);

/* The body as the dispatcher reads it (json_keep_written_numbers, then
 * json_loadb with JSON_REJECT_DUPLICATES): a new reference, or NULL when
 * the dispatcher would reply 400. */
json_t *fuzz_parse_body(const uint8_t *data, size_t size);

/* True when some string in value (keys included) begins with the
 * written-number marker: the validator must never let one reach the store. */
bool fuzz_has_written_number(const json_t *value);

/* Checks what every reply must be after validation: the field errors have
 * names and messages; a problem reply is JSON listing them all. */
void fuzz_check_reply(const struct request *req);

/* The spec of a field, or NULL. */
const struct field_spec *fuzz_find_spec(const struct field_spec *specs, const char *name);

/* True when s is a canonical amount: digits, a point, two digits, at most
 * 1000000000.00, no superfluous leading zero. */
bool fuzz_canonical_money(const char *s);
/* True when s is a canonical quantity: the shortest decimal (no trailing
 * fraction zeros, at most three decimals) above 0 and at most 1000000. */
bool fuzz_canonical_quantity(const char *s);

#endif
