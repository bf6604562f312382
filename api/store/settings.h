/* Company-wide settings (one row). */
#ifndef STORE_SETTINGS_H
#define STORE_SETTINGS_H
#include "store/store.h"

enum store_status store_settings_get(struct store_auth *auth, struct store_result *res);
enum store_status store_settings_patch(struct store_auth *auth, const char *json, struct store_if_match if_match,
                                       struct store_result *res);

#endif
