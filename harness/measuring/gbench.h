// A small C interface to Google Benchmark (harness/gbench_shim.cc), so that C code registers
// benchmarks and gets the library's iteration control, repetitions, statistics, random
// interleaving and JSON output.
#ifndef TB_GBENCH_H
#define TB_GBENCH_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tb_gb_state tb_gb_state; // a benchmark::State, opaque
typedef void (*tb_gb_fn)(tb_gb_state *st, void *ctx);

// Counter kinds: a plain value, or a per-iteration amount that the library turns into a rate
// (value * iterations / seconds).
enum { TB_GB_VALUE = 0, TB_GB_RATE = 1 };

// 1 if this build has Google Benchmark; else the functions below do nothing / fail.
int tb_gb_available(void);
// Registers fn(st, ctx) under name, timed in real (wall-clock) time.
void tb_gb_register(const char *name, tb_gb_fn fn, void *ctx);
// The loop condition of a benchmark body: while (tb_gb_keep_running(st)) { ... }
int tb_gb_keep_running(tb_gb_state *st);
void tb_gb_counter(tb_gb_state *st, const char *name, double value, int kind);
void tb_gb_skip(tb_gb_state *st, const char *why);
// Initializes the library with argv (its --benchmark_* flags), runs every registered benchmark.
// Returns 0, or 2 (with a message) for arguments it does not know.
int tb_gb_run(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
