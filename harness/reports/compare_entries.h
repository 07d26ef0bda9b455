// The entries of one matched point, compared (compare.c matches the points): internal to
// reports/compare.c.
#ifndef TB_COMPARE_ENTRIES_H
#define TB_COMPARE_ENTRIES_H

#include "compare.h"
#include "result_set.h"

// What a comparison collects: rows go into these arrays of the compare document.
typedef struct {
    const tb_compare_params *p;
    cJSON *speed, *accuracy, *unmatched;
    int cross_cpu; // some matched point was measured on different CPUs
} tb_compare_rows;

// 1 for the kinds compare understands (kernels, model, accuracy).
int tb_compare_known_kind(const char *kind);

// Lists what has no partner: side "base" or "new", the point, and the entry (NULL: the whole
// point).
void tb_compare_unmatched(tb_compare_rows *rows, const char *side, const char *point,
                          const char *entry);

// Compares the entries of one point (same id and kind in both), adding rows. TB_OK, or
// TB_BAD_INPUT with err naming the file and the field of a malformed entry.
int tb_compare_point(tb_compare_rows *rows, const char *point, const tb_result_file *base,
                     const tb_result_file *new_file, tb_error *err);

#endif
