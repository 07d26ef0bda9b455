// Pieces shared by the benchmark commands (bench kernels, its Google Benchmark mode, bench
// model): selection of kernels and shapes, statistics, energy and counter fields, results.
#ifndef TB_BENCH_H
#define TB_BENCH_H

#include "counters.h"
#include "energy.h"
#include "tb_kernel.h"

#include <cjson/cJSON.h>
#include <stdint.h>

// Quantile q in [0, 1] of v[0..n), linear interpolation.
double tb_quantile(const double *v, int n, double q);
// "1,2,4" -> out (at most max values, each in [lo, hi]); exits 2 on anything else.
int tb_parse_list(const char *cmd, const char *what, const char *s, int *out, int max, int lo,
                  int hi);
// Distinct linear shapes (n, k) of a configuration; exits 2 for an unknown one.
int tb_bench_shapes(const char *cmd, const char *model, int shapes[][2], int max);
// "all" (every kernel this CPU runs) or a comma list; exits 2 for unknown or unrunnable ones.
int tb_select_kernels(const char *cmd, const char *list, const tb_kernel **sel, int max);
// The FP16 baseline among sel (AVX-512, AVX2, NEON), else i2_scalar, else the first.
const tb_kernel *tb_default_baseline(const tb_kernel *const *sel, int nsel);

// "sources": {"energy": {"available": .., "reason": ..}, "counters": {...}, "likwid": {...}}
void tb_sources_to_json(cJSON *sources, const tb_energy *e, const tb_counters *c);
// An entry's energy_j per call (or null with energy_reason) and counters per call by name (or
// null with counters_reason), from sums over `calls` timed calls.
void tb_entry_sources_to_json(cJSON *o, const tb_energy *e, double joules, long calls,
                              const tb_counters *c, const long long *counts,
                              const char *const *names, int ncounts);
// Writes doc to json_path (atomically; "-" = stdout) and, if save, to results/<cpu>/; frees
// doc. Returns the exit status.
int tb_finish_results(cJSON *doc, const char *json_path, int save, const char *kind);

// bench kernels --gbench: every (kernel, shape, m, threads) as a Google Benchmark benchmark.
int tb_gbench_kernels(const tb_kernel *const *sel, int nsel, int shapes[][2], int nshapes,
                      const int *ms, int nm, const int *threads, int nthreads, int cold,
                      uint64_t seed, int roofline_mib, const char *json_path, int gb_argc,
                      char **gb_argv);

int cmd_bench_model(int argc, char **argv);

#endif
