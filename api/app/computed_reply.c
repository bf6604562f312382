#include "computed_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferred_body.h"
#include "lifecycle.h"
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
        http_reply_store_error(req, &res);
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

void http_reply_computed(struct request *req, const char *content_type, computed_document_fn compute,
                         const char *checked, computed_export_fn export, const char *what)
{
    struct MHD_Connection *connection = req->u_request ? lifecycle_connection_of(req->u_request) : NULL;
    if (connection == NULL) {
        log_warning(req->request_id, "%s: connection not found; computed on the HTTP thread", what);
        reply_computed_here(req, content_type, compute, checked, export, what);
        return;
    }
    struct computed_job *job = xcalloc(1, sizeof *job);
    job->compute = compute;
    job->export = export;
    job->checked = xstrdup(checked);
    job->what = what;
    snprintf(job->request_id, sizeof job->request_id, "%s", req->request_id);
    struct deferred_body *body = deferred_body_start(compute_body, job, computed_job_free, connection);
    if (body == NULL) { /* stopping: the report threads take no more work */
        computed_job_free(job);
        reply_computed_here(req, content_type, compute, checked, export, what);
        return;
    }
    http_reply_deferred(req, 200, content_type, body, deferred_body_release);
}
