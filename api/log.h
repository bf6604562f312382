/* Logging over Yder: one line per event, text or JSON, request id first. */
#ifndef LOG_H
#define LOG_H
#include <stdbool.h>

enum log_level { LOG_ERROR = 1, LOG_WARNING = 2, LOG_INFO = 3, LOG_DEBUG = 4 };

void log_init(enum log_level level, bool json);
void log_close(void);
/* request_id may be NULL for events outside a request. */
void log_msg(enum log_level level, const char *request_id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The access-log line written when a request completes. */
void log_access(const char *request_id, const char *method, const char *route, int status, long duration_us);

#define log_error(rid, ...) log_msg(LOG_ERROR, rid, __VA_ARGS__)
#define log_warning(rid, ...) log_msg(LOG_WARNING, rid, __VA_ARGS__)
#define log_info(rid, ...) log_msg(LOG_INFO, rid, __VA_ARGS__)
#define log_debug(rid, ...) log_msg(LOG_DEBUG, rid, __VA_ARGS__)

#endif
