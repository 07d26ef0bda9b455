#include "check.h"
#include "tb_reference.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tb_wpattern_names[TB_W_COUNT] = {"random", "all+1", "all-1", "all0", "alt+1-1"};
const char *const tb_xpattern_names[TB_X_COUNT] = {"random", "all127", "all-128", "alt127/-128",
                                                   "random127/-128"};

// A NaN with a payload no kernel produces: any output written outside [row0, row1) shows.
#define SENTINEL_BITS 0x7fc0dead

static void fail(tb_check_result *res, const char *fmt, ...)
{
    if (res->first_failure[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->first_failure, sizeof res->first_failure, fmt, ap);
    va_end(ap);
}

static void fill_weights(int8_t *w, size_t count, enum tb_wpattern p, tb_rng *rng)
{
    for (size_t i = 0; i < count; i++) {
        switch (p) {
        case TB_W_RANDOM:
            w[i] = (int8_t)tb_rng_int(rng, -1, 1);
            break;
        case TB_W_PLUS:
            w[i] = 1;
            break;
        case TB_W_MINUS:
            w[i] = -1;
            break;
        case TB_W_ZERO:
            w[i] = 0;
            break;
        default:
            w[i] = (i & 1) ? -1 : 1;
            break;
        }
    }
}

static void fill_acts(int8_t *x, size_t count, enum tb_xpattern p, tb_rng *rng)
{
    for (size_t i = 0; i < count; i++) {
        switch (p) {
        case TB_X_RANDOM:
            x[i] = (int8_t)tb_rng_int(rng, -128, 127);
            break;
        case TB_X_MAX:
            x[i] = 127;
            break;
        case TB_X_MIN:
            x[i] = -128;
            break;
        case TB_X_ALT:
            x[i] = (i & 1) ? -128 : 127;
            break;
        default:
            x[i] = tb_rng_int(rng, 0, 1) ? 127 : -128;
            break;
        }
    }
}

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static void fill_sentinel(float *y, size_t count)
{
    uint32_t b = SENTINEL_BITS;
    for (size_t i = 0; i < count; i++) memcpy(&y[i], &b, sizeof b);
}

// Packs w for kernel kn with scale ws and runs it on x over [row0, row1); y must hold m * n.
static int run_kernel(const tb_kernel *kn, const int8_t *w, float ws, const int8_t *x,
                      const float *xs, int m, int n, int k, int row0, int row1, int use_gemm,
                      float *y, tb_check_result *res)
{
    char err[256];
    void *packed = tb_alloc(kn->packed_size(n, k));
    void *act = tb_alloc(kn->act_size(m, k));
    int rc = tb_pack(kn, w, ws, n, k, packed, err, sizeof err);
    if (rc) {
        fail(res, "%s: pack refused valid weights: %s", kn->name, err);
    } else {
        kn->prepare(x, xs, m, k, act);
        fill_sentinel(y, (size_t)m * n);
        if (use_gemm)
            kn->gemm(packed, act, m, n, k, row0, row1, y);
        else
            tb_run(kn, packed, act, m, n, k, row0, row1, y);
    }
    tb_free(packed);
    tb_free(act);
    return rc;
}

// The error an inexact kernel is allowed on one output with scales ws and xs: its own bound from
// the operands where it has one (output_bound), else error_bound(k) * S, S = abs_sum scaled.
static double allowance(const tb_kernel *kn, const int8_t *wj, float ws, const int8_t *xi, float xs,
                        int k, double abs_sum)
{
    if (kn->output_bound) return kn->output_bound(wj, ws, xi, xs, k);
    return kn->error_bound(k) * (double)ws * xs * abs_sum;
}

int tb_check_case(const tb_kernel *kn, int m, int n, int k, int row0, int row1, enum tb_wpattern wp,
                  enum tb_xpattern xp, uint64_t seed, tb_check_result *res)
{
    const tb_kernel *oracle = tb_kernel_find("naive");
    tb_rng rng = {seed ^ ((uint64_t)m << 48) ^ ((uint64_t)n << 24) ^ (uint64_t)k ^
                  ((uint64_t)(wp * TB_X_COUNT + xp) << 56)};
    size_t wn = (size_t)n * k, xn = (size_t)m * k, yn = (size_t)m * n;
    int8_t *w = malloc(wn), *x = malloc(xn);
    float *xs1 = malloc(sizeof(float) * m), *xs = malloc(sizeof(float) * m);
    float *want = malloc(sizeof(float) * yn), *got = malloc(sizeof(float) * yn);
    int bad = 0;
    fill_weights(w, wn, wp, &rng);
    fill_acts(x, xn, xp, &rng);
    for (int i = 0; i < m; i++) {
        xs1[i] = 1.0f;
        xs[i] = (0.5f + tb_rng_float(&rng)) / 127.0f; // what absmax gives for |x| ~ 0.5 .. 1.5
    }
    const float ws = 0.25f + tb_rng_float(&rng);
    char where[160];
    snprintf(where, sizeof where, "%s m=%d n=%d k=%d rows [%d,%d) W=%s X=%s seed=%llu", kn->name, m,
             n, k, row0, row1, tb_wpattern_names[wp], tb_xpattern_names[xp],
             (unsigned long long)seed);

    // Inexact (float baseline) kernels are held to kn->error_bound(k) * S, S = sum |w x| of the
    // output's terms (scaled like the output); compute S where needed.
    double *abs_sum = NULL;
    if (!kn->exact) {
        abs_sum = malloc(sizeof(double) * yn);
        for (int i = 0; i < m; i++)
            for (int j = row0; j < row1; j++) {
                int64_t a = 0;
                for (int t = 0; t < k; t++)
                    a += abs((int)w[(size_t)j * k + t] * (int)x[(size_t)i * k + t]);
                abs_sum[(size_t)i * n + j] = (double)a;
            }
    }

    // 1. Scales 1: the output is the integer dot itself, exact in float; an exact kernel must
    //    match it bit for bit (an inexact one within its bound), and every output outside
    //    [row0, row1) must still hold the sentinel.
    int passes = m == 1 ? 2 : 1;
    bad |= run_kernel(oracle, w, 1.0f, x, xs1, m, n, k, 0, n, 0, want, res);
    for (int pass = 0; pass < passes && !bad; pass++) {
        bad |= run_kernel(kn, w, 1.0f, x, xs1, m, n, k, row0, row1, pass, got, res);
        for (int i = 0; i < m && !bad; i++) {
            for (int j = 0; j < n; j++) {
                size_t at = (size_t)i * n + j;
                int inside = j >= row0 && j < row1;
                uint32_t g = float_bits(got[at]);
                uint32_t e = inside ? float_bits(want[at]) : SENTINEL_BITS;
                if (inside && !kn->exact) // within the bound counts as equal
                    e = fabs((double)got[at] - want[at]) <= allowance(kn, w + (size_t)j * k, 1.0f,
                                                                      x + (size_t)i * k, 1.0f, k,
                                                                      abs_sum[at])
                            ? g
                            : ~g;
                if (g != e) {
                    if (inside)
                        fail(res, "%s (%s): Y[%d][%d] = %.9g, naive gives %.9g", where,
                             pass ? "gemm" : "run", i, j, got[at], want[at]);
                    else
                        fail(res, "%s (%s): wrote Y[%d][%d] = %.9g outside its row range", where,
                             pass ? "gemm" : "run", i, j, got[at]);
                    bad = 1;
                    break;
                }
            }
        }
    }

    // 2. Real scales: within TB_SCALED_REL_TOL of naive, relative to the exact scaled dot
    //    (recovered from the scale-1 run, where it is exact). Naive's output with real scales is
    //    tb_scale_dot(dot, ws, xs) of the same integer dots as the scale-1 run (kernels/naive.c),
    //    so it is formed from those, bit for bit what a second naive run would give, without
    //    computing every dot again (the oracle's dots were half the suite's time; naive's own
    //    scaling is checked against the float reference by tb_check_naive_vs_reference).
    if (!bad) {
        float *want_s = malloc(sizeof(float) * yn);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                size_t at = (size_t)i * n + j;
                want_s[at] = tb_scale_dot((int32_t)want[at], ws, xs[i]);
            }
        bad |= run_kernel(kn, w, ws, x, xs, m, n, k, row0, row1, 0, got, res);
        for (int i = 0; i < m && !bad; i++) {
            for (int j = row0; j < row1; j++) {
                size_t at = (size_t)i * n + j;
                double exact = (double)ws * (double)xs[i] * (double)want[at];
                double allowed = TB_SCALED_REL_TOL * fabs(exact);
                if (!kn->exact) // kernel's own bound plus naive's share of TB_SCALED_REL_TOL
                    allowed = allowance(kn, w + (size_t)j * k, ws, x + (size_t)i * k, xs[i], k,
                                        abs_sum[at]) +
                              TB_SCALED_REL_TOL / 2 * fabs(exact);
                double diff = fabs((double)got[at] - (double)want_s[at]);
                double ratio = allowed > 0 ? diff / allowed : (diff > 0 ? INFINITY : 0);
                if (ratio > res->worst_ratio) res->worst_ratio = ratio;
                if (!(diff <= allowed)) {
                    fail(res, "%s scaled: Y[%d][%d] = %.9g, naive gives %.9g (|diff| %.3g > %.3g)",
                         where, i, j, got[at], want_s[at], diff, allowed);
                    bad = 1;
                    break;
                }
            }
        }
        free(want_s);
    }
    res->cases++;
    if (bad) res->failed++;
    free(abs_sum);
    free(w);
    free(x);
    free(xs1);
    free(xs);
    free(want);
    free(got);
    return bad;
}

void tb_check_shape_patterns(const tb_kernel *kn, int m, int n, int k, uint64_t seed,
                             tb_check_result *res)
{
    for (int wp = 0; wp < TB_W_COUNT; wp++)
        for (int xp = 0; xp < TB_X_COUNT; xp++) tb_check_case(kn, m, n, k, 0, n, wp, xp, seed, res);
    if (n > 2) tb_check_case(kn, m, n, k, 1, n - 1, TB_W_RANDOM, TB_X_RANDOM, seed, res);
}

// Distinct positive values of a list, in order, into out; returns how many.
static int uniq(const int *in, int count, int *out)
{
    int u = 0;
    for (int i = 0; i < count; i++) {
        if (in[i] < 1) continue;
        int seen = 0;
        for (int j = 0; j < u; j++) seen |= out[j] == in[i];
        if (!seen) out[u++] = in[i];
    }
    return u;
}

// The 2B4T linear layers (n x k): q/o, k/v, gate/up, down.
static const int shapes_2b4t[4][2] = {{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};

void tb_check_suite(const tb_kernel *kn, uint64_t seed, tb_check_result *res,
                    void (*progress)(void *ctx, int done, int total), void *ctx)
{
    const int kb = kn->k_block, nt = kn->n_tile;
    int kin[] = {1, kb - 1, kb, kb + 1, 2 * kb - 1, 2 * kb, 3 * kb + 5, 7, 64, 65, 255, 257};
    int nin[] = {1, nt - 1, nt, nt + 1, 2 * nt + 3, 37};
    const int ms[] = {1, 2, 3, 8, 33};
    int ks[16], ns[8];
    int nk = uniq(kin, sizeof kin / sizeof kin[0], ks);
    int nn = uniq(nin, sizeof nin / sizeof nin[0], ns);
    const int nm = sizeof ms / sizeof ms[0];
    // Deep-k adversarial shapes: the longest accumulation allowed (k = TB_K_MAX) and the 2B4T
    // down projection (k = 6912), where int16 accumulators of public kernels overflow.
    const int deep_k[] = {6912, TB_K_MAX};
    // Prefill GEMMs (the i2 panel kernels, i2_layout.h): every activation row count from 2 to 17
    // (each tail of a micro-kernel of up to 16 rows, and the switch from the GEMV-shaped path),
    // 31, 33, 128 and 130 (two chunks of activation rows); n = 77 is two panels of 32 rows and a
    // ragged one of 13, the ranges start and end inside panels (a panel of 25 rows, one of 1);
    // k = 700 is three slices of 256 and a ragged block, 256 exactly one, 6912 the 2B4T down
    // projection.
    static const int prefill_m[] = {2,  3,  4,  5,  6,  7,  8,  9,  10,  11,
                                    12, 13, 14, 15, 16, 17, 31, 33, 128, 130};
    static const int prefill_rows[][3] = {{77, 0, 77}, {77, 3, 60}, {40, 7, 40}};
    const int n_pm = sizeof prefill_m / sizeof prefill_m[0];
    const int n_pr = sizeof prefill_rows / sizeof prefill_rows[0];
    int total = nk * nn * nm + 2 * 4 + 2 + (TB_W_COUNT * TB_X_COUNT + 1) * 2 + n_pm + 3 +
                TB_W_COUNT * TB_X_COUNT + 1;
    int done = 0;

#define STEP()                                                                                     \
    do {                                                                                           \
        done++;                                                                                    \
        if (progress) progress(ctx, done, total);                                                  \
    } while (0)

    // Shapes around the kernel's own tile, random data; the row range starts and ends
    // mid-tile whenever n allows it.
    for (int a = 0; a < nk; a++)
        for (int b = 0; b < nn; b++)
            for (int c = 0; c < nm; c++) {
                int n = ns[b], row0 = n > 2 ? 1 : 0, row1 = n > 3 ? n - 1 : n;
                tb_check_case(kn, ms[c], n, ks[a], row0, row1, TB_W_RANDOM, TB_X_RANDOM,
                              seed + (uint64_t)done, res);
                STEP();
            }
    // The 2B4T shapes, decode (m = 1) and a small prefill (m = 3); random and the worst
    // accumulation (all +1 weights times -128).
    for (int s = 0; s < 4; s++) {
        int n = shapes_2b4t[s][0], k = shapes_2b4t[s][1];
        tb_check_case(kn, 1, n, k, 0, n, TB_W_RANDOM, TB_X_RANDOM, seed, res);
        tb_check_case(kn, 1, n, k, 0, n, TB_W_PLUS, TB_X_MIN, seed, res);
        STEP();
        tb_check_case(kn, 3, n, k, nt + 1, n - 1, TB_W_RANDOM, TB_X_RANDOM, seed, res);
        STEP();
    }
    for (int d = 0; d < 2; d++) {
        tb_check_case(kn, 2, nt + 1, deep_k[d], 0, nt + 1, TB_W_PLUS, TB_X_MIN, seed, res);
        tb_check_case(kn, 2, nt + 1, deep_k[d], 0, nt + 1, TB_W_MINUS, TB_X_MIN, seed, res);
        tb_check_case(kn, 1, nt + 1, deep_k[d], 0, nt + 1, TB_W_PLUS, TB_X_MAX, seed, res);
        STEP();
    }
    for (int c = 0; c < n_pm; c++) {
        for (int r = 0; r < n_pr; r++)
            tb_check_case(kn, prefill_m[c], prefill_rows[r][0], 700, prefill_rows[r][1],
                          prefill_rows[r][2], TB_W_RANDOM, TB_X_RANDOM, seed + (uint64_t)c, res);
        STEP();
    }
    for (int c = 0; c < 3; c++) { // m of one full micro-kernel and a tail, and of many
        const int m = c == 0 ? 12 : c == 1 ? 17 : 33;
        tb_check_case(kn, m, 45, 256, 0, 45, TB_W_RANDOM, TB_X_EXTREME, seed, res);
        tb_check_case(kn, m, 45, 6912, 2, 43, TB_W_RANDOM, TB_X_RANDOM, seed, res);
        if (c < 2) { // the longest accumulation, every step at its bound
            tb_check_case(kn, m, nt + 1, TB_K_MAX, 0, nt + 1, TB_W_PLUS, TB_X_MIN, seed, res);
            tb_check_case(kn, m, nt + 1, TB_K_MAX, 0, nt + 1, TB_W_MINUS, TB_X_MIN, seed, res);
        }
        STEP();
    }
    // Every adversarial pattern pair at a block-and-a-bit and at a 2B4T k.
    tb_check_shape_patterns(kn, 3, nt + 1, kb + 1, seed, res);
    tb_check_shape_patterns(kn, 13, 2 * nt + 1, kb + 1, seed, res);
    done += TB_W_COUNT * TB_X_COUNT + 1;
    done += TB_W_COUNT * TB_X_COUNT + 1;
    tb_check_shape_patterns(kn, 1, 2 * nt + 1, 2560, seed, res);
    done += TB_W_COUNT * TB_X_COUNT;
    STEP();
#undef STEP
}

int tb_check_naive_vs_reference(int m, int n, int k, uint64_t seed, tb_check_result *res)
{
    const tb_kernel *naive = tb_kernel_find("naive");
    tb_rng rng = {seed};
    size_t wn = (size_t)n * k, xn = (size_t)m * k, yn = (size_t)m * n;
    float *wf = malloc(sizeof(float) * wn), *xf = malloc(sizeof(float) * xn);
    float *wd = malloc(sizeof(float) * wn), *xd = malloc(sizeof(float) * xn);
    float *xs = malloc(sizeof(float) * m), *yref = malloc(sizeof(float) * yn);
    float *y = malloc(sizeof(float) * yn);
    int8_t *wt = malloc(wn), *xq = malloc(xn);
    int bad = 0;
    for (size_t i = 0; i < wn; i++) wf[i] = tb_rng_normal(&rng) * 0.02f;
    for (size_t i = 0; i < xn; i++) xf[i] = tb_rng_normal(&rng) * 3.0f;
    float ws = tb_ref_quantize_weights(wf, wn, wt);
    tb_ref_quantize_rows(xf, m, k, xq, xs);
    tb_ref_dequantize(wt, wn, ws, wd);
    for (int i = 0; i < m; i++)
        tb_ref_dequantize(xq + (size_t)i * k, (size_t)k, xs[i], xd + (size_t)i * k);
    tb_ref_matmul(xd, wd, m, n, k, yref);
    bad |= run_kernel(naive, wt, ws, xq, xs, m, n, k, 0, n, 0, y, res);
    for (int i = 0; i < m && !bad; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int t = 0; t < k; t++)
                s += fabs((double)wt[(size_t)j * k + t] * xq[(size_t)i * k + t]);
            s *= (double)ws * xs[i];
            double allowed = TB_REF_REL_TOL(k) * s;
            double diff = fabs((double)y[(size_t)i * n + j] - yref[(size_t)i * n + j]);
            double ratio = allowed > 0 ? diff / allowed : (diff > 0 ? INFINITY : 0);
            if (ratio > res->worst_ratio) res->worst_ratio = ratio;
            if (!(diff <= allowed)) {
                fail(res,
                     "naive vs float reference m=%d n=%d k=%d seed=%llu: Y[%d][%d] = %.9g, "
                     "reference %.9g (|diff| %.3g > %.3g)",
                     m, n, k, (unsigned long long)seed, i, j, y[(size_t)i * n + j],
                     yref[(size_t)i * n + j], diff, allowed);
                bad = 1;
                break;
            }
        }
    }
    res->cases++;
    if (bad) res->failed++;
    free(wf), free(xf), free(wd), free(xd), free(xs), free(yref), free(y), free(wt), free(xq);
    return bad;
}
