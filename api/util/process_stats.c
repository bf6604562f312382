#include "util/process_stats.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool process_resident_memory_bytes(uint64_t *out)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return false;
    unsigned long long size_pages, resident_pages;
    bool ok = fscanf(f, "%llu %llu", &size_pages, &resident_pages) == 2;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (!ok || page <= 0)
        return false;
    *out = (uint64_t)resident_pages * (uint64_t)page;
    return true;
}

bool process_open_fds(uint64_t *out)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return false;
    int own = dirfd(dir);
    uint64_t count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && fd != own)
            count++;
    }
    closedir(dir);
    *out = count;
    return true;
}
