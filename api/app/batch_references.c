#include "app/batch_references.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "util/alloc.h"
#include "util/strbuf.h"

int batch_reference_of(const char *s)
{
    if (s == NULL || s[0] != '$' || s[1] < '0' || s[1] > '9')
        return -1;
    int n = 0, digits = 0;
    const char *p = s + 1;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        n = n * 10 + (*p - '0');
    if (digits > 3 || (digits > 1 && s[1] == '0') || strcmp(p, ".id") != 0)
        return -1;
    return n;
}

/* The id in a result's body ("id" of the object it holds), read once. */
static int64_t result_id(struct batch_result *result)
{
    if (result->id_read)
        return result->id;
    result->id_read = true;
    json_t *doc = result->body ? json_loads(result->body, 0, NULL) : NULL;
    json_t *id = json_object_get(doc, "id");
    result->id = json_is_integer(id) && json_integer_value(id) > 0 ? json_integer_value(id) : 0;
    json_decref(doc);
    return result->id;
}

/* The id reference n stands for; 0 after recording an error on field. */
static int64_t resolve(const struct batch_references *refs, int n, const char *field)
{
    if (n >= refs->index) {
        http_field_error(refs->req, field,
                         "refers to operation %d, which does not run before this one (only earlier operations can be "
                         "referred to)",
                         n);
        return 0;
    }
    if (refs->results == NULL)
        return 1;
    int64_t id = result_id(&refs->results[n]);
    if (id == 0)
        http_field_error(refs->req, field, "refers to operation %d, whose result has no id", n);
    return id;
}

static bool in_value(const struct batch_references *refs, json_t *value, const char *field);

static bool in_member(const struct batch_references *refs, json_t *parent, const char *key, size_t index, json_t *value,
                      const char *field)
{
    int n = json_is_string(value) ? batch_reference_of(json_string_value(value)) : -1;
    if (n < 0)
        return in_value(refs, value, field);
    int64_t id = resolve(refs, n, field);
    if (id == 0)
        return false;
    if (refs->results) {
        if (key)
            json_object_set_new(parent, key, json_integer(id));
        else
            json_array_set_new(parent, index, json_integer(id));
    }
    return true;
}

static bool in_value(const struct batch_references *refs, json_t *value, const char *field)
{
    bool ok = true;
    char name[512];
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        json_object_foreach(value, key, member)
        {
            snprintf(name, sizeof name, "%s.%s", field, key);
            ok &= in_member(refs, value, key, 0, member, name);
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *member;
        json_array_foreach(value, i, member)
        {
            snprintf(name, sizeof name, "%s[%zu]", field, i);
            ok &= in_member(refs, value, NULL, i, member, name);
        }
    }
    return ok;
}

bool batch_references_in_body(const struct batch_references *refs, json_t *body, const char *field)
{
    if (json_is_string(body) && batch_reference_of(json_string_value(body)) >= 0) {
        http_field_error(refs->req, field, "must be a JSON document; a reference stands for a value inside it");
        return false;
    }
    return in_value(refs, body, field);
}

char *batch_references_in_path(const struct batch_references *refs, const char *path)
{
    char field[48];
    snprintf(field, sizeof field, "operations[%d].path", refs->index);
    struct strbuf out;
    strbuf_init(&out, strlen(path) + 24 * 8 + 1);
    const char *p = path;
    while (*p) {
        const char *end = strchr(p + 1, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char segment[16] = "";
        if (len > 1 && len < sizeof segment) {
            memcpy(segment, p + 1, len - 1);
            segment[len - 1] = '\0';
        }
        int n = p[0] == '/' ? batch_reference_of(segment) : -1;
        if (n < 0) {
            strbuf_append(&out, p, len);
        } else {
            int64_t id = resolve(refs, n, field);
            if (id == 0) {
                strbuf_cleanup(&out);
                return NULL;
            }
            strbuf_printf(&out, "/%lld", (long long)id);
        }
        p += len;
    }
    char *text = strbuf_take(&out);
    return text ? text : xstrdup("");
}
