/* Whether the process is draining (SPEC 10): from SIGTERM on, /readyz
 * answers 503 and every reply closes its connection. Set by the server
 * (net/server.c), read by any layer. */
#ifndef DRAINING_H
#define DRAINING_H
#include <stdbool.h>

void draining_begin(void);
bool draining(void);

#endif
