// An independent check of the bandwidth probe: likwid-bench's streaming `load` kernels (the
// Debian package likwid), run as a separate program on the same working-set size and thread
// count.
#ifndef TB_LIKWID_BENCH_H
#define TB_LIKWID_BENCH_H

#include <stddef.h>

// The likwid-bench test this CPU runs: load_avx512, load_avx or load.
const char *tb_likwid_load_test(void);
// Best of `runs` runs of `likwid-bench -t TEST -W N:<bytes>:<threads>` in bytes/s; or -1 with
// the reason in why (not installed, failed with its message, no figure in its output).
double tb_likwid_load(size_t bytes, int threads, int runs, char *why, size_t why_len);

#endif
