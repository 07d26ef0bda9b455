// Model-level validation: the engine on one kernel against the float reference model in both
// modes, over the same token sequence. Shared by `tritbench validate --model` and the tests.
#ifndef TB_MODEL_CHECK_H
#define TB_MODEL_CHECK_H

#include "tb_model.h"
#include "tb_pool.h"
#include "transformer.h"

// ---- The bound: engine vs the quantization-consistent reference (mode a) ----
//
// The engine and reference (a) compute the same function: the same ternary weights, the same
// quantizer (tb_ref_quantize_row), an exact integer dot. They differ only in float rounding
// elsewhere: the engine computes RMSNorm scaling, RoPE, attention, softmax and the head in float
// and scales each dot as fl(fl(dot) * fl(ws * xs)); the reference accumulates in double.
//
// 1. No rounding flips. If every int8 activation comes out the same in both, the logits differ
//    by float rounding alone. Each BitLinear output is within 2u + u^2 of exact in the engine
//    and (k 2^-53 + 2u) in the reference (harness/check.h); RMSNorm, RoPE, softmax and the
//    weighted sum add a few u each, and the norms rescale, so a layer adds at most ~16 ops of
//    relative error u to the residual stream and the head (a float dot over dim terms, run in
//    8 partial sums) at most dim/8 u relative to sum |x e|. The FFN's gating adds 2 ops (relu2:
//    a * a * up) or 4 (silu: expf within 1 ulp, an add, a divide, a multiply by up; the engine
//    in float, the reference in double) per element. Allowing 32 u per layer for all of it
//    (a factor of 2 over the count) gives a relative logit error <= 32 L u, i.e.
//        NMSE_float <= (32 L u)^2,   u = 2^-24            (TB_ENGINE_FLOAT_FLOOR)
// 2. Rounding flips. An activation within a few u of a rounding midpoint may round one way in
//    the engine and the other in the reference: one int8 step, the size of the quantization
//    noise itself. Then the engine's quantization noise is, at worst, a fresh realisation,
//    independent of the reference's: E - A = (E - B) - (A - B), two uncorrelated terms of equal
//    expected size (B = the unquantized model), so E|E - A|^2 <= 2 E|A - B|^2; shared roundings
//    only make it smaller. Hence
//        NMSE(E, A) <= 2 NMSE(A, B) + (32 L u)^2               (TB_ENGINE_NMSE_BOUND)
//    measured in the same run. A wrong RoPE pairing, the other FFN activation, a missing
//    sub-norm, a position off by one or a wrong scale each give NMSE(E, A) of order 1, far above
//    this: NMSE(A, B) is the cost of 8-bit activations, ~1e-4 .. 1e-3.
#define TB_ENGINE_U                      0x1p-24
#define TB_ENGINE_FLOAT_FLOOR(L)         ((32.0 * (L)*TB_ENGINE_U) * (32.0 * (L)*TB_ENGINE_U))
#define TB_ENGINE_NMSE_BOUND(nmse_ab, L) (2.0 * (nmse_ab) + TB_ENGINE_FLOAT_FLOOR(L))

// The references' run over one sequence: the prompt, then tokens chosen greedily by reference
// (a). Position p's logits predict token p + 1.
typedef struct {
    int n_prompt, n_pos; // n_pos = n_prompt + generated tokens
    int *tokens;         // (n_pos)
    float *logits_a;     // (n_pos, vocab) quantization-consistent reference
    float *logits_b;     // (n_pos, vocab) plain float reference
    double nmse_ab;      // NMSE of (b) against (a): the cost of int8 activations
} tb_ref_run;

// Needs m's ternary tensors materialized. 0, or -1 with a message.
int tb_ref_run_make(const tb_model *m, const int *prompt, int n_prompt, int n_gen, tb_ref_run *r,
                    char *err, size_t err_len);
void tb_ref_run_free(tb_ref_run *r);

typedef struct {
    double nmse;      // engine vs (a), over every position and logit
    double max_abs;   // largest |engine - (a)| logit difference
    double bound;     // TB_ENGINE_NMSE_BOUND for this run
    double kl;        // mean over positions of KL(softmax(b) || softmax(engine)), nats
    double top1_b;    // fraction of positions where argmax(engine) == argmax(b)
    int greedy_equal; // the engine's greedy continuation equals reference (a)'s
    float *logits;    // (n_pos, vocab) the engine's logits (caller frees)
    double seconds;
} tb_engine_cmp;

// Runs the engine with kernel kn over r's tokens: the prompt as one prefill (GEMM path), the
// rest one token at a time (GEMV path). 0, or -1 with a message.
int tb_engine_compare(const tb_model *m, const tb_kernel *kn, tb_pool *pool, const tb_ref_run *r,
                      tb_engine_cmp *out, char *err, size_t err_len);

// ---- The output head's formats (--head): their cost, and a bound each logit must keep ----
//
// With the same kernel and tokens, the residual stream up to the head is bit-identical whatever
// the head's format, so the logits of two heads differ by the head product alone. Its exact
// value is L_v = sum_j W_vj x_j over the f32 head row W_v and the head input x (the final-normed
// row, in double). A head format promises each held weight w^ = |w - w^| <= e_j, and (q8, q4)
// the int8 input x^ = |x - x^| <= s_x / 2, s_x = absmax(x) / 127 (tb_ref_quantize_row); then
//   |logit - L_v| <= sum_j e_j |x_j| + sum_j (|W_vj| + e_j) |x_j - x^_j|
//                    + rho * sum_j (|W_vj| + e_j)(|x_j| + s_x / 2)
// where rho is the kernel's own float error relative to S = sum |w^ x^| (exact integer kernels:
// the dot's conversion to float, the product of the two scales and the scaling, (1 + u)^3 - 1;
// inexact kernels: their error_bound(dim)). Per format:
//   f16: e_j = 2^-11 |w| + 2^-25 (round to nearest; 2^-25 is half the subnormal spacing),
//        x^ = x (float activations);
//   q8:  e_j = step_v / 2, step_v = absmax(W_v) / 127 (one scale per row);
//   q4:  e_j = (step_g (1 + 2^-10) + 2^-24) / 2, step_g = absmax(group) / 7: the group scale
//        is rounded up to f16 (at most one ulp: relative 2^-10, or 2^-24 absolute when
//        subnormal), so that no code clamps (kernels/q4_layout.h).
// All of it times TB_HEAD_BOUND_SLACK, for the quantizers' float divisions (w / d and x * 127 /
// absmax round once each: < 2^-16 of a step) and the bound's own double arithmetic.
#define TB_HEAD_BOUND_SLACK (1.0 + 0x1p-10)

typedef struct {
    tb_head_format head; // as run (f32 when no kernel of the format runs here)
    const char *kernel;  // its kernel (NULL for f32)
    double kl_vs_f16;    // mean over positions of KL(softmax(f16 head) || softmax(this head))
    double top1_vs_f16;  // fraction of positions whose argmax equals the f16 head's
    double nmse_vs_f16;  // of the logits against the f16 head's
    double kl_vs_float;  // against the plain float reference (b), as tb_engine_cmp.kl
    double top1_vs_float;
    double bound_ratio;  // largest |logit - L_v| / bound over every position and logit (<= 1)
    uint64_t bytes;      // the head as held
    tb_head_format base; // the "f16" of the comparison: f32 where no f16 kernel runs here
} tb_head_cmp;

// Runs the engine on kernel kn over r's tokens once per head of heads[0..n) plus the f16 head
// (the comparison's base; f32 where this CPU has no f16 kernel), and fills out[0..n). 0, or -1
// with a message.
int tb_head_compare(const tb_model *m, const tb_kernel *kn, tb_pool *pool, const tb_ref_run *r,
                    const tb_head_format *heads, int n, tb_head_cmp *out, char *err,
                    size_t err_len);

#endif
