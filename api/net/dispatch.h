/* The one Ulfius callback: turns an Ulfius request into our request
 * context, runs limits -> routing -> auth -> body parsing -> handler, and
 * writes the reply with the common headers and the access-log line. */
#ifndef DISPATCH_H
#define DISPATCH_H
#include <ulfius.h>

/* user_data: the struct cors_policy every reply follows (cors.h). */
int dispatch_request(const struct _u_request *u_req, struct _u_response *u_resp, void *user_data);

#endif
