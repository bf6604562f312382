/* Where webhooks may be sent: http(s) URLs whose host is a public
 * address. Loopback, private, link-local, shared (CGNAT), multicast and
 * reserved ranges are refused unless private targets are allowed
 * (WEBHOOK_ALLOW_PRIVATE=on). The URL is checked when a subscription is
 * saved, and every address is checked again at delivery time
 * (outbound/webhook_post.c), after resolving the name. */
#ifndef UTIL_URL_POLICY_H
#define UTIL_URL_POLICY_H
#include <stdbool.h>
#include <sys/socket.h>

#define URL_HOST_MAX 256

struct url_parts {
    bool https;
    char host[URL_HOST_MAX]; /* without the brackets of an IPv6 literal */
    unsigned port; /* the explicit port, or 80 / 443 */
};

/* Set once at start-up (config WEBHOOK_ALLOW_PRIVATE), read by any thread. */
void url_policy_allow_private(bool allow);
bool url_policy_private_allowed(void);

/* Splits an http(s) URL; NULL when it is fine, else why it is refused (a
 * phrase for a field error). No user name or password, no spaces or
 * control characters, a host of letters, digits, dots and hyphens, or an
 * IP literal. */
const char *url_parse(const char *url, struct url_parts *out);
/* url_parse, then the host: an IP literal (any form the resolver takes,
 * "127.1" too) or a name such as "localhost" must not be private unless
 * allowed. NULL when fine. */
const char *url_policy_check(const char *url);
/* True when a delivery may connect to this address (always when private
 * targets are allowed). */
bool url_policy_address_allowed(const struct sockaddr *address);

#endif
