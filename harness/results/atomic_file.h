// Files written whole or not at all: results, JSON outputs, reports. An interrupted write never
// leaves a partial file under the final name (at worst a leftover "*.tmp.*" file beside it).
#ifndef TB_ATOMIC_FILE_H
#define TB_ATOMIC_FILE_H

#include <cjson/cJSON.h>

// Infix of the temporary file "PATH.tmp.XXXXXX" in the same folder as PATH; readers of result
// folders skip names containing it.
#define TB_TMP_INFIX ".tmp."

// Writes text to path atomically: the temporary file is written, fsynced, renamed over path,
// and the folder fsynced. "-" means standard output. Returns 0, or -1 with a message on stderr.
int tb_write_file_atomic(const char *path, const char *text);
// The same, but never replaces an existing file: returns 1 (nothing written, no message) if
// path exists, 0 on success, -1 with a message on stderr.
int tb_write_file_new(const char *path, const char *text);
// Tests only: called with the complete, fsynced temporary file just before it is moved.
extern void (*tb_write_atomic_test_hook)(const char *tmp_path);

// The one JSON writer of tritbench: doc printed with indentation and a final newline, to path
// ("-" = standard output) atomically. doc stays the caller's. Returns 0 or -1 (message on
// stderr).
int tb_json_write(const cJSON *doc, const char *path);

#endif
