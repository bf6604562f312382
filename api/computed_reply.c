#include "computed_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferred_body.h"
#include "log.h"
#include "mhd_connection.h"
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

void http_reply_computed(struct request *req, const char *content_type, computed_document_fn compute, char *checked,
                         computed_export_fn export, const char *what)
{
    struct computed_job *job = xcalloc(1, sizeof *job);
    job->compute = compute;
    job->export = export;
    job->checked = checked;
    job->what = what;
    snprintf(job->request_id, sizeof job->request_id, "%s", req->request_id);
    http_reply_deferred(req, 200, content_type,
                        deferred_body_start(compute_body, job, computed_job_free, mhd_connection_of(req->client)));
}
