#include "outbound/webhook_post.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "util/url_policy.h"
#include "util/webhook_signature.h"

struct webhook_client {
    CURL *curl;
};

bool webhook_post_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void webhook_post_cleanup(void)
{
    curl_global_cleanup();
}

struct webhook_client *webhook_client_new(void)
{
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return NULL;
    struct webhook_client *client = xcalloc(1, sizeof *client);
    client->curl = curl;
    return client;
}

void webhook_client_free(struct webhook_client *client)
{
    if (client == NULL)
        return;
    curl_easy_cleanup(client->curl);
    free(client);
}

/* The last word on where a delivery goes: every socket curl opens. */
static curl_socket_t open_checked_socket(void *data, curlsocktype purpose, struct curl_sockaddr *address)
{
    if (purpose != CURLSOCKTYPE_IPCXN || !url_policy_address_allowed(&address->addr)) {
        *(bool *)data = true;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

/* The receiver's answer is not kept. */
static size_t discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

/* Resolves host and writes "host:port:address" of its first allowed
 * address into pin; false with out->error when there is none. */
static bool resolve_allowed(const struct url_parts *parts, char *pin, size_t pin_size, struct webhook_attempt *out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    int rc = getaddrinfo(parts->host, NULL, &hints, &found);
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "cannot resolve %.120s: %s", parts->host, gai_strerror(rc));
        return false;
    }
    bool ok = false;
    for (struct addrinfo *ai = found; ai && !ok; ai = ai->ai_next) {
        if (!url_policy_address_allowed(ai->ai_addr))
            continue;
        char text[INET6_ADDRSTRLEN];
        const void *raw = ai->ai_family == AF_INET
                              ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                              : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
        if (inet_ntop(ai->ai_family, raw, text, sizeof text) == NULL)
            continue;
        int n = ai->ai_family == AF_INET6 ? snprintf(pin, pin_size, "%s:%u:[%s]", parts->host, parts->port, text)
                                          : snprintf(pin, pin_size, "%s:%u:%s", parts->host, parts->port, text);
        ok = n > 0 && (size_t)n < pin_size;
    }
    freeaddrinfo(found);
    if (!ok)
        snprintf(out->error, sizeof out->error,
                 "refused: %.120s resolves only to loopback, private, link-local or reserved addresses", parts->host);
    return ok;
}

static int progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    bool (*cancelled)(void) = *(bool (**)(void))data;
    return cancelled != NULL && cancelled() ? 1 : 0;
}

void webhook_post(struct webhook_client *client, const char *url, const char *secret, const char *event_id,
                  const char *body, bool (*cancelled)(void), struct webhook_attempt *out)
{
    out->status = 0;
    out->error[0] = '\0';
    struct url_parts parts;
    const char *why = url_parse(url, &parts);
    if (why != NULL) {
        snprintf(out->error, sizeof out->error, "refused: the URL %s", why);
        return;
    }
    char pin[URL_HOST_MAX + 64];
    if (!resolve_allowed(&parts, pin, sizeof pin, out))
        return;
    long long now = (long long)time(NULL);
    char signature[WEBHOOK_SIGNATURE_SIZE], id_header[320], time_header[64], signature_header[80];
    if (!webhook_sign(secret, event_id, now, body, strlen(body), signature)) {
        snprintf(out->error, sizeof out->error, "cannot sign the event (bad secret or event id)");
        return;
    }
    snprintf(id_header, sizeof id_header, "webhook-id: %s", event_id);
    snprintf(time_header, sizeof time_header, "webhook-timestamp: %lld", now);
    snprintf(signature_header, sizeof signature_header, "webhook-signature: %s", signature);
    struct curl_slist *headers = NULL, *resolve = NULL, *h;
    const char *lines[] = {"Content-Type: application/json",
                           "User-Agent: pipeline-api-webhooks/1",
                           "Expect:",
                           id_header,
                           time_header,
                           signature_header};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if ((h = curl_slist_append(headers, lines[i])) == NULL)
            goto done;
        headers = h;
    }
    if ((resolve = curl_slist_append(NULL, pin)) == NULL)
        goto done;
    CURL *curl = client->curl;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never through an environment's proxy */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    bool refused = false;
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &refused);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)&cancelled);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(out->error, sizeof out->error, "%s",
                 refused                           ? "refused: a private or reserved address"
                 : rc == CURLE_OPERATION_TIMEDOUT  ? "timed out after 10 s"
                 : rc == CURLE_ABORTED_BY_CALLBACK ? "cancelled"
                                                   : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->status < 200 || out->status > 299)
            snprintf(out->error, sizeof out->error, "HTTP %ld", out->status);
    }
done:
    if (out->status == 0 && out->error[0] == '\0')
        snprintf(out->error, sizeof out->error, "out of memory");
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
}
