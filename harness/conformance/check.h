// Conformance checks: every kernel against the naive integer oracle, bit for bit, and the naive
// kernel against the float reference. Shared by `tritbench validate` and the test suite, so the
// command and the tests run exactly the same checks.
#ifndef TB_CHECK_H
#define TB_CHECK_H

#include "tb_kernel.h"

#include <stdint.h>

// Unit roundoff of float (round to nearest): 2^-24.
#define TB_FLOAT_U 0x1p-24
// Kernel vs naive with real scales: each computes fl(fl(dot) * fl(ws * xs)) with fl(dot) exact,
// so each is within (1 + u)^2 - 1 = 2u + u^2 of the exact ws * xs * dot; two of them differ by
// at most twice that, relative to |ws * xs * dot|.
#define TB_SCALED_REL_TOL (2.0 * (2.0 * TB_FLOAT_U + TB_FLOAT_U * TB_FLOAT_U))
// Naive vs the float reference, relative to S = sum |ws * wt * xs * xq| over k terms:
//   naive:      2u + u^2 (as above), and |exact| <= S;
//   reference:  dequantized x rounds once (u; ws * wt is exact for wt in {-1, 0, 1}), products
//               are exact in double, k - 1 double additions add (k - 1) 2^-53 (1 + u) S, and the
//               final rounding to float adds u (|sum| <= (1 + u) S, hence the u^2 terms).
#define TB_REF_REL_TOL(k) (4.0 * TB_FLOAT_U + 3.0 * TB_FLOAT_U * TB_FLOAT_U + (double)(k)*0x1p-52)

enum tb_wpattern { TB_W_RANDOM, TB_W_PLUS, TB_W_MINUS, TB_W_ZERO, TB_W_ALT, TB_W_COUNT };
enum tb_xpattern { TB_X_RANDOM, TB_X_MAX, TB_X_MIN, TB_X_ALT, TB_X_EXTREME, TB_X_COUNT };

extern const char *const tb_wpattern_names[TB_W_COUNT];
extern const char *const tb_xpattern_names[TB_X_COUNT];

typedef struct {
    int cases;               // cases run
    int failed;              // cases with any mismatch
    char first_failure[512]; // what the first failing case saw, one line
    double worst_ratio;      // largest |got - want| / allowed over the scaled checks (<= 1 passes)
} tb_check_result;

// One case: weights of pattern wp and activations of pattern xp, shape m x n x k, output rows
// [row0, row1). Checks, with scales 1, bit-identical output to naive and no write outside the
// rows; with real scales, agreement within TB_SCALED_REL_TOL. m == 1 runs gemv and gemm.
// Returns 0 if the case passed.
int tb_check_case(const tb_kernel *kn, int m, int n, int k, int row0, int row1, enum tb_wpattern wp,
                  enum tb_xpattern xp, uint64_t seed, tb_check_result *res);

// Every pattern pair on one shape, full row range and an interior range.
void tb_check_shape_patterns(const tb_kernel *kn, int m, int n, int k, uint64_t seed,
                             tb_check_result *res);

// The conformance suite: shapes derived from the kernel's k_block and n_tile (k at, below and
// above block multiples; n around the tile; m in {1, 2, 3, 8, 33}; ranges starting and ending
// mid-tile), prefill GEMMs (m from 2 to 17, 31, 33, 128, 130 around the panels of the i2 GEMMs),
// the 2B4T shapes, and every adversarial pattern pair. progress(done, total) is called now and
// then if not NULL.
void tb_check_suite(const tb_kernel *kn, uint64_t seed, tb_check_result *res,
                    void (*progress)(void *ctx, int done, int total), void *ctx);

// Naive kernel vs the float reference (quantize float data, dequantize, float matmul) on one
// shape, within TB_REF_REL_TOL. Returns 0 on agreement.
int tb_check_naive_vs_reference(int m, int n, int k, uint64_t seed, tb_check_result *res);

#endif
