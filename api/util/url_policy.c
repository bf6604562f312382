#include "util/url_policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/text.h"

static atomic_bool allow_private;

void url_policy_allow_private(bool allow)
{
    atomic_store(&allow_private, allow);
}

bool url_policy_private_allowed(void)
{
    return atomic_load(&allow_private);
}

const char *url_parse(const char *url, struct url_parts *out)
{
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
            return "must not contain spaces, control characters or backslashes";
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        out->https = true;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        out->https = false;
        rest = url + 7;
    } else {
        return "must be an http:// or https:// URL";
    }
    size_t authority = strcspn(rest, "/?#");
    if (memchr(rest, '@', authority))
        return "must not carry a user name or password";
    const char *host = rest, *port = NULL;
    size_t host_len;
    if (authority > 0 && rest[0] == '[') {
        const char *close = memchr(rest, ']', authority);
        if (close == NULL)
            return "has an unclosed [ in its host";
        host = rest + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < rest + authority) {
            if (close[1] != ':')
                return "has characters after its IPv6 host";
            port = close + 2;
        }
        char literal[64];
        struct in6_addr a6;
        if (host_len == 0 || host_len >= sizeof literal)
            return "has an invalid IPv6 host";
        memcpy(literal, host, host_len);
        literal[host_len] = '\0';
        if (inet_pton(AF_INET6, literal, &a6) != 1)
            return "has an invalid IPv6 host";
    } else {
        const char *colon = memchr(rest, ':', authority);
        host_len = colon ? (size_t)(colon - rest) : authority;
        port = colon ? colon + 1 : NULL;
        for (size_t i = 0; i < host_len; i++)
            if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
                return "must have a host of letters, digits, dots and hyphens, or an IP address";
    }
    if (host_len == 0)
        return "must name a host";
    if (host_len >= URL_HOST_MAX)
        return "has a host over 255 characters";
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = out->https ? 443 : 80;
    if (port) {
        size_t port_len = (size_t)(rest + authority - port);
        char digits[8];
        long n;
        if (port_len == 0 || port_len >= sizeof digits)
            return "has an invalid port";
        memcpy(digits, port, port_len);
        digits[port_len] = '\0';
        for (size_t i = 0; i < port_len; i++)
            if (!isdigit((unsigned char)digits[i]))
                return "has an invalid port";
        if (!parse_int_range(digits, 1, 65535, &n))
            return "has a port outside 1-65535";
        out->port = (unsigned)n;
    }
    return NULL;
}

/* IPv4 ranges that are not the public internet (network, prefix length). */
static const struct {
    uint32_t net;
    int bits;
} v4_refused[] = {
    {0x00000000, 8}, /* "this network", 0.0.0.0 */
    {0x0A000000, 8}, /* 10/8 private */
    {0x64400000, 10}, /* 100.64/10 shared (CGNAT) */
    {0x7F000000, 8}, /* loopback */
    {0xA9FE0000, 16}, /* 169.254/16 link-local (cloud metadata) */
    {0xAC100000, 12}, /* 172.16/12 private */
    {0xC0000000, 24}, /* 192.0.0/24 protocol assignments */
    {0xC0000200, 24}, /* 192.0.2/24 documentation */
    {0xC0586300, 24}, /* 192.88.99/24 6to4 relay */
    {0xC0A80000, 16}, /* 192.168/16 private */
    {0xC6120000, 15}, /* 198.18/15 benchmarking */
    {0xC6336400, 24}, /* 198.51.100/24 documentation */
    {0xCB007100, 24}, /* 203.0.113/24 documentation */
    {0xE0000000, 4}, /* multicast */
    {0xF0000000, 4}, /* reserved, broadcast */
};

static bool v4_public(uint32_t a)
{
    for (size_t i = 0; i < sizeof v4_refused / sizeof v4_refused[0]; i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - v4_refused[i].bits);
        if ((a & mask) == v4_refused[i].net)
            return false;
    }
    return true;
}

static bool v6_public(const unsigned char *b)
{
    static const unsigned char zeros[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t embedded = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public(embedded); /* ::ffff:a.b.c.d, 64:ff9b::a.b.c.d */
    if (memcmp(b, zeros, 12) == 0)
        return false; /* ::, ::1, IPv4-compatible */
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 site-local */
        return false;
    if (b[0] == 0xff) /* multicast */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 documentation */
        return false;
    if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zeros, 6) == 0) /* 100::/64 discard */
        return false;
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4: the IPv4 inside decides */
        return v4_public((uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5]);
    return true;
}

bool url_policy_address_allowed(const struct sockaddr *address)
{
    if (url_policy_private_allowed())
        return true;
    if (address->sa_family == AF_INET)
        return v4_public(ntohl(((const struct sockaddr_in *)(const void *)address)->sin_addr.s_addr));
    if (address->sa_family == AF_INET6)
        return v6_public(((const struct sockaddr_in6 *)(const void *)address)->sin6_addr.s6_addr);
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

const char *url_policy_check(const char *url)
{
    struct url_parts parts;
    const char *why = url_parse(url, &parts);
    if (why != NULL || url_policy_private_allowed())
        return why;
    static const char refused[] = "must not point to a loopback, private, link-local or reserved address";
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_aton(parts.host, &a4) == 1) /* every IPv4 form a resolver takes: 127.1, 0x7f000001 */
        return v4_public(ntohl(a4.s_addr)) ? NULL : refused;
    if (inet_pton(AF_INET6, parts.host, &a6) == 1)
        return v6_public(a6.s6_addr) ? NULL : refused;
    if (strcasecmp(parts.host, "localhost") == 0 || ends_with(parts.host, ".localhost") ||
        ends_with(parts.host, ".local") || ends_with(parts.host, ".internal") || strchr(parts.host, '.') == NULL)
        return "must name a public host (a name without dots, localhost, .local and .internal are refused)";
    return NULL;
}
