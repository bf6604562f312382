/* The one Ulfius callback: turns an Ulfius request into our request
 * context, checks the transport's limits, hands the request to the
 * application, and writes the reply with the common headers. */
#ifndef NET_DISPATCH_H
#define NET_DISPATCH_H
#include <ulfius.h>

#include "http/cors.h"
#include "http/request.h"

/* What the transport serves: the application's entry points (app/pipeline.h)
 * and the CORS policy every reply follows. */
struct dispatch_app {
    void (*serve)(struct request *req, const struct cors_policy *cors);
    void (*completed)(const struct request *req, long duration_us);
    const struct cors_policy *cors;
};

/* user_data: a struct dispatch_app. */
int dispatch_request(const struct _u_request *u_req, struct _u_response *u_resp, void *user_data);

#endif
