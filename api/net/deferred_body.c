#include "net/deferred_body.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <ulfius.h>

#include "log.h"
#include "util/alloc.h"

enum body_state { BODY_PENDING, BODY_READY, BODY_FAILED };

struct deferred_body {
    pthread_mutex_t lock;
    pthread_cond_t done;
    enum body_state state;
    int refs;
    char *bytes;
    size_t length;
    deferred_compute_fn compute;
    void *job;
    void (*job_free)(void *);
    struct MHD_Connection *connection; /* suspended until body_finish resumes it */
    struct deferred_body *next; /* in the queue */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct deferred_body *head, *tail;
    bool stopping;
    pthread_t *threads;
    unsigned count;
} queue = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static void body_unref(struct deferred_body *b)
{
    pthread_mutex_lock(&b->lock);
    bool last = --b->refs == 0;
    pthread_mutex_unlock(&b->lock);
    if (!last)
        return;
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->done);
    free(b->bytes);
    free(b);
}

/* On a report thread: the body is done (or failed); its connection goes
 * back to libmicrohttpd's event loop, which then reads it. */
static void body_finish(struct deferred_body *b, bool ok, char *bytes, size_t length)
{
    if (b->job_free)
        b->job_free(b->job);
    b->job = NULL;
    pthread_mutex_lock(&b->lock);
    b->state = ok ? BODY_READY : BODY_FAILED;
    b->bytes = ok ? bytes : NULL;
    b->length = ok ? length : 0;
    pthread_cond_broadcast(&b->done);
    pthread_mutex_unlock(&b->lock);
    if (!ok)
        free(bytes);
    /* Still suspended, so libmicrohttpd has neither closed the connection
     * nor released the reply's reference: both are alive here. */
    MHD_resume_connection(b->connection);
    body_unref(b);
}

static void *report_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&queue.lock);
        while (queue.head == NULL && !queue.stopping)
            pthread_cond_wait(&queue.work, &queue.lock);
        struct deferred_body *b = queue.head;
        if (b == NULL) { /* stopping, nothing left */
            pthread_mutex_unlock(&queue.lock);
            return NULL;
        }
        queue.head = b->next;
        if (queue.head == NULL)
            queue.tail = NULL;
        pthread_mutex_unlock(&queue.lock);
        char *bytes = NULL;
        size_t length = 0;
        bool ok = b->compute(b->job, &bytes, &length);
        body_finish(b, ok, bytes, length);
    }
}

void deferred_start(unsigned threads)
{
    queue.stopping = false;
    queue.threads = xcalloc(threads, sizeof *queue.threads);
    queue.count = 0;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&queue.threads[i], NULL, report_thread, NULL) != 0) {
            log_error(NULL, "cannot start report thread %u", i + 1);
            break;
        }
        queue.count++;
    }
}

/* The queued bodies are still computed: their clients are waiting. */
void deferred_stop(void)
{
    pthread_mutex_lock(&queue.lock);
    queue.stopping = true;
    pthread_cond_broadcast(&queue.work);
    pthread_mutex_unlock(&queue.lock);
    for (unsigned i = 0; i < queue.count; i++)
        pthread_join(queue.threads[i], NULL);
    free(queue.threads);
    queue.threads = NULL;
    queue.count = 0;
}

static bool queue_stopping(void)
{
    pthread_mutex_lock(&queue.lock);
    bool stopping = queue.stopping || queue.count == 0;
    pthread_mutex_unlock(&queue.lock);
    return stopping;
}

struct deferred_body *deferred_body_start(deferred_compute_fn compute, void *job, void (*job_free)(void *),
                                          struct MHD_Connection *connection)
{
    if (queue_stopping())
        return NULL;
    struct deferred_body *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->done, NULL);
    b->state = BODY_PENDING;
    b->refs = 2;
    b->compute = compute;
    b->job = job;
    b->job_free = job_free;
    b->connection = connection;
    /* Before it is queued, so a report thread never resumes a connection
     * that is not suspended yet; and before libmicrohttpd sends the
     * headers: they go out right before the body. */
    MHD_suspend_connection(connection);
    pthread_mutex_lock(&queue.lock);
    bool accepted = !queue.stopping && queue.count > 0;
    if (accepted) {
        if (queue.tail)
            queue.tail->next = b;
        else
            queue.head = b;
        queue.tail = b;
        pthread_cond_signal(&queue.work);
    }
    pthread_mutex_unlock(&queue.lock);
    if (accepted)
        return b;
    /* The report threads stopped in between: undo, the caller computes. */
    MHD_resume_connection(connection);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->done);
    free(b);
    return NULL;
}

ssize_t deferred_body_read(void *cls, uint64_t offset, char *buf, size_t max)
{
    struct deferred_body *b = cls;
    pthread_mutex_lock(&b->lock);
    /* libmicrohttpd reads only once the report thread has resumed the
     * connection, after the body is done; and a reader may not return 0
     * (not yet) with libmicrohttpd's own polling threads. So this never
     * waits in practice; if it did, it would wait for the body. */
    while (b->state == BODY_PENDING)
        pthread_cond_wait(&b->done, &b->lock);
    ssize_t n;
    if (b->state == BODY_FAILED)
        n = U_STREAM_ERROR;
    else if (offset >= b->length)
        n = U_STREAM_END;
    else {
        size_t left = b->length - (size_t)offset;
        size_t take = left < max ? left : max;
        memcpy(buf, b->bytes + offset, take);
        n = (ssize_t)take;
    }
    pthread_mutex_unlock(&b->lock);
    return n;
}

void deferred_body_release(void *cls)
{
    body_unref(cls);
}
