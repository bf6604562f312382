#include "app/computed_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/store_reply.h"
#include "log.h"
#include "util/alloc.h"

/* What a report thread needs to make the body. */
struct computed_job {
    computed_document_fn compute;
    computed_export_fn export;
    char *checked;
    const char *what;
    char request_id[64];
};

static void computed_job_free(void *p)
{
    struct computed_job *job = p;
    free(job->checked);
    free(job);
}

/* On a report thread: the document, as it is or exported. */
static bool compute_body(void *p, char **body, size_t *length)
{
    struct computed_job *job = p;
    struct store_result res;
    store_result_init(&res);
    bool ok = job->compute(job->request_id, job->checked, &res) == STORE_OK;
    if (!ok) {
        log_error(job->request_id, "%s failed after its check: %s", job->what, res.message ? res.message : "no detail");
    } else if (job->export == NULL) {
        *length = strlen(res.body);
        *body = res.body;
        res.body = NULL;
    } else {
        json_t *document = json_loads(res.body, 0, NULL);
        *body = document ? job->export(document, length) : NULL;
        json_decref(document);
        ok = *body != NULL;
        if (!ok)
            log_error(job->request_id, "%s could not be exported", job->what);
    }
    store_result_cleanup(&res);
    return ok;
}

/* On this thread, when no report thread takes the work (the server is
 * stopping) or the connection is unknown: the store's problem when the
 * computation fails, since nothing has been promised yet. */
static void reply_computed_here(struct request *req, const char *content_type, computed_document_fn compute,
                                const char *checked, computed_export_fn export, const char *what)
{
    struct store_result res;
    store_result_init(&res);
    if (compute(req->request_id, checked, &res) != STORE_OK) {
        reply_store_error(req, &res);
        goto out;
    }
    if (export == NULL) {
        size_t length = strlen(res.body);
        http_reply_take(req, 200, content_type, res.body, length);
        res.body = NULL;
        goto out;
    }
    json_t *document = json_loads(res.body, 0, NULL);
    size_t length = 0;
    char *body = document ? export(document, &length) : NULL;
    json_decref(document);
    if (body == NULL) {
        log_error(req->request_id, "%s could not be exported", what);
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        goto out;
    }
    http_reply_take(req, 200, content_type, body, length);
out:
    store_result_cleanup(&res);
}

void reply_computed(struct request *req, const char *content_type, computed_document_fn compute, const char *checked,
                    computed_export_fn export, const char *what)
{
    struct computed_job *job = xcalloc(1, sizeof *job);
    job->compute = compute;
    job->export = export;
    job->checked = xstrdup(checked);
    job->what = what;
    snprintf(job->request_id, sizeof job->request_id, "%s", req->request_id);
    enum defer_result deferred =
        req->defer ? req->defer(req, 200, content_type, compute_body, job, computed_job_free) : DEFER_NO_CONNECTION;
    if (deferred == DEFER_STARTED)
        return;
    computed_job_free(job);
    if (deferred == DEFER_NO_CONNECTION)
        log_warning(req->request_id, "%s: connection not found; computed on the HTTP thread", what);
    /* else stopping: the report threads take no more work */
    reply_computed_here(req, content_type, compute, checked, export, what);
}
