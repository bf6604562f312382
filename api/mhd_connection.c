#include "mhd_connection.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <ulfius.h>

/* Per pool thread: the connections whose request lines it read last. A
 * connection's handler runs on the thread that read its request line,
 * after at most a few other request lines: far fewer than the slots. */
#define SLOTS 256

static _Thread_local struct {
    struct sockaddr_in client;
    struct MHD_Connection *con;
} seen[SLOTS];
static _Thread_local unsigned next_slot;

static bool same_client(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

void *mhd_connection_uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *client = (const struct sockaddr_in *)info->client_addr;
        unsigned slot = SLOTS;
        for (unsigned i = 0; i < SLOTS && slot == SLOTS; i++)
            if (seen[i].con && same_client(&seen[i].client, client))
                slot = i;
        if (slot == SLOTS) { /* a new client: the oldest slot */
            slot = next_slot;
            next_slot = (next_slot + 1) % SLOTS;
        }
        seen[slot].client = *client;
        seen[slot].con = con;
    }
    return ulfius_uri_logger(cls, uri);
}

struct MHD_Connection *mhd_connection_of(const struct sockaddr *client)
{
    if (client == NULL || client->sa_family != AF_INET)
        return NULL;
    for (unsigned i = 0; i < SLOTS; i++)
        if (seen[i].con && same_client(&seen[i].client, (const struct sockaddr_in *)client))
            return seen[i].con;
    return NULL;
}
