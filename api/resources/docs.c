/* GET /docs and GET /docs/{asset}: the interactive API reference (Redoc
 * rendering /openapi.yaml) and its script, both compiled into the binary
 * (scripts/docs-bundle.sh, scripts/embed.sh). Public, no token. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "embedded.h"
#include "resources/resources.h"
#include "util/alloc.h"
#include "util/token.h"

#define DOCS_PAGE "docs/index.html"
#define DOCS_PREFIX "docs/"

/* As tight as Redoc allows (each source checked in Chromium): it fetches
 * the document (connect-src), adds its styles through <style> elements at
 * run time (style-src 'unsafe-inline'; without it nothing renders), runs
 * its search index in a worker made from a blob: URL and draws icons from
 * data: URLs. No font, no stylesheet file, nothing from another origin. */
static const char docs_csp[] = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; "
                               "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'";

/* The page names the script by its hash, so the script never changes under
 * its URL and may be cached for good; the page is revalidated each time. */
static const char cache_page[] = "no-cache";
static const char cache_asset[] = "public, max-age=31536000, immutable";

#define DOCS_MAX_FILES 8
static struct {
    const struct embedded_file *file;
    char etag[20]; /* "16 hex digits of the SHA-256" */
} etags[DOCS_MAX_FILES];
static int etag_count;
static pthread_once_t etags_once = PTHREAD_ONCE_INIT;

static void etags_compute(void)
{
    for (const struct embedded_file *f = embedded_files; f->name && etag_count < DOCS_MAX_FILES; f++) {
        if (strncmp(f->name, DOCS_PREFIX, strlen(DOCS_PREFIX)) != 0)
            continue;
        char hex[TOKEN_HASH_HEX_SIZE];
        token_hash_bytes(f->data, f->size, hex);
        etags[etag_count].file = f;
        snprintf(etags[etag_count].etag, sizeof etags[etag_count].etag, "\"%.16s\"", hex);
        etag_count++;
    }
}

/* The file's ETag (borrowed), computed once for all the docs files. */
static const char *etag_of(const struct embedded_file *f)
{
    pthread_once(&etags_once, etags_compute);
    for (int i = 0; i < etag_count; i++)
        if (etags[i].file == f)
            return etags[i].etag;
    return NULL;
}

/* True when an If-None-Match header names this ETag or "*"; W/ tags
 * compare weakly, as RFC 9110 wants for If-None-Match. */
static bool etag_listed(const char *header, const char *etag)
{
    if (header == NULL)
        return false;
    size_t len = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, len) == 0 && (p[len] == '\0' || p[len] == ',' || p[len] == ' ' || p[len] == '\t'))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "text/html; charset=utf-8";
}

static void reply_file(struct request *req, const struct embedded_file *f, const char *cache_control)
{
    const char *etag = etag_of(f);
    http_header(req, "Cache-Control", cache_control);
    http_header(req, "X-Content-Type-Options", "nosniff");
    if (etag)
        http_header(req, "ETag", etag);
    if (etag && etag_listed(req->if_none_match_header, etag)) {
        http_reply_empty(req, 304);
        return;
    }
    http_reply_take(req, 200, content_type_of(f->name), xstrndup((const char *)f->data, f->size), f->size);
}

void docs_page(struct request *req)
{
    const struct embedded_file *f = embedded_find(DOCS_PAGE);
    if (f == NULL) {
        http_reply_problem(req, PROBLEM_INTERNAL, NULL);
        return;
    }
    http_header(req, "Content-Security-Policy", docs_csp);
    http_header(req, "Referrer-Policy", "no-referrer");
    reply_file(req, f, cache_page);
}

void docs_asset(struct request *req)
{
    const char *asset = http_path(req, 0);
    char name[128];
    const struct embedded_file *f = NULL;
    if (strchr(asset, '/') == NULL && snprintf(name, sizeof name, "%s%s", DOCS_PREFIX, asset) < (int)sizeof name &&
        strcmp(name, DOCS_PAGE) != 0)
        f = embedded_find(name);
    if (f == NULL) {
        http_reply_problem(req, PROBLEM_NOT_FOUND, "No such file of the docs page.");
        return;
    }
    reply_file(req, f, cache_asset);
}
