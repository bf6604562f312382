/* The process's own figures for /metrics, read from /proc/self (Linux). */
#ifndef PROCESS_STATS_H
#define PROCESS_STATS_H
#include <stdbool.h>
#include <stdint.h>

/* Resident set size in bytes (/proc/self/statm); false when unreadable. */
bool process_resident_memory_bytes(uint64_t *out);
/* Open file descriptors (/proc/self/fd, the one used to list it left
 * out); false when unreadable. */
bool process_open_fds(uint64_t *out);

#endif
