/* If-Match as the store takes it: one version, "*", none, or a list passed
 * beside the statements (api_check_version reads it). Used for requests
 * and for each operation of a batch (its if_match member). */
#ifndef APP_IF_MATCH_H
#define APP_IF_MATCH_H
#include "app/state.h"

void if_match_set(struct app_state *app, const struct etag_list *tags);

#endif
