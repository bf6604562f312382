/* Who calls: the bearer token read from the request, and the check of a
 * token that no store call has checked yet. The check itself runs in the
 * database with the request's own statements (store/db.c). */
#ifndef APP_AUTH_H
#define APP_AUTH_H
#include <stdbool.h>

#include "http/request.h"

/* Sets up req->app->auth for the route; a route that needs a token and
 * got none in the Authorization: Bearer form is answered 401 (false). */
bool auth_read_token(struct request *req);
/* A reply made before any store call (a bad body, a bad id, a handler
 * that needs no data) has not checked the token yet: checks it now, so
 * an unknown token gets 401 and a member 403, whatever else is wrong. */
void auth_check_unchecked(struct request *req);

#endif
