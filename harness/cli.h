// Small helpers shared by the tritbench commands: argument parsing with clear errors,
// a progress line for terminals, atomic file writes, JSON output.
#ifndef TB_CLI_H
#define TB_CLI_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

// Exit codes: 0 success, 1 a check failed, 2 bad usage or input.
#define TB_EXIT_FAIL  1
#define TB_EXIT_USAGE 2

// Prints "tritbench CMD: message" to stderr and exits with TB_EXIT_USAGE.
void tb_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)))
__attribute__((noreturn));

// Value of an option at argv[*i] ("--seed 5" or "--seed=5"); advances *i. Exits on a missing
// value. Returns NULL if argv[*i] is not this option.
const char *tb_opt(const char *cmd, int argc, char **argv, int *i, const char *name);
int tb_flag(char **argv, int i, const char *name);

// Whole numbers with range checks; exit 2 with "--shape: '0' must be at least 1" style messages.
long long tb_parse_int(const char *cmd, const char *what, const char *s, long long lo,
                       long long hi);
uint64_t tb_parse_u64(const char *cmd, const char *what, const char *s);
// "A,B[,C]": exactly count comma-separated whole numbers >= 1.
void tb_parse_ints(const char *cmd, const char *what, const char *s, int count, int *out);

// A progress line on stderr, redrawn in place, only when stderr is a terminal and enabled.
typedef struct {
    int enabled;
    double start;
} tb_progress;
void tb_progress_start(tb_progress *p, int enabled);
void tb_progress_show(tb_progress *p, const char *what, int done, int total);
void tb_progress_done(tb_progress *p);

double tb_now(void); // monotonic seconds

// Writes text to path atomically: a temporary file "PATH.tmp.XXXXXX" in the same folder,
// fsync, rename, fsync of the folder. An interrupted write never leaves a partial file under
// path (at worst a leftover "*.tmp.*" file). "-" means standard output. Returns 0, or -1 with
// a message on stderr.
#define TB_TMP_INFIX ".tmp."
int tb_write_file_atomic(const char *path, const char *text);
// The same, but never replaces an existing file: returns 1 (nothing written, no message) if
// path exists, 0 on success, -1 with a message on stderr.
int tb_write_file_new(const char *path, const char *text);
// Tests only: called with the complete, fsynced temporary file just before it is moved.
extern void (*tb_write_atomic_test_hook)(const char *tmp_path);
// Prints or writes (if path) the JSON document; frees it. Returns 0 or -1.
int tb_emit_json(cJSON *doc, const char *path);

int cmd_kernels(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
