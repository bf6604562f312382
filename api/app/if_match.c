#include "app/if_match.h"

#include <stdio.h>

void if_match_set(struct app_state *app, const struct etag_list *tags)
{
    if (!tags->present) {
        app->if_match = STORE_IF_MATCH_NONE;
    } else if (tags->any) {
        app->if_match = STORE_IF_MATCH_ANY;
    } else if (tags->count <= 1) {
        app->if_match = tags->count ? tags->versions[0] : 0; /* 0 matches nothing */
    } else {
        size_t used = 0;
        for (int i = 0; i < tags->count; i++)
            used += (size_t)snprintf(app->if_match_list + used, sizeof app->if_match_list - used, "%s%lld",
                                     i ? "," : "", (long long)(tags->versions[i] > INT32_MAX ? 0 : tags->versions[i]));
        app->if_match = STORE_IF_MATCH_LIST;
        app->auth.if_match_list = app->if_match_list;
    }
}

