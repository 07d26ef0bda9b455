// tritbench compare BASE NEW: two result sets (reports/result_set.h: a file or a folder, e.g.
// results/<cpu>/<experiment> of two revisions, or of two CPUs) side by side. Points are matched
// by their point id, entries inside a point by their identity (kernels: kernel, n, k, m,
// threads, weights; model: kernel, threads; accuracy: kernel); what has no partner is listed.
//
// Speed: per matched entry the ratio NEW speed / BASE speed (kernels: median_s, lower is
// better; model: decode_tokens_per_s and prefill_tokens_per_s) and a verdict from the
// repetitions (kernels: round_median_s; model: *_tokens_per_s_reps) by the two-sided
// Mann-Whitney U test (measuring/significance.h): "faster" or "slower" when p < alpha and the
// change is more than TB_COMPARE_MIN_EFFECT, else "same (noise)"; "untested" without samples.
// Accuracy: a PASS that became FAIL, an exact kernel whose logits are no longer bit-identical
// (logits_fnv1a), nmse above nmse_bound, kl_vs_float beyond TB_COMPARE_KL_FACTOR x BASE's, and
// changed greedy tokens (argmax_tokens) are regressions.
//
// The document ("kind": "compare", results/README.md) lists every row; tb_compare_run follows
// runners.h: TB_OK, TB_CHECK_FAILED (an accuracy regression, or with fail_on_slowdown_pct >= 0
// a significant slowdown larger than that; never when the sets come from different CPUs), or
// TB_BAD_INPUT with *doc NULL and err naming the file and field.
#ifndef TB_COMPARE_H
#define TB_COMPARE_H

#include "runners.h"

#include <cjson/cJSON.h>

// Significance level of the speed verdicts (--alpha).
#define TB_COMPARE_ALPHA 0.05
// Smallest speed change called faster or slower, as a fraction (1 %): below it, a significant
// difference is real but too small to matter (a long run makes any shift significant).
#define TB_COMPARE_MIN_EFFECT 0.01
// How far kl_vs_float may grow over BASE's before it is a regression. KL against the float
// model is quadratic in small logit errors (KL ~ Var(error)/2), so it scales with the error
// variance. The NMSE bound (engine/model_check.h) lets a kernel's error variance against the
// quantization-consistent reference reach 2x NMSE(a, b), the cost of the int8 activations; that
// error adds to the activations' own (independent), so KL against the float model may reach
// (1 + 2) = 3x KL(a, b), and BASE's KL is at least KL(a, b). Growth beyond 3x is more than any
// kernel within the bound can cause.
#define TB_COMPARE_KL_FACTOR 3.0

typedef struct {
    const char *base_path, *new_path; // result files or folders
    double alpha;                     // significance level, (0, 1)
    double fail_on_slowdown_pct;      // < 0: slowdowns never fail; else the % they may reach
} tb_compare_params;
void tb_compare_defaults(tb_compare_params *p);
int tb_compare_run(const tb_compare_params *p, cJSON **doc, tb_error *err);

#endif
