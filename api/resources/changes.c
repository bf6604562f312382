/* GET /changes: the change feed, oldest first, for every user. The cursor
 * is an event position "major,minor"; next_cursor is never null (at the
 * end of the feed it is the position to poll from later). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/metrics.h"
#include "resources/resources.h"
#include "store/changes.h"
#include "util/text.h"
#include "util/strbuf.h"

#define CHANGES_CURSOR_KIND "changes"

/* What `types` may name: a resource type (every event of it) or one event type. */
static const char *const change_types[] = {
    "account",     "account.created",     "account.updated",     "account.deleted",
    "opportunity", "opportunity.created", "opportunity.updated", "opportunity.deleted",
    "lookup_item", "lookup_item.created", "lookup_item.updated", "lookup_item.deleted",
};
#define CHANGE_TYPE_COUNT (sizeof change_types / sizeof change_types[0])

/* Unsigned decimal of at most max_digits digits, without a sign or leading zeros. */
static bool plain_number(const char *s, size_t len, size_t max_digits)
{
    if (len == 0 || len > max_digits || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* A position as the feed writes it, "major,minor": a transaction id and a
 * sequence number (18 digits at most: each fits an int64). */
static bool key_is_position(const char *key)
{
    const char *comma = strchr(key, ',');
    return comma != NULL && plain_number(key, (size_t)(comma - key), 18) &&
           plain_number(comma + 1, strlen(comma + 1), 18);
}

/* The value of a plain_number (at most 18 digits: no overflow). */
static int64_t number_value(const char *s, size_t len)
{
    int64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Splits a key that key_is_position accepted. */
static void position_of(const char *key, struct store_changes_from *from)
{
    const char *comma = strchr(key, ',');
    from->major = STORE_INT(number_value(key, (size_t)(comma - key)));
    from->minor = STORE_INT(number_value(comma + 1, strlen(comma + 1)));
}

/* Parses `types` into a PostgreSQL array literal (new; NULL when absent).
 * False after recording a 400 error naming the parameter. */
static bool parse_types(struct request *req, char **out)
{
    const char *v = http_query(req, "types");
    *out = NULL;
    if (v == NULL)
        return true;
    struct strbuf array;
    strbuf_init(&array, 2 + strlen(v) + 1);
    strbuf_puts(&array, "{");
    const char *p = v;
    bool ok = true;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool known = false;
        for (size_t i = 0; i < CHANGE_TYPE_COUNT && !known; i++)
            known = strlen(change_types[i]) == len && memcmp(change_types[i], p, len) == 0;
        if (!known) {
            ok = false;
            break;
        }
        if (p != v)
            strbuf_puts(&array, ",");
        strbuf_append(&array, p, len);
        if (end == NULL)
            break;
        p = end + 1;
    }
    strbuf_puts(&array, "}");
    char *text = strbuf_take(&array);
    if (!ok || text == NULL) {
        free(text);
        http_field_error(req, "types",
                         "must be event types or resource types separated by commas: account, opportunity, "
                         "lookup_item, or one of them followed by .created, .updated or .deleted");
        return false;
    }
    *out = text;
    return true;
}

void changes_list(struct request *req)
{
    int limit;
    char *after = NULL, *types = NULL;
    struct store_changes_from from = {0};
    /* Every parameter is parsed (`&`, not `&&`) so that one 400 lists every error. */
    bool ok = http_query_page(req, CHANGES_CURSOR_KIND, key_is_position, &limit, &after) &
              http_query_timestamp(req, "since", &from.since) & parse_types(req, &types);
    if (!ok) {
        free(after);
        free(types);
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    if (after)
        position_of(after, &from);
    if (store_changes_page(&req->app->auth, &from, types, limit, &res) == STORE_OK)
        metrics_count_feed_events((uint64_t)res.count);
    reply_store_list(req, &res, CHANGES_CURSOR_KIND);
    store_result_cleanup(&res);
    free(after);
    free(types);
}
