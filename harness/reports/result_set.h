// Result sets: the result documents of `tritbench run` (and `bench --save`) read from files and
// folders, checked enough that a report or a comparison can trust their fields. Every document
// must be a tritbench result (tb_results_read: schema), of a known kind ("kernels", "model",
// "accuracy"), from a machine (info.cpu_slug), with the fields its kind needs (see
// tb_result_set_load). Anything else is refused with a message naming the file and the field.
#ifndef TB_RESULT_SET_H
#define TB_RESULT_SET_H

#include "runners.h"

#include <cjson/cJSON.h>

typedef struct {
    char *path; // as found: an argument, or folder/.../name.json
    cJSON *doc; // the whole document
} tb_result_doc;

typedef struct {
    tb_result_doc *docs; // in argument order; a folder's files sorted by path
    int n, cap;
} tb_result_set;

// Loads every path into set (which must start zeroed): a file is read as a result; a folder is
// searched recursively for names tb_results_is_result_name accepts (temporary files of unfinished
// writes are skipped). Returns TB_OK, or TB_BAD_INPUT with err naming the file and field
// ("results/x/a.json: entries[2].gmacs must be a number") for an unreadable, malformed, truncated,
// foreign or mismatched document, or when nothing was found; on error set holds what was loaded
// before (free it in both cases).
int tb_result_set_load(tb_result_set *set, const char *const *paths, int npaths, tb_error *err);
void tb_result_set_free(tb_result_set *set);

// The machine a document comes from (info.cpu_slug; checked by the loader).
const char *tb_result_cpu(const cJSON *doc);
// The document's kind ("kernels", "model", "accuracy"; checked by the loader).
const char *tb_result_kind(const cJSON *doc);

#endif
