#include "support.h"

#include <string.h>

#include "util/text.h"

const char *fuzz_context;

void fuzz_init(void)
{
    json_object_seed(1);
}

void fuzz_request_init(struct request *req, const struct route *route)
{
    memset(req, 0, sizeof *req);
    req->method = "POST";
    req->route = route;
    snprintf(req->request_id, sizeof req->request_id, "fuzz");
}

void fuzz_request_cleanup(struct request *req)
{
    for (int i = 0; i < req->query_count; i++) {
        free(req->query[i].name);
        free(req->query[i].value);
    }
    req->query_count = 0;
    http_reply_reset(req); /* errors, headers, reply body */
    json_decref(req->body);
    req->body = NULL;
}

json_t *fuzz_parse_body(const uint8_t *data, size_t size)
{
    if (size == 0)
        return NULL;
    size_t text_size;
    char *text = json_keep_written_numbers((const char *)data, size, &text_size);
    if (text == NULL)
        return NULL;
    json_error_t error;
    json_t *body = json_loadb(text, text_size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    return body;
}

bool fuzz_has_written_number(const json_t *value)
{
    if (json_is_string(value))
        return json_written_number(json_string_value(value)) != NULL;
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) if (fuzz_has_written_number(item)) return true;
        return false;
    }
    if (json_is_object(value)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)value, key,
                            item) if (json_written_number(key) || fuzz_has_written_number(item)) return true;
    }
    return false;
}

void fuzz_check_reply(const struct request *req)
{
    FUZZ_ASSERT(req->error_count >= 0 && req->error_count <= HTTP_MAX_FIELD_ERRORS);
    for (int i = 0; i < req->error_count; i++) {
        FUZZ_ASSERT(req->errors[i].field != NULL && req->errors[i].message != NULL);
        FUZZ_ASSERT(req->errors[i].message[0] != '\0');
    }
    if (req->reply_body == NULL)
        return;
    FUZZ_ASSERT(strlen(req->reply_body) == req->reply_length);
    json_t *doc = json_loads(req->reply_body, 0, NULL);
    FUZZ_ASSERT(doc != NULL);
    if (req->status >= 400) {
        FUZZ_ASSERT(json_integer_value(json_object_get(doc, "status")) == req->status);
        FUZZ_ASSERT(json_array_size(json_object_get(doc, "errors")) == (size_t)req->error_count);
    }
    json_decref(doc);
}

const struct field_spec *fuzz_find_spec(const struct field_spec *specs, const char *name)
{
    for (const struct field_spec *s = specs; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

bool fuzz_canonical_money(const char *s)
{
    size_t len = strlen(s);
    const char *dot = strchr(s, '.');
    if (dot == NULL || dot == s || len - (size_t)(dot - s) != 3 || dot - s > 10)
        return false;
    if (s[0] == '0' && dot - s > 1)
        return false;
    for (const char *p = s; *p; p++)
        if (p != dot && (*p < '0' || *p > '9'))
            return false;
    return dot - s < 10 || strcmp(s, "1000000000.00") == 0;
}

bool fuzz_canonical_quantity(const char *s)
{
    const char *dot = strchr(s, '.');
    size_t whole = dot ? (size_t)(dot - s) : strlen(s);
    if (whole == 0 || whole > 7 || (s[0] == '0' && whole > 1))
        return false;
    for (size_t i = 0; i < whole; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    long long value = strtoll(s, NULL, 10);
    if (dot) {
        size_t frac = strlen(dot + 1);
        if (frac < 1 || frac > 3 || dot[frac] == '0')
            return false;
        for (const char *p = dot + 1; *p; p++)
            if (*p < '0' || *p > '9')
                return false;
        return value < 1000000;
    }
    return value > 0 && value <= 1000000;
}
