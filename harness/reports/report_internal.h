// Shared by the parts of the report (report.c, report_text.c, published.c, report_tables.c,
// report_figures.c); not an API.
#ifndef TB_REPORT_INTERNAL_H
#define TB_REPORT_INTERNAL_H

#include "report.h"
#include "result_set.h"

// Reads every path (files, or folders recursively) into set (which must start zeroed) and checks
// that each document carries what the report relies on: a known kind ("kernels", "model",
// "accuracy"), info.cpu_slug, and its kind's fields. TB_OK, or TB_BAD_INPUT with err naming the
// file and the field; set holds what was read before (free it either way).
int tb_result_set_load(tb_result_set *set, const char *const *paths, int npaths, tb_error *err);

#include <stddef.h>

#define TB_REPORT_CPUS_MAX 16

// A growing string; on out of memory it keeps what it had and sets failed.
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} tb_sbuf;
void tb_sb_printf(tb_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tb_sb_free(tb_sbuf *b);

// A table with key columns and value columns, rows found by their keys and sorted naturally
// ("125M" < "1B", "2 threads" < "16 threads") when written as Markdown.
typedef struct tb_grid tb_grid;
tb_grid *tb_grid_new(int nkeys, const char *const *key_names);
// The index of the value column with this header (added at the end if new).
int tb_grid_col(tb_grid *g, const char *header);
void tb_grid_set(tb_grid *g, const char *const *keys, int col, const char *value);
int tb_grid_rows(const tb_grid *g);
void tb_grid_markdown(tb_grid *g, tb_sbuf *out); // empty cells as "-"
void tb_grid_free(tb_grid *g);
// Compares two strings by their leading numbers (with K/M/B/T multipliers), then as text.
int tb_natural_cmp(const char *a, const char *b);
// "125M" -> 1.25e8, "2B4T" -> 2e9; NAN if not a size.
double tb_size_value(const char *s);

// The published tables: every *.tsv of a folder, rows of named columns.
typedef struct {
    char *file;
    char **cols;
    int ncols;
    char ***rows; // rows[r][c]
    int nrows;
} tb_pub_table;
typedef struct {
    tb_pub_table *t;
    int n;
} tb_published;
int tb_published_load(tb_published *pub, const char *dir, tb_error *err);
void tb_published_free(tb_published *pub);
// The index of a column of t, or -1.
int tb_published_col(const tb_pub_table *t, const char *name);
// The value of column col on the row with this cpu and model, or NULL.
const char *tb_published_get(const tb_published *pub, const char *cpu, const char *model,
                             const char *col);

// One (CPU, model size, threads) of the model points, ternary and FP16 side by side.
typedef struct {
    int cpu;
    char size[32];
    int threads;
    char kernel[48];       // the fastest ternary kernel
    double tern, fp16;     // decode tokens/s, NAN if absent
    double tern_j, fp16_j; // J/token, NAN if unavailable
    char tern_jwhy[160], fp16_jwhy[160];
    char sampled[96]; // the layer-sampled label, or ""
} tb_model_row;

typedef struct {
    const tb_report_params *p;
    const tb_result_set *set;
    const char *cpus[TB_REPORT_CPUS_MAX];
    int ncpu;
    tb_published pub;
    tb_model_row *rows;
    int nrows;
    tb_sbuf md;
    tb_sbuf sampling; // the table of layer-sampled runs against whole ones, if any
    cJSON *files;     // paths written
    int figures;      // gnuplot found
    char why[256];    // why not
    tb_error *err;
} tb_report_ctx;

int tb_report_cpu_index(const tb_report_ctx *c, const cJSON *doc);
// 2 FP16 baseline, 1 FP32 baseline, 3 q8 and 4 q4 (quantized float matrices: the output head),
// 0 ternary (by the registry, else by name prefix).
int tb_report_float_kind(const char *kernel);
// 1 if a model entry ran with the f16 output head (or predates the head formats): the tables
// set against published figures and the kernel comparisons hold those only, so that a q8 or
// q4 head is never mistaken for a faster kernel.
int tb_report_f16_head(const cJSON *entry);

// Sections of report.md, each only when the results hold its kind of data.
int tb_report_models(tb_report_ctx *c);    // paper tables, skipped points, energy, threads
void tb_report_machines(tb_report_ctx *c); // the CPUs, their bandwidth and energy source
int tb_report_kernels(tb_report_ctx *c);   // kernels table and figures, kernel choice figures
// Per CPU, the figure of speed vs bits per weight vs logit error (report_choice.c).
// Creates the value columns "<cpu> <name>" of every CPU, in CPU order, so that they come before
// any other column (the published ones).
void tb_report_cpu_columns(const tb_report_ctx *c, tb_grid *g, const char *const *names, int n);
// The ternary kernels of the model points side by side, against the packed i2 kernel.
int tb_report_ternary_kernels(tb_report_ctx *c);
int tb_report_choice(tb_report_ctx *c);
// Which points each CPU has, for results with runs' status (a fleet run): fleet_status.h.
void tb_report_fleet(tb_report_ctx *c);
// Perplexity and KL per kernel (perplexity documents: `tritbench perplexity`, experiments).
int tb_report_perplexity(tb_report_ctx *c);
// Every kernel against the peers (peers.h) timed in the same run, where any were.
int tb_report_peers(tb_report_ctx *c);
// The figures of tokens/s against model size (with the published values) and threads.
int tb_report_model_figures(tb_report_ctx *c);
// "what: cpu-a, cpu-b" (cpu < 0: every CPU) for figure titles.
void tb_report_title(const tb_report_ctx *c, const char *what, int cpu, char *out, size_t len);
// Writes DIR/name (text) atomically and lists it; TB_OK or TB_BAD_INPUT.
int tb_report_write(tb_report_ctx *c, const char *name, const tb_sbuf *text);
// Writes the data file name.dat, runs plots/script.gp into name.png (through a temporary name),
// and adds the image to report.md; n_series = data blocks. Without gnuplot only the data file.
int tb_report_figure(tb_report_ctx *c, const char *script, const char *name, const char *title,
                     const tb_sbuf *data, int n_series);

#endif
