/* libmicrohttpd's own messages (MHD_OPTION_EXTERNAL_LOGGER) in our log.
 * They tell of clients (a connection closed half-way, the connection limit
 * reached), so they go out at info, and at most MHD_LOG_PER_SECOND lines a
 * second: a flood of connections must not become a flood of log lines. */
#ifndef NET_MHD_LOG_H
#define NET_MHD_LOG_H
#include <stdarg.h>

#define MHD_LOG_PER_SECOND 20

void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
