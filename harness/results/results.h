// Result documents: one JSON file per run under results/<cpu-slug>/, written atomically, with
// the machine's fingerprint. The schema is documented in results/README.md.
#ifndef TB_RESULTS_H
#define TB_RESULTS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define TB_RESULTS_SCHEMA "tritbench-results/1"

// Adds to doc, where absent: "schema" (always set to TB_RESULTS_SCHEMA), "kind", "created" (UTC
// ISO-8601, "2025-01-31T12:00:00Z"), "info" (tb_info_collect(NULL, NULL)) and "sources" (a copy
// of info.sources); then writes doc to DIR/<cpu-slug>/<kind>-<UTC timestamp>.json atomically
// (temporary file in the same folder, fsync, rename; folders created as needed). An existing
// file is never replaced: a second run in the same second gets "-2", "-3", ... before ".json".
// kind: [a-z0-9_-], 1..40 characters. dir NULL = "results". doc stays the caller's (it keeps
// the added fields). Returns the malloc'd path, or NULL with a one-line message on stderr.
char *tb_results_write(cJSON *doc, const char *dir, const char *kind);

// The folder of this machine's results under dir (NULL: "results"): "DIR/<cpu-slug>/SUB".
// malloc'd; NULL when out of memory.
char *tb_results_folder(const char *dir, const char *sub);
// The same fields as tb_results_write, but written to path (folders created), replacing a
// previous file there atomically: the result of one point of an experiment, which a rerun
// replaces. 0, or -1 with a message on stderr.
int tb_results_write_path(cJSON *doc, const char *path, const char *kind);
// Reads and parses a result document and checks its "schema" field (and the types of kind,
// created, info, sources, entries where present). Returns the document, or NULL with a one-line
// message naming the file and the field in err ("results/x.json: field 'schema' is missing").
cJSON *tb_results_read(const char *path, char *err, size_t err_len);
// The same, and *damaged (if not NULL) set to 1 when the file is not valid JSON: empty or cut
// short, as a full disk or a copy cut short leaves it (an interrupted tritbench write cannot,
// see atomic_file.h). Readers of whole folders skip such a file with a warning; a refused
// document (valid JSON, foreign or malformed) leaves *damaged 0.
cJSON *tb_results_read_status(const char *path, int *damaged, char *err, size_t err_len);

// 1 if a file name (no folder) looks like a finished result: ends in ".json" and is not the
// temporary file of an unfinished write (".tmp." infix). Listings should skip the others.
int tb_results_is_result_name(const char *name);

// mkdir -p: creates path and its missing parents. 0, or -1 with a message on stderr.
int tb_mkdir_p(const char *path);

#endif
