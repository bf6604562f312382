#include "store/sql_errors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/pool.h"
#include "util/alloc.h"

/* What a SQLSTATE means (errors.def). */
static enum store_status status_of_sqlstate(const char *state)
{
    static const struct {
        const char *state;
        enum store_status status;
    } map[] = {
#define SQLSTATE(state, status) {state, STORE_##status},
#include "errors.def"
    };
    static const struct {
        const char *prefix;
        enum store_status status;
    } classes[] = {
#define SQLSTATE_CLASS(prefix, status) {prefix, STORE_##status},
#include "errors.def"
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].state, state) == 0)
            return map[i].status;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strncmp(state, classes[i].prefix, strlen(classes[i].prefix)) == 0)
            return classes[i].status;
    return STORE_ERROR;
}

static void add_field_error(struct store_result *res, const char *field, const char *message)
{
    if (res->error_count >= (int)(sizeof res->errors / sizeof res->errors[0]))
        return;
    res->errors[res->error_count].field = xstrdup(field);
    res->errors[res->error_count].message = xstrdup(message);
    res->error_count++;
}

/* Fills the replay of a stored response from the claim's error detail. */
static void read_replay(struct store_idempotency *idem, const char *detail)
{
    json_t *doc = json_loads(detail ? detail : "", 0, NULL);
    idem->replay_status = (int)json_integer_value(json_object_get(doc, "status"));
    idem->replay_location = xstrdup(json_string_value(json_object_get(doc, "location")));
    idem->replay_etag = xstrdup(json_string_value(json_object_get(doc, "etag")));
    idem->replay_body = xstrdup(json_string_value(json_object_get(doc, "body")));
    json_decref(doc);
}

/* Constraint names follow "<table>__<field>__<kind>", so a violation can
 * name the field without a lookup table. */
static char *field_of_constraint(const char *constraint)
{
    const char *start = constraint ? strstr(constraint, "__") : NULL;
    if (start == NULL)
        return NULL;
    start += 2;
    const char *end = strstr(start, "__");
    return end ? xstrndup(start, (size_t)(end - start)) : NULL;
}

void db_describe_error(const PGresult *r, struct store_result *res, struct store_auth *auth)
{
    const char *request_id = auth ? auth->request_id : NULL;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    res->status = status_of_sqlstate(state ? state : "XX000");

    if (state && strcmp(state, "C4200") == 0 && auth && auth->idempotency) {
        res->status = STORE_REPLAY;
        read_replay(auth->idempotency, detail);
        return;
    }
    if (state && state[0] == 'C' && state[1] == '4') {
        free(res->message);
        res->message = xstrdup(message);
        if (detail && detail[0] == '[') {
            json_t *list = json_loads(detail, 0, NULL);
            size_t i;
            json_t *item;
            json_array_foreach(list, i, item)
            {
                add_field_error(res, json_string_value(json_object_get(item, "field")),
                                json_string_value(json_object_get(item, "message")));
            }
            json_decref(list);
        }
        if (hint)
            res->count = strtoll(hint, NULL, 10);
        return;
    }
    char *field = field_of_constraint(constraint);
    switch (res->status) {
    case STORE_CONFLICT:
        res->message = xasprintf("Another record already has this %s.", field ? field : "value");
        if (field)
            add_field_error(res, field, "is already taken");
        break;
    case STORE_INVALID:
        res->message = xstrdup("A value was refused by the database.");
        add_field_error(res, field ? field : "body",
                        strcmp(state, "23503") == 0 ? "refers to a record that does not exist" : "is not allowed");
        break;
    case STORE_UNAVAILABLE:
        pool_count_error();
        log_warning(request_id, "database unavailable: %s", message ? message : "?");
        break;
    default:
        pool_count_error();
        log_error(request_id, "database error %s: %s", state ? state : "?", message ? message : "?");
        break;
    }
    free(field);
}

bool db_retryable(const PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}
