/* Every route handler, one group per resource file. */
#ifndef RESOURCES_H
#define RESOURCES_H
#include "http.h"

/* health.c */
void health_live(struct request *req);
void health_ready(struct request *req);
void openapi_document(struct request *req);

/* users.c */
void users_list(struct request *req);
void users_create(struct request *req);
void users_me(struct request *req);
void users_get(struct request *req);
void users_patch(struct request *req);

/* tokens.c */
void tokens_list(struct request *req);
void tokens_create(struct request *req);
void tokens_revoke(struct request *req);

/* lookups.c */
void lookups_tables(struct request *req);
void lookups_list(struct request *req);
void lookups_create(struct request *req);
void lookups_get(struct request *req);
void lookups_patch(struct request *req);
void lookups_delete(struct request *req);

/* accounts.c */
void accounts_list(struct request *req);
void accounts_create(struct request *req);
void accounts_get(struct request *req);
void accounts_patch(struct request *req);
void accounts_delete(struct request *req);
void accounts_upsert(struct request *req);

#endif
