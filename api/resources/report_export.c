#include "resources/report_export.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "log.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/text.h"

/* The three figures of a cell, in column order. */
static const char *const measures[] = {"count", "value", "weighted_value"};
#define MEASURES 3

/* A result document, checked: every row has one cell per period. */
struct grid {
    const char *split_by;
    const char *name; /* the saved report's name, or NULL */
    const json_t *periods, *rows, *totals, *grand_total;
    size_t period_count;
    size_t line_count; /* the rows and the "Total" line */
    size_t column_count;
};

static bool cell_ok(const json_t *cell)
{
    return json_is_integer(json_object_get(cell, "count")) && json_is_string(json_object_get(cell, "value")) &&
           json_is_string(json_object_get(cell, "weighted_value"));
}

static bool cells_ok(const json_t *cells, size_t count)
{
    if (!json_is_array(cells) || json_array_size(cells) != count)
        return false;
    for (size_t i = 0; i < count; i++)
        if (!cell_ok(json_array_get(cells, i)))
            return false;
    return true;
}

static bool grid_of(const json_t *result, struct grid *g)
{
    const json_t *report = json_object_get(result, "report");
    g->split_by = json_string_value(json_object_get(report, "split_by"));
    g->name = json_string_value(json_object_get(report, "name"));
    g->periods = json_object_get(result, "periods");
    g->rows = json_object_get(result, "rows");
    g->totals = json_object_get(result, "totals");
    g->grand_total = json_object_get(result, "grand_total");
    if (g->split_by == NULL || !json_is_array(g->periods) || !json_is_array(g->rows))
        return false;
    g->period_count = json_array_size(g->periods);
    g->line_count = json_array_size(g->rows) + 1;
    g->column_count = 1 + MEASURES * (g->period_count + 1);
    for (size_t i = 0; i < g->period_count; i++)
        if (!json_is_string(json_object_get(json_array_get(g->periods, i), "key")))
            return false;
    for (size_t i = 0; i + 1 < g->line_count; i++) {
        const json_t *row = json_array_get(g->rows, i);
        const json_t *label = json_object_get(row, "label");
        if (!(json_is_string(label) || json_is_null(label)) ||
            !cells_ok(json_object_get(row, "cells"), g->period_count) || !cell_ok(json_object_get(row, "total")))
            return false;
    }
    return cells_ok(g->totals, g->period_count) && cell_ok(g->grand_total);
}

/* The header of column col (after the label column) into buf. */
static const char *column_header(const struct grid *g, size_t col, char *buf, size_t size)
{
    if (col == 0)
        return g->split_by;
    size_t period = (col - 1) / MEASURES;
    const char *key = period < g->period_count
                          ? json_string_value(json_object_get(json_array_get(g->periods, period), "key"))
                          : "total";
    snprintf(buf, size, "%s %s", key, measures[(col - 1) % MEASURES]);
    return buf;
}

/* Line i: a row of the result, or (the last) the "Total" line. */
static void line_at(const struct grid *g, size_t i, const char **label, const json_t **cells, const json_t **total)
{
    if (i + 1 == g->line_count) {
        *label = "Total";
        *cells = g->totals;
        *total = g->grand_total;
        return;
    }
    const json_t *row = json_array_get(g->rows, i);
    *label = json_string_value(json_object_get(row, "label"));
    if (*label == NULL)
        *label = "";
    *cells = json_object_get(row, "cells");
    *total = json_object_get(row, "total");
}

/* The cell under column col (>= 1) of a line. */
static const json_t *line_figure(const struct grid *g, const json_t *cells, const json_t *total, size_t col)
{
    size_t period = (col - 1) / MEASURES;
    const json_t *cell = period < g->period_count ? json_array_get(cells, period) : total;
    return json_object_get(cell, measures[(col - 1) % MEASURES]);
}

/* A file, CSV or XLSX, is at most this big. A CSV line is under 6 KB
 * even for a window of 5 years by month (187 columns), so this is some
 * 11,000 split keys (salespeople, statuses, forecast categories); a larger
 * result is an export error (logged, 500), never a file cut short. */
#define EXPORT_MAX_BYTES (64u << 20)

/* ------------------------------------------------------------------ CSV */

static void csv_field(struct strbuf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        strbuf_puts(b, s);
        return;
    }
    strbuf_puts(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            strbuf_puts(b, "\"\"");
        else
            strbuf_append(b, p, 1);
    }
    strbuf_puts(b, "\"");
}

char *report_export_csv(const json_t *result, size_t *length)
{
    struct grid g;
    if (!grid_of(result, &g))
        return NULL;
    struct strbuf b;
    strbuf_init(&b, EXPORT_MAX_BYTES);
    char text[160];
    for (size_t col = 0; col < g.column_count; col++) {
        if (col)
            strbuf_puts(&b, ",");
        csv_field(&b, column_header(&g, col, text, sizeof text));
    }
    strbuf_puts(&b, "\r\n");
    for (size_t i = 0; i < g.line_count; i++) {
        const char *label;
        const json_t *cells, *total;
        line_at(&g, i, &label, &cells, &total);
        csv_field(&b, label);
        for (size_t col = 1; col < g.column_count; col++) {
            const json_t *figure = line_figure(&g, cells, total, col);
            if (json_is_integer(figure))
                snprintf(text, sizeof text, "%lld", (long long)json_integer_value(figure));
            else
                snprintf(text, sizeof text, "%s", json_string_value(figure));
            strbuf_puts(&b, ",");
            csv_field(&b, text);
        }
        strbuf_puts(&b, "\r\n");
    }
    *length = b.len;
    return strbuf_take(&b); /* NULL past EXPORT_MAX_BYTES */
}

/* ----------------------------------------------------------------- XLSX */

#define LABEL_WIDTH_MIN 12
#define LABEL_WIDTH_MAX 60

struct xlsx_formats {
    lxw_format *bold, *money, *bold_number, *bold_money;
};

static void write_figure(lxw_worksheet *sheet, lxw_row_t row, lxw_col_t col, const json_t *figure,
                         const struct xlsx_formats *f, bool bold)
{
    if (json_is_integer(figure)) {
        worksheet_write_number(sheet, row, col, (double)json_integer_value(figure), bold ? f->bold_number : NULL);
        return;
    }
    /* The spreadsheet's number type; the exact text stays in JSON and CSV. */
    worksheet_write_number(sheet, row, col, strtod(json_string_value(figure), NULL), bold ? f->bold_money : f->money);
}

static void write_sheet(lxw_workbook *book, const struct grid *g)
{
    lxw_doc_properties properties = {.title = (char *)(g->name ? g->name : "Forecast")};
    workbook_set_properties(book, &properties);
    lxw_worksheet *sheet = workbook_add_worksheet(book, "Forecast");
    struct xlsx_formats f = {workbook_add_format(book), workbook_add_format(book), workbook_add_format(book),
                             workbook_add_format(book)};
    format_set_bold(f.bold);
    format_set_bold(f.bold_number);
    format_set_num_format(f.money, "#,##0.00");
    format_set_num_format(f.bold_money, "#,##0.00");
    format_set_bold(f.bold_money);

    char text[160];
    size_t label_width = LABEL_WIDTH_MIN;
    for (size_t col = 0; col < g->column_count; col++) {
        const char *header = column_header(g, col, text, sizeof text);
        worksheet_write_string(sheet, 0, (lxw_col_t)col, header, f.bold);
        if (col > 0)
            worksheet_set_column(sheet, (lxw_col_t)col, (lxw_col_t)col, (double)strlen(header) + 2, NULL);
    }
    for (size_t i = 0; i < g->line_count; i++) {
        const char *label;
        const json_t *cells, *total;
        line_at(g, i, &label, &cells, &total);
        bool totals = i + 1 == g->line_count;
        lxw_row_t row = (lxw_row_t)(i + 1);
        worksheet_write_string(sheet, row, 0, label, totals ? f.bold : NULL);
        if (utf8_length(label) + 2 > label_width)
            label_width = utf8_length(label) + 2;
        for (size_t col = 1; col < g->column_count; col++)
            write_figure(sheet, row, (lxw_col_t)col, line_figure(g, cells, total, col), &f, totals);
    }
    worksheet_set_column(sheet, 0, 0, (double)(label_width > LABEL_WIDTH_MAX ? LABEL_WIDTH_MAX : label_width), NULL);
    worksheet_freeze_panes(sheet, 1, 1);
}

/* Reads the whole file behind fd into a new buffer. */
static char *read_file(int fd, size_t *length)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (unsigned long long)st.st_size > EXPORT_MAX_BYTES)
        return NULL;
    size_t size = (size_t)st.st_size;
    char *data = xmalloc(size);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, data + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(data);
            return NULL;
        }
        done += (size_t)n;
    }
    *length = size;
    return data;
}

char *report_export_xlsx(const json_t *result, size_t *length)
{
    struct grid g;
    if (!grid_of(result, &g))
        return NULL;
    /* libxlsxwriter 1.1 writes to a named file only: a private temporary
     * one, read back and removed before returning. */
    char path[] = "/tmp/crm-api-report-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        log_error(NULL, "cannot create a temporary file for a workbook: %s", strerror(errno));
        return NULL;
    }
    char *out = NULL;
    lxw_workbook *book = workbook_new(path);
    if (book) {
        write_sheet(book, &g);
        lxw_error error = workbook_close(book);
        if (error == LXW_NO_ERROR)
            out = read_file(fd, length);
        else
            log_error(NULL, "writing a workbook failed: %s", lxw_strerror(error));
    }
    unlink(path);
    close(fd);
    return out;
}

/* ----------------------------------------------------------- file name */

#define FILE_NAME_MAX 100

void report_export_disposition(const char *name, const char *ext, char *out, size_t size)
{
    char safe[FILE_NAME_MAX + 1];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(name && *name ? name : "forecast");
    while (*p && n < FILE_NAME_MAX) {
        bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == ' ' ||
                    *p == '-' || *p == '_';
        safe[n++] = keep ? (char)*p : '_';
        p++;
        while ((*p & 0xC0) == 0x80) /* one '_' per character, not per byte */
            p++;
    }
    safe[n] = '\0';
    snprintf(out, size, "attachment; filename=\"%s.%s\"", safe, ext);
}
