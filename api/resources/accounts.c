/* /accounts: the customers deals are made with. */
#include <stdio.h>
#include <stdlib.h>

#include "resources/crud.h"
#include "resources/resources.h"
#include "resources/specs.h"
#include "store/accounts.h"
#include "util/text.h"
#include "app/validate.h"

void accounts_list(struct request *req)
{
    struct account_filter f = {0};
    bool ok = query_id_page(req, "accounts", &f.limit, &f.after) & query_opt_id(req, "owner_id", &f.owner_id) &
              query_opt_id(req, "source_id", &f.source_id) &
              http_query_timestamp(req, "updated_since", &f.updated_since) &
              http_query_bool(req, "include_deleted", &f.include_deleted);
    f.q = http_query(req, "q");
    if (f.q && utf8_length(f.q) > 200) {
        http_field_error(req, "q", "must be at most 200 characters long");
        ok = false;
    }
    f.external_id = http_query(req, "external_id");
    if (!ok) {
        http_reply_query_errors(req);
        return;
    }
    struct store_result res;
    store_result_init(&res);
    store_account_list(&req->app->auth, &f, &res);
    reply_store_list(req, &res, "accounts");
    store_result_cleanup(&res);
}

static const struct resource_kind accounts = {
    .name = "account",
    .location = "/accounts",
    .create_fields = account_fields,
    .patch_fields = account_fields,
    .replace_fields = account_replace_fields,
    .check = store_account_check,
    .get = store_account_get,
    .create = store_account_create,
    .patch = store_account_patch,
    .upsert = store_account_upsert,
    .remove = store_account_delete,
};

void accounts_create(struct request *req)
{
    crud_create(req, &accounts);
}

void accounts_get(struct request *req)
{
    crud_get(req, &accounts);
}

void accounts_patch(struct request *req)
{
    crud_patch(req, &accounts);
}

void accounts_upsert(struct request *req)
{
    crud_upsert(req, &accounts);
}

void accounts_delete(struct request *req)
{
    crud_delete(req, &accounts);
}
