// The tritbench commands: each parses its options into a struct (options.h), calls the runner
// that does the work (runners/runners.h) and renders the result document for the terminal, or
// prints it as JSON.
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

#include "runners.h"

#include <cjson/cJSON.h>

// Exit codes: 0 success, 1 a check failed, 2 bad usage or input (the runners' TB_OK,
// TB_CHECK_FAILED, TB_BAD_INPUT).
#define TB_EXIT_FAIL  TB_CHECK_FAILED
#define TB_EXIT_USAGE TB_BAD_INPUT

// Prints "tritbench CMD: message (see 'tritbench CMD --help')" to stderr; returns TB_EXIT_USAGE.
int tb_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Prints a runner's error as "tritbench CMD: message"; returns status.
int tb_run_error(const char *cmd, int status, const tb_error *err);

// "--head f16,q8": the head formats of a comma list into heads[0..*n) (each once), or a usage
// error naming the one that is not f32, f16, q8 or q4.
int tb_parse_heads(const char *cmd, const char *list, tb_head_format *heads, int *n);

// A progress line on stderr, redrawn in place, only when stderr is a terminal and enabled:
// "what  done/total  elapsed  ETA".
typedef struct {
    int enabled;
    double start;
} tb_progress;
// The observer for the runners: shows the line when enabled and stderr is a terminal.
tb_observer tb_progress_observer(tb_progress *p, int enabled);
void tb_progress_done(tb_progress *p);

// The document's output: with json, printed on standard output (instead of the table); with
// out, also written to that file atomically. Frees doc. Returns status, or TB_EXIT_FAIL if a
// write failed.
int tb_output(cJSON *doc, int json, const char *out, int status);

// With save, writes doc to results/<cpu>/<kind>-<time>.json (bench --save); returns the status.
int tb_save_results(cJSON *doc, int save, const char *kind);

// Fields of a result document for the renderers: the string (or "" if absent) and the number
// (or NAN if absent) under key.
const char *tb_jstr(const cJSON *o, const char *key);
double tb_jnum(const cJSON *o, const char *key);

int cmd_kernels(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_bench_kernels(int argc, char **argv);
int cmd_bench_model(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);

#endif
