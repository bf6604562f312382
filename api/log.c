#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <yder.h>

#include "util/strbuf.h"

static enum log_level log_threshold = LOG_INFO;
static bool log_json;

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_ERROR:
        return "error";
    case LOG_WARNING:
        return "warning";
    case LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

/* Yder hands every message to this callback; it goes out in one write(2),
 * newline included, so lines from different threads never interleave. */
static void write_line(void *cls, const char *app, const time_t date, const unsigned long level, const char *message)
{
    (void)cls;
    (void)app;
    (void)date;
    (void)level;
    struct iovec line[2] = {{(void *)message, strlen(message)}, {"\n", 1}};
    if (writev(STDERR_FILENO, line, 2) < 0) {
        /* Nowhere left to report a failed log write. */
    }
}

void log_init(enum log_level level, bool json)
{
    log_threshold = level;
    log_json = json;
    y_init_logs("crm-api", Y_LOG_MODE_CALLBACK, Y_LOG_LEVEL_DEBUG, NULL, "starting");
    y_set_logs_callback(write_line, NULL, NULL);
}

void log_close(void)
{
    y_close_logs();
}

static void timestamp(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* A message is cut at LOG_MESSAGE_MAX - 1 bytes; as a JSON string each
 * byte takes at most 6 ("\u001f"), and the request id (63 printable
 * characters) at most 2 each, so a line is always under LOG_LINE_MAX. */
#define LOG_MESSAGE_MAX 2048
#define LOG_LINE_MAX (6 * LOG_MESSAGE_MAX + 1024)
/* A method is logged as sent; one longer than this (no real method is, but
 * libmicrohttpd takes any token its request line can hold) is logged as
 * "-", so an access line stays under LOG_LINE_MAX as well. */
#define LOG_METHOD_MAX 1024

/* A line that passed its bound anyway is replaced, never cut. */
static void emit(enum log_level level, const char *text)
{
    unsigned long ylevel = level == LOG_ERROR     ? Y_LOG_LEVEL_ERROR
                           : level == LOG_WARNING ? Y_LOG_LEVEL_WARNING
                           : level == LOG_INFO    ? Y_LOG_LEVEL_INFO
                                                  : Y_LOG_LEVEL_DEBUG;
    y_log_message(ylevel, "%s", text ? text : "(a log line passed its bound and was left out)");
}

void log_msg(enum log_level level, const char *request_id, const char *fmt, ...)
{
    if (level > log_threshold)
        return;
    char message[LOG_MESSAGE_MAX];
    char ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    timestamp(ts, sizeof ts);

    struct strbuf line;
    strbuf_init(&line, LOG_LINE_MAX);
    if (log_json) {
        strbuf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"request_id\":", ts, level_name(level));
        if (request_id)
            strbuf_json_string(&line, request_id);
        else
            strbuf_puts(&line, "null");
        strbuf_puts(&line, ",\"message\":");
        strbuf_json_string(&line, message);
        strbuf_puts(&line, "}");
    } else {
        strbuf_printf(&line, "%s %s [%s] %s", ts, level_name(level), request_id ? request_id : "-", message);
    }
    emit(level, line.data);
    strbuf_cleanup(&line);
}

void log_access(const char *request_id, const char *method, const char *route, int status, long duration_us)
{
    if (LOG_INFO > log_threshold)
        return;
    char ts[40];
    timestamp(ts, sizeof ts);
    if (strlen(method) > LOG_METHOD_MAX)
        method = "-";
    struct strbuf line;
    strbuf_init(&line, LOG_LINE_MAX);
    if (log_json) {
        strbuf_printf(&line, "{\"time\":\"%s\",\"level\":\"info\",\"request_id\":", ts);
        strbuf_json_string(&line, request_id);
        strbuf_puts(&line, ",\"method\":");
        strbuf_json_string(&line, method);
        strbuf_puts(&line, ",\"route\":");
        strbuf_json_string(&line, route);
        strbuf_printf(&line, ",\"status\":%d,\"duration_us\":%ld}", status, duration_us);
    } else {
        strbuf_printf(&line, "%s access [%s] %s %s %d %ldus", ts, request_id, method, route, status, duration_us);
    }
    emit(LOG_INFO, line.data);
    strbuf_cleanup(&line);
}
