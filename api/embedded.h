/* Files compiled into the binary (see scripts/embed.sh): the SQL of db/
 * (schema files, then functions files, in the order they are applied), the
 * OpenAPI document and the /docs page. */
#ifndef EMBEDDED_H
#define EMBEDDED_H
#include <stddef.h>

struct embedded_file {
    const char *name; /* repository path, e.g. "db/schema/0001_foundation.sql" */
    const unsigned char *data;
    size_t size;
};

/* Terminated by an entry whose name is NULL. */
extern const struct embedded_file embedded_files[];

/* The file with this repository path, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
