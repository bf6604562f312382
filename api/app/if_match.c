#include "app/if_match.h"

#include <string.h>

void if_match_set(struct app_state *app, const struct etag_list *tags)
{
    if (!tags->present) {
        app->if_match = (struct store_if_match){.kind = STORE_IF_MATCH_NONE};
    } else if (tags->any) {
        app->if_match = (struct store_if_match){.kind = STORE_IF_MATCH_ANY};
    } else if (tags->count <= 1) { /* no version in the list: version 0 matches nothing */
        app->if_match =
            (struct store_if_match){.kind = STORE_IF_MATCH_VERSION, .version = tags->count ? tags->versions[0] : 0};
    } else {
        memcpy(app->if_match_versions, tags->versions, (size_t)tags->count * sizeof tags->versions[0]);
        app->if_match = (struct store_if_match){
            .kind = STORE_IF_MATCH_LIST, .versions = app->if_match_versions, .version_count = tags->count};
    }
}
