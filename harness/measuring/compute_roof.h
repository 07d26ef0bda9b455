// The compute roof: the peak multiply-accumulate rate of each instruction path a kernel can be
// built on, probed on this CPU at a thread count, so that compute-bound results (GEMM at large m,
// hot GEMV) report a fraction of a compute roof as memory-bound ones report a fraction of the
// bandwidth roof.
//
// A probe keeps 12 independent accumulator chains in registers (more than latency x throughput
// on the cores seen) and counts multiply-accumulates: 8-bit x 8-bit products for the integer
// paths (vpdpbusd: 64 a 512-bit instruction, 32 a 256-bit one; vpmaddubsw: 64 / 32; sdot: 16;
// smlal: 8), fused multiply-adds of FP32 lanes for the float baselines (their FP16 weights are
// widened to FP32). Each probe times its instruction alone: the peak is an upper bound for any
// kernel on that path, whatever else the kernel spends instructions on (unpacking, table
// lookups, widening adds).
#ifndef TB_COMPUTE_ROOF_H
#define TB_COMPUTE_ROOF_H

#include "tb_kernel.h"
#include "tb_pool.h"

#include <cjson/cJSON.h>

// Paths this build knows; a path is probed only where the CPU has its instructions.
typedef enum {
    TB_PATH_VPDPBUSD_512,
    TB_PATH_VPDPBUSD_256,
    TB_PATH_VPMADDUBSW_512,
    TB_PATH_VPMADDUBSW_256,
    TB_PATH_FMA_512,
    TB_PATH_FMA_256,
    TB_PATH_SDOT,
    TB_PATH_SMLAL,
    TB_PATH_FMLA,
    TB_PATH_COUNT,
    TB_PATH_NONE = -1,
} tb_compute_path;

const char *tb_compute_path_name(tb_compute_path path);
// 1 if this CPU (tb_cpu_features) can run the path.
int tb_compute_path_supported(tb_compute_path path);
// The path whose peak bounds kernel kn: its widest multiply-accumulate instruction, found from
// its ISA line; the FP32 FMA of the widest vectors for the float baselines (f32_blas: whatever
// the CPU has, as BLAS dispatches at run time); TB_PATH_NONE for portable C, whose instructions
// the compiler chooses, and for table-lookup kernels (no compute roof then, said so in the
// result).
tb_compute_path tb_compute_path_of(const tb_kernel *kn);
// Why kernel kn has no compute path (when tb_compute_path_of gives TB_PATH_NONE).
const char *tb_compute_path_none_reason(const tb_kernel *kn);
// Peak multiply-accumulates per second of the path on the pool's threads: best of `passes`
// passes of about 20 ms each; 0 if the CPU lacks the path.
double tb_compute_peak(tb_compute_path path, tb_pool *pool, int passes);

#endif
