/* Forecast report results as files: RFC 4180 CSV and XLSX workbooks
 * (libxlsxwriter), both written from the result document that PostgreSQL
 * builds ({report, periods, rows, totals, grand_total}; see
 * db/functions/forecast_reports.sql).
 *
 * Layout, the same in both: a header row (the split label column, named
 * after split_by; then "<period key> count", "<period key> value",
 * "<period key> weighted_value" for each period; then "total count",
 * "total value", "total weighted_value"), one line per row of the result
 * (its label, its cells, its total), and a last line "Total" with the
 * period totals and the grand total. Money stays exact: the decimal text
 * in CSV; in a workbook the spreadsheet's own number type with the format
 * "#,##0.00" (converted from the exact text with strtod only for that). */
#ifndef REPORT_EXPORT_H
#define REPORT_EXPORT_H
#include <jansson.h>
#include <stddef.h>

#define REPORT_XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* Returns the result as CSV (new buffer, *length bytes; CRLF line ends,
 * fields with a comma, quote, CR or LF quoted with quotes doubled), or
 * NULL when result is not a result document or the CSV would pass 64 MiB. */
char *report_export_csv(const json_t *result, size_t *length);

/* Returns the result as an XLSX workbook (new buffer, *length bytes), or
 * NULL when result is not a result document or the workbook could not be
 * written (logged). */
char *report_export_xlsx(const json_t *result, size_t *length);

/* Writes the Content-Disposition value for a report named name (NULL for
 * an unsaved one: "forecast") and extension ext into out:
 *   attachment; filename="<name>.<ext>"
 * where the name keeps ASCII letters, digits, space, '-' and '_', has every
 * other character replaced by '_', and is cut at 100 characters. */
void report_export_disposition(const char *name, const char *ext, char *out, size_t size);

#endif
