// Declarative experiments: an INI file (read with libinih) whose sections are steps, each a
// runner (bench-kernels, bench-model, validate-model, perplexity) with lists of values; a step
// expands into points, one runner call each, so an interrupted run resumes point by point.
//
//   [experiment]
//   description = what it answers
//   published   = published/2410.16144-tg.tsv   ; tables to compare with (report)
//
//   [decode]                          ; a step, named by its section
//   run     = bench-model
//   model   = 125M, 350M              ; one point per model x thread count
//   kernels = best, fp16              ; timed side by side in every point
//   threads = 1, 2
//
// Kernel lists take names or symbols, so one file serves x86 and ARM: best (what dispatch picks
// here), fp16 and fp32 (the fastest baseline of that format here), q8 and q4 (the fastest kernel
// of that quantized float format here: the output head's), i2, lut2, lut3 (the best kernel of
// that format here), all (every kernel this CPU runs), and -NAME (drop one). Every key, value
// and kernel is checked before anything runs.
#ifndef TB_EXPERIMENT_H
#define TB_EXPERIMENT_H

#include "perplexity.h"
#include "runners.h"

#include <stdint.h>

#define TB_EXP_STEPS_MAX  32
#define TB_EXP_MODELS_MAX 16
#define TB_EXP_POINTS_MAX 1024

typedef enum {
    TB_STEP_BENCH_KERNELS,
    TB_STEP_BENCH_MODEL,
    TB_STEP_VALIDATE_MODEL,
    TB_STEP_PERPLEXITY,
} tb_step_kind;

// What to do with a bench-model point larger than this machine's memory.
typedef enum {
    TB_SAMPLE_AUTO,   // layer-sampled when the whole model does not fit, else whole
    TB_SAMPLE_NEVER,  // listed as skipped, with the memory it needs
    TB_SAMPLE_ALWAYS, // layer-sampled even when it fits (to check the estimate)
} tb_sample_mode;

typedef struct {
    char name[64]; // the section
    int line;      // where the section starts, for messages
    tb_step_kind kind;
    char kernels[512]; // resolved comma list of kernel names
    char roles[512];   // "KERNEL=SYMBOL,...": the kernels that a symbol (best, fp16, i2, ...)
                       // resolved to here
    int all_kernels;   // the list was "all" (validate-model: every kernel built here)
    int has_peers;     // the list names peers (peers.h): bench-kernels steps only
    char models[TB_EXP_MODELS_MAX][64];
    int nmodels;
    int shape[2]; // bench-kernels: one weight shape instead of models' shapes
    int m[TB_LIST_MAX], nm;
    int threads[TB_LIST_MAX], nthreads;
    int weights_hot, weights_cold; // bench-kernels
    int rounds;
    double block_ms;
    char baseline[64]; // bench-kernels: the kernel ratios are taken against ("": the default)
    int prompt, tokens, reps;
    tb_head_format head;
    uint64_t seed;
    int roofline_mib;
    tb_sample_mode sampling;
    char peer[32]; // bench-model: an engine timed beside tritbench's on the same file ("llama.cpp")
    char text[512];     // perplexity: the text (relative to the experiment's folder), or
    int text_is_tokens; // a file of token ids (key tokens-file)
    int ctx, chunks;    // perplexity
} tb_step;

typedef struct {
    char path[512], name[64];
    char description[512];
    char published[4][512];
    int npublished;
    tb_step steps[TB_EXP_STEPS_MAX];
    int nsteps;
} tb_experiment;

// Reads an experiment: a file path, or a name looked up as experiments/NAME.ini (in dir, NULL:
// "experiments"). Any unknown section key, missing field, bad number, unknown kernel or model
// is refused with "FILE:LINE: [section] key: problem" in err, before anything runs.
int tb_experiment_load(const char *spec, const char *dir, tb_experiment *e, tb_error *err);

// One runner call of a step.
typedef struct {
    const tb_step *step;
    char key[160]; // "decode/125M/threads=2": unique in the experiment, names its result file
    tb_step_kind kind;
    union {
        tb_bench_kernels_params bench_kernels;
        tb_bench_model_params bench_model;
        tb_validate_model_params validate_model;
        tb_perplexity_params perplexity;
    } params;
    uint64_t bytes_needed; // memory of a whole run (bench-model, validate-model)
    int sampled;           // bench-model: layer-sampled (too large, or sampling = always)
    int skipped;           // too large and sampling = never: not run
    double seconds_estimate;
    int skip_run; // tb_run_experiment: not this run's (--only, --shard)
} tb_point;

// Expands the steps into points (at most max). Returns the count.
int tb_experiment_points(const tb_experiment *e, tb_point *points, int max);

#endif
