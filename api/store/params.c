#include "store/params.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/strbuf.h"

/* SQL integers: a version beyond their range can match nothing. */
static int64_t sql_version(int64_t version)
{
    return version < 0 || version > INT32_MAX ? 0 : version;
}

/* How api_check_version (db/functions/core.sql) takes a precondition:
 * NULL for none, -1 for "*", -3 for the list in app.if_match, else the
 * version. */
static const char *if_match_text(const struct store_if_match *m, char *buf)
{
    switch (m->kind) {
    case STORE_IF_MATCH_NONE:
        return NULL;
    case STORE_IF_MATCH_ANY:
        return "-1";
    case STORE_IF_MATCH_LIST:
        return "-3";
    case STORE_IF_MATCH_VERSION:
        break;
    }
    snprintf(buf, 24, "%" PRId64, sql_version(m->version));
    return buf;
}

/* The versions of an If-Match list, comma-separated. */
static char *version_list_text(const struct store_if_match *m)
{
    struct strbuf out;
    strbuf_init(&out, (size_t)m->version_count * 12 + 1);
    for (int i = 0; i < m->version_count; i++) {
        char version[24];
        snprintf(version, sizeof version, "%s%" PRId64, i ? "," : "", sql_version(m->versions[i]));
        strbuf_puts(&out, version);
    }
    return strbuf_take(&out);
}

/* An id array as a PostgreSQL array literal: "{3,7}" (20 bytes an id at most). */
static char *id_array_text(const int64_t *ids, size_t count)
{
    struct strbuf out;
    strbuf_init(&out, 2 + count * 21);
    strbuf_puts(&out, "{");
    for (size_t i = 0; i < count; i++) {
        char id[24];
        snprintf(id, sizeof id, "%s%" PRId64, i ? "," : "", ids[i]);
        strbuf_puts(&out, id);
    }
    strbuf_puts(&out, "}");
    return strbuf_take(&out);
}

static const char *number_text(int64_t value, char *buf)
{
    snprintf(buf, 24, "%" PRId64, value);
    return buf;
}

static bool param_text(struct db_param_texts *out, int i, const struct db_param *p)
{
    switch (p->type) {
    case DB_TYPE_ID:
    case DB_TYPE_INT:
        out->values[i] = number_text(p->number, out->numbers[i]);
        return true;
    case DB_TYPE_OPT_ID:
    case DB_TYPE_OPT_INT:
        out->values[i] = p->present ? number_text(p->number, out->numbers[i]) : NULL;
        return true;
    case DB_TYPE_BOOL:
        out->values[i] = p->number ? "t" : "f";
        return true;
    case DB_TYPE_OPT_BOOL:
        out->values[i] = p->present ? (p->number ? "t" : "f") : NULL;
        return true;
    case DB_TYPE_JSON:
    case DB_TYPE_TEXT:
        out->values[i] = p->text;
        return true;
    case DB_TYPE_ID_ARRAY:
        if (p->present) {
            out->arrays[i] = id_array_text(p->ids, p->id_count);
            if (out->arrays[i] == NULL)
                return false;
        }
        out->values[i] = out->arrays[i];
        return true;
    case DB_TYPE_IF_MATCH:
        out->values[i] = if_match_text(&p->if_match, out->numbers[i]);
        return true;
    case DB_TYPE_VERSION_LIST:
        out->arrays[i] = version_list_text(&p->if_match);
        out->values[i] = out->arrays[i];
        return out->arrays[i] != NULL;
    case DB_TYPE_END:
        break;
    }
    return false;
}

bool db_param_texts_make(struct db_param_texts *out, const struct db_query *q, const char *request_id)
{
    memset(out, 0, sizeof *out);
    const struct db_statement *s = q->statement;
    int n = 0;
    while (n < DB_MAX_PARAMS && s->params[n] != DB_TYPE_END)
        n++;
    out->count = n;
    for (int i = 0; i < DB_MAX_PARAMS; i++) {
        enum db_type given = q->params[i].type;
        if (i < n ? given != s->params[i] : given != DB_TYPE_END) {
            log_error(request_id, "statement %s: parameter $%d is of kind %d, declared %d", s->name, i + 1, (int)given,
                      (int)(i < n ? s->params[i] : DB_TYPE_END));
            db_param_texts_free(out);
            return false;
        }
        if (i < n && !param_text(out, i, &q->params[i])) {
            log_error(request_id, "statement %s: parameter $%d could not be written", s->name, i + 1);
            db_param_texts_free(out);
            return false;
        }
    }
    return true;
}

void db_param_texts_free(struct db_param_texts *texts)
{
    for (int i = 0; i < DB_MAX_PARAMS; i++) {
        free(texts->arrays[i]);
        texts->arrays[i] = NULL;
    }
}
