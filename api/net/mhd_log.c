#include "net/mhd_log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static atomic_llong window; /* the second being counted */
static atomic_int in_window; /* messages in it so far */
static atomic_int suppressed; /* over the limit since the last line written */

void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    long long now = (long long)time(NULL);
    long long seen = atomic_load(&window);
    if (seen != now && atomic_compare_exchange_strong(&window, &seen, now))
        atomic_store(&in_window, 0);
    if (atomic_fetch_add(&in_window, 1) >= MHD_LOG_PER_SECOND) {
        atomic_fetch_add(&suppressed, 1);
        return;
    }
    char message[512];
    vsnprintf(message, sizeof message, fmt, ap);
    size_t len = strlen(message);
    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
        message[--len] = '\0';
    int dropped = atomic_exchange(&suppressed, 0);
    if (dropped)
        log_info(NULL, "libmicrohttpd: %s (and %d similar messages not logged)", message, dropped);
    else
        log_info(NULL, "libmicrohttpd: %s", message);
}
