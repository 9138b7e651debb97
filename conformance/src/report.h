/* Internal: what the reports share (report.c, certificate.c). */
#ifndef TGC_REPORT_H
#define TGC_REPORT_H

#include <stdlib.h>
#include <tg/conform.h>

/* One result as the table and the certificate see it. */
typedef struct tgc_entry {
    const char *id;
    int row, dtype, levels;
    tgc_result result;
} tgc_entry;

typedef struct tgc_table {
    size_t cell[TGC_ROW_COUNT][TG_DTYPE_COUNT][TGC_RESULT_COUNT];
    size_t totals[TGC_RESULT_COUNT];
    size_t level_cases[TGC_LEVEL_COUNT], level_pass[TGC_LEVEL_COUNT];
    size_t level_total[TGC_LEVEL_COUNT]; /* cases of the level in the whole catalog */
} tgc_table;

tgc_entry *tgc_entries(const tgc_report *r); /* malloc'd, r->nsel entries */
void tgc_table_fill(tgc_table *t, const tgc_entry *e, size_t n);
const char *tgc_row_name(int row);
/* Cases per level in the catalog of a report. */
void tgc_level_totals(const tgc_report *r, size_t *totals);
/* "yes" (every case of the level ran and passed), "partial" (all that ran
 * passed, some did not run), "no", or "not-run". */
const char *tgc_level_status(const tgc_table *t, int level);

/* fflush + fclose of a report file; TG_ERR_IO naming path if any write
 * failed (a full disk leaves it incomplete). Closes f in any case. */
tg_status tgc_close_output(FILE *f, const char *path);

#endif
