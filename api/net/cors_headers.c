#include "net/cors_headers.h"

#include <stdio.h>
#include <strings.h>
#include <ulfius.h>

/* One Vary header, whatever the reply had set already. */
static void add_vary_origin(struct _u_map *headers)
{
    for (int i = 0; i < headers->nb_values; i++) {
        if (strcasecmp(headers->keys[i], "Vary") != 0)
            continue;
        const char *now = headers->values[i];
        if (now && cors_vary_lists_origin(now))
            return;
        char merged[256];
        const char *value = "Origin";
        if (now && *now) {
            int n = snprintf(merged, sizeof merged, "%s, Origin", now);
            value = n > 0 && (size_t)n < sizeof merged ? merged : "*"; /* too long to merge: varies on anything */
        }
        u_map_put(headers, headers->keys[i], value); /* replaces the value of this very key */
        return;
    }
    u_map_put(headers, "Vary", "Origin");
}

void cors_add_reply_headers(const struct cors_policy *policy, const char *origin, struct _u_map *headers)
{
    if (policy->mode == CORS_OFF)
        return;
    struct cors_reply reply = cors_reply_for(policy, origin);
    if (reply.vary_origin)
        add_vary_origin(headers);
    if (reply.allow_origin == NULL)
        return;
    u_map_put(headers, "Access-Control-Allow-Origin", reply.allow_origin);
    u_map_put(headers, "Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS);
}
