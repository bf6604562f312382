#include "resources/query_params.h"

#include <stdlib.h>

#include "http/query.h"
#include "util/text.h"

bool query_opt_id(struct request *req, const char *name, struct store_opt_int *out)
{
    int64_t id = 0;
    bool present = false;
    bool ok = http_query_id(req, name, &id, &present);
    *out = ok && present ? STORE_INT(id) : STORE_NO_INT;
    return ok;
}

bool query_opt_bool(struct request *req, const char *name, struct store_opt_bool *out)
{
    bool value = false;
    bool ok = http_query_bool(req, name, &value);
    *out = ok && http_query(req, name) ? STORE_BOOL(value) : (struct store_opt_bool){0};
    return ok;
}

bool query_id_page(struct request *req, const char *cursor_kind, int *limit, struct store_opt_int *after)
{
    char *key = NULL;
    int64_t id;
    bool ok = http_query_page(req, cursor_kind, http_key_is_id, limit, &key);
    *after = ok && key && parse_id(key, &id) ? STORE_INT(id) : STORE_NO_INT;
    free(key);
    return ok;
}
