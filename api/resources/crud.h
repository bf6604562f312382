/* The handlers every plain resource shares: get, create, patch, upsert by
 * external id and delete, each path id -> validate -> one store call ->
 * reply. A resource describes itself once; its route handlers call these. */
#ifndef RESOURCES_CRUD_H
#define RESOURCES_CRUD_H
#include "resources/resources.h"
#include "resources/invalid.h"
#include "app/validate.h"

struct resource_kind {
    const char *name; /* "account": for messages */
    const char *location; /* "/accounts": where new ones live */
    const struct field_spec *create_fields, *patch_fields, *replace_fields;
    /* Validation beyond the field specs, or NULL for validate_body alone. */
    bool (*validate)(struct request *req, const struct field_spec *fields, enum validate_mode mode);
    /* The database's checks for a 422 listing every field, or NULL. */
    store_check_fn check;
    enum store_status (*get)(struct store_auth *auth, int64_t id, struct store_result *res);
    enum store_status (*create)(struct store_auth *auth, const char *json, struct store_result *res);
    enum store_status (*patch)(struct store_auth *auth, int64_t id, const char *json, struct store_if_match if_match,
                               struct store_result *res);
    enum store_status (*upsert)(struct store_auth *auth, const char *external_id, const char *json,
                                struct store_if_match if_match, struct store_result *res);
    enum store_status (*remove)(struct store_auth *auth, int64_t id, struct store_if_match if_match,
                                struct store_result *res);
};

void crud_get(struct request *req, const struct resource_kind *kind);
void crud_create(struct request *req, const struct resource_kind *kind);
void crud_patch(struct request *req, const struct resource_kind *kind);
/* PUT .../by-external-id/{external_id}: 201 when created, 200 when replaced. */
void crud_upsert(struct request *req, const struct resource_kind *kind);
void crud_delete(struct request *req, const struct resource_kind *kind);

/* The records of one parent, a page keyed by id: GET .../{id}/<records>.
 * A cursor belongs to that parent's list (its kind is "<cursor_prefix>:<id>"). */
typedef enum store_status (*store_child_list_fn)(struct store_auth *auth, int64_t parent_id, struct store_opt_int after,
                                                 int limit, struct store_result *res);
void crud_child_list(struct request *req, const char *cursor_prefix, store_child_list_fn list);

#endif
