/* The request pipeline: what runs between the transport and a route's
 * handler. In order: routing (404, 405 + Allow, CORS preflights), the
 * token's shape, the body, the query string, the Idempotency-Key and the
 * preconditions; then the handler; then the keyed write's commit and the
 * token check of a reply made before any store call. The transport calls
 * pipeline_serve for every request within its limits, and
 * pipeline_completed once the reply is handed over. */
#ifndef APP_PIPELINE_H
#define APP_PIPELINE_H
#include "http/cors.h"
#include "http/request.h"

/* Fills req's reply (req->method, url, body and transport set, the
 * request id too). cors: the policy OPTIONS answers follow. */
void pipeline_serve(struct request *req, const struct cors_policy *cors);
/* The access-log line and the request metrics of a reply sent. */
void pipeline_completed(const struct request *req, long duration_us);

#endif
