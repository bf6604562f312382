/* crm-api: serve | migrate | create-admin --name N --email E
 *
 * The process: configuration, then every part started in order and
 * stopped in the reverse order (each _start/_open has its _stop/_close
 * here, and nowhere else). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/metrics.h"
#include "app/pipeline.h"
#include "app/validate.h"
#include "config.h"
#include "jobs/changes_retention.h"
#include "jobs/token_listener.h"
#include "jobs/totals_folder.h"
#include "jobs/webhook_worker.h"
#include "log.h"
#include "net/server.h"
#include "store/store.h"
#include "util/text.h"
#include "util/url_policy.h"

static int usage(void)
{
    fputs("usage: crm-api [serve | migrate | create-admin --name NAME --email EMAIL]\n", stderr);
    return 2;
}

static int create_admin(const struct config *cfg, int argc, char **argv)
{
    const char *name = NULL, *email = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--name") == 0)
            name = argv[i + 1];
        else if (strcmp(argv[i], "--email") == 0)
            email = argv[i + 1];
        else
            return usage();
    }
    if (name == NULL || email == NULL || argc % 2 != 0)
        return usage();
    /* The same rules as POST /users. */
    size_t name_length = utf8_valid(name, strlen(name)) ? utf8_length(name) : 0;
    if (name_length < 1 || name_length > 200 || !validate_email(email) || strlen(email) > 254) {
        fprintf(stderr, "crm-api: --name must be 1-200 characters and --email an address such as ada@example.com\n");
        return 2;
    }
    if (!store_migrate(cfg->database_url))
        return 1;
    char *error = NULL;
    char *token = store_create_admin(cfg->database_url, name, email, &error);
    if (token == NULL) {
        fprintf(stderr, "crm-api: cannot create the admin: %s\n", error ? error : "unknown error");
        free(error);
        return 1;
    }
    printf("%s\n", token);
    free(token);
    return 0;
}

/* A page of a list or of the change feed is a few hundred KB, made in
 * buffers freed after the reply. glibc would map each such buffer afresh
 * (above its mmap threshold) and hand freed memory back to the system
 * (its trim threshold), so every request paid page faults for them, on
 * this page the larger part of the server's CPU. Kept in the heap, the
 * next request reuses that memory. */
static void keep_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    const char *command = argc > 1 ? argv[1] : "serve";
    if (strcmp(command, "serve") != 0 && strcmp(command, "migrate") != 0 && strcmp(command, "create-admin") != 0)
        return usage();
    struct config cfg;
    if (!config_load(&cfg))
        return 1;
    log_init(cfg.log_level, cfg.log_json);
    int status;
    if (strcmp(command, "migrate") == 0) {
        status = store_migrate(cfg.database_url) ? 0 : 1;
    } else if (strcmp(command, "create-admin") == 0) {
        status = create_admin(&cfg, argc, argv);
    } else if (argc > 2) {
        status = usage();
    } else if (!store_migrate(cfg.database_url)) {
        log_error(NULL, "migrations failed; not serving");
        status = 1;
    } else {
        server_block_signals(); /* before any thread starts: they inherit the mask */
        metrics_init(cfg.metrics);
        store_open(cfg.database_url, cfg.db_pool_size);
        token_listener_start(cfg.database_url);
        totals_folder_start(cfg.database_url);
        changes_retention_start(cfg.database_url, cfg.changes_retention_days);
        url_policy_allow_private(cfg.webhook_allow_private);
        webhook_worker_start(cfg.database_url, cfg.webhook_workers, cfg.webhook_retry_scale);
        const struct dispatch_app app = {.serve = pipeline_serve, .completed = pipeline_completed, .cors = &cfg.cors};
        status = server_run(&cfg, &app);
        webhook_worker_stop();
        changes_retention_stop();
        totals_folder_stop();
        token_listener_stop();
        store_close();
        metrics_cleanup();
    }
    log_close();
    return status;
}
