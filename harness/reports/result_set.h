// Result sets: every result document under a path, as `tritbench compare` and `tritbench
// report` read them. A set is one result file, or a folder read recursively (every file whose
// name tb_results_is_result_name accepts: `*.json`, not the temporary file of an unfinished
// write; hidden folders are skipped), e.g. `results/<cpu>/<experiment>` of one run. Each
// document is read and checked by tb_results_read (schema and the types of the top-level
// fields); what a kind's entries must hold is the reader's business (reports/compare.c).
//
// Points: `tritbench run` writes one document per point, with "point": {"experiment", "key",
// ...}; the point id "EXPERIMENT:KEY" identifies it across runs, revisions and CPUs. Documents
// without "point" (`bench --save`, `--out`) are identified by their kind and the parameters that
// say what was measured (tb_result_point_id).
#ifndef TB_RESULT_SET_H
#define TB_RESULT_SET_H

#include "runners.h"

#include <cjson/cJSON.h>
#include <stddef.h>

// Folder depth read below a set's root: deeper trees (or symbolic-link loops) are refused.
#define TB_RESULT_SET_MAX_DEPTH 16

typedef struct {
    char *path; // the file: the set's path, then the path below it
    cJSON *doc; // the document (owned by the set)
} tb_result_file;

typedef struct {
    tb_result_file *files; // sorted by path, so reports come out in a stable order
    int nfiles;
    char **skipped; // "PATH: why" of each file of a folder left out (tb_result_set_read)
    int nskipped;
} tb_result_set;

// tb_result_set_read flag: in a folder, a file that is not valid JSON (empty, cut short) is
// skipped with a warning instead of refusing the set.
#define TB_SET_SKIP_DAMAGED 1

// Reads every result document under path into *set (zeroed first). Returns TB_OK, or
// TB_BAD_INPUT with err naming the file and the field ("a/b.json: field 'schema' is missing
// (not a tritbench result?)", "a: no result documents (*.json)") and *set empty. A set
// holds at least one document. Files of a folder left out, each with a line "tritbench:
// skipped: PATH: why" on stderr and in set->skipped: the temporary file of a result being
// written ("NAME.json.tmp.*": a run writing now, or one killed); with TB_SET_SKIP_DAMAGED (flags),
// a document that is not valid JSON. A file named by path itself is never skipped.
int tb_result_set_read(const char *path, int flags, tb_result_set *set, tb_error *err);
void tb_result_set_free(tb_result_set *set);

// The document's "kind" ("kernels", "model", "accuracy", ...) or NULL when absent.
const char *tb_result_kind(const cJSON *doc);
// info.cpu_slug, or "" when absent: which CPU the document was measured on.
const char *tb_result_cpu_slug(const cJSON *doc);

// The point id of a document, written to id[0..len): "EXPERIMENT:KEY" from "point", else
// "KIND FIELD=VALUE ..." over the fields that say what was measured (kernels: parameters.model,
// shapes, m, threads, weights; model: parameters.model, prompt, tokens, head; accuracy: model,
// seed, prompt_tokens, positions; other kinds: all of parameters). Returns TB_OK, or
// TB_BAD_INPUT with err naming the file and field ("x.json: field 'point.key' must be a
// string", or 'kind' missing without a point).
int tb_result_point_id(const tb_result_file *f, char *id, size_t len, tb_error *err);

#endif
