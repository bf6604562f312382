/* The store: the only code that speaks SQL. Resources call one store
 * function per request and get back a status and JSON text built by
 * PostgreSQL; they never see libpq. */
#ifndef STORE_STORE_H
#define STORE_STORE_H
#include <stdbool.h>
#include <stdint.h>

/* The outcome of a store call; every one but STORE_OK and STORE_REPLAY
 * is listed in errors.def with the problem it is answered with. */
enum store_status {
    STORE_OK,
#define STORE_STATUS(name, problem, detail, shown) STORE_##name,
#include "errors.def"
    STORE_REPLAY, /* an Idempotency-Key seen before: answer its stored response */
};

/* A transaction kept open across the store calls of one request: a POST
 * under an Idempotency-Key until the record of its reply commits with it,
 * or the operations of a batch. The first call made with
 * store_auth.transaction opens it (BEGIN, the token check, the key's
 * claim); later calls send only their own statements on its connection,
 * plus the token check again when they need an admin. */
struct store_transaction {
    int connection; /* pool slot holding the open transaction, or -1 */
    bool open;
    bool new_change; /* the next call starts a change of its own: its history gets a new change_id */
    bool retry; /* a call inside it met a serialization failure or deadlock: roll back, run it all again */
};

/* A POST made with an Idempotency-Key: its write and the record of its
 * response commit together in the request's store_transaction. */
struct store_idempotency {
    char key_hash[65]; /* SHA-256 hex of the key */
    char request_hash[65]; /* SHA-256 hex of method, path and body */
    /* Filled on STORE_REPLAY (owned). */
    int replay_status;
    char *replay_location, *replay_etag, *replay_body;
};

/* Who is calling, and what the store learns while it runs the request's
 * statements (so store calls take it without const). */
struct store_auth {
    const char *token_hash; /* SHA-256 (hex) of the bearer token, NULL for public reads */
    bool admin_only; /* the route needs an admin */
    const char *request_id; /* for log lines */
    struct store_idempotency *idempotency; /* NULL unless a POST carries Idempotency-Key */
    struct store_transaction *transaction; /* NULL: each call is a transaction of its own */
    bool authenticated; /* out: the token has been checked in the database */
};

/* Optional values of filters and keys: absent unless present. */
struct store_opt_int {
    bool present;
    int64_t value;
};
struct store_opt_bool {
    bool present;
    bool value;
};
#define STORE_NO_INT ((struct store_opt_int){.present = false})
#define STORE_INT(v) ((struct store_opt_int){.present = true, .value = (v)})
#define STORE_BOOL(b) ((struct store_opt_bool){.present = true, .value = (b)})

/* The If-Match precondition of a write. */
enum store_if_match_kind {
    STORE_IF_MATCH_NONE, /* no precondition */
    STORE_IF_MATCH_ANY, /* "*": the resource must exist */
    STORE_IF_MATCH_VERSION, /* one version, in .version */
    STORE_IF_MATCH_LIST, /* several versions, in .versions */
};
struct store_if_match {
    enum store_if_match_kind kind;
    int64_t version;
    const int64_t *versions;
    int version_count;
};

/* Every item of a list is under STORE_ITEM_MAX_BYTES of JSON: the largest,
 * an opportunity, holds at most 21,300 characters of text (name, next step,
 * competitor, description, win/loss report, external id, its creator's
 * name), each at most 6 bytes once escaped, about 130 KB in all; a history
 * entry holds two values of at most 10,000 characters. So a page's data
 * array of n items stays under STORE_LIST_BYTES(n) (125 MiB for 500). */
#define STORE_ITEM_MAX_BYTES ((size_t)256 << 10)
#define STORE_LIST_BYTES(items) ((size_t)(items) * (STORE_ITEM_MAX_BYTES + 1) + 2) /* "[", items and commas, "]" */

struct store_field_error {
    char *field;
    char *message;
};

struct store_result {
    enum store_status status;
    char *body; /* JSON text (resource, or a list's data array); owned */
    int64_t version; /* single resources: for the ETag; 0 when none */
    int64_t id; /* created/addressed resource id */
    bool created; /* upserts: true when a new row was made */
    char *next_key; /* lists: key of the last row when more follow; owned */
    char *message; /* conflicts and errors: a sentence for `detail`; owned */
    long long count; /* conflicts: how many records refer to the target; feed pages: events listed */
    struct store_field_error errors[32];
    int error_count;
};

void store_result_init(struct store_result *res);
void store_result_cleanup(struct store_result *res);

void store_idempotency_init(struct store_idempotency *idem);
void store_idempotency_cleanup(struct store_idempotency *idem);
void store_transaction_init(struct store_transaction *tx);
/* Ends an open transaction: with commit, records the response when idem
 * is given (a keyed write) and commits; false if that failed, in which
 * case nothing was kept. Without commit, rolls back. Nothing when none is
 * open. */
bool store_transaction_finish(struct store_transaction *tx, const struct store_idempotency *idem,
                              const char *request_id, bool commit, int status, const char *location, const char *etag,
                              const char *body);
/* Opens the request's transaction (auth->transaction) now, with the token
 * check and the Idempotency-Key's claim, before any statement of its own. */
enum store_status store_transaction_begin(struct store_auth *auth, struct store_result *res);
/* Checks the caller's token (and admin role when the route needs it) alone. */
enum store_status store_authenticate(struct store_auth *auth, struct store_result *res);

/* Opens the pool (connections are made lazily). */
bool store_open(const char *database_url, unsigned pool_size);
void store_close(void);

/* The request pool at this moment, and the database failures requests
 * have met since the start (for /metrics). busy + idle + closed is the
 * pool size. */
struct store_pool_stats {
    unsigned busy; /* taken by a request */
    unsigned idle; /* open, waiting for a request */
    unsigned closed; /* not open: made on first use, or made again after a failure */
    uint64_t errors; /* connections not made or found broken, statements failed by the database */
};
void store_pool_stats(struct store_pool_stats *out);
/* Applies the pending db/schema/ files, then every db/functions/ file
 * (unless their checksum in schema_functions is current and no schema file
 * was applied), under an advisory lock; false on failure, or when an
 * applied schema file was changed since (the log names it). */
bool store_migrate(const char *database_url);
/* True when the database answers and every schema file is applied. */
bool store_ready(void);
/* Creates an admin and a token; prints nothing. Returns a new token string or NULL. */
char *store_create_admin(const char *database_url, const char *name, const char *email, char **error);

#endif
