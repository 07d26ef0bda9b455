// ggml's matrix products as kernels of the registry (peers.h).
//
// Packed weights are ggml's own rows of blocks, n rows of row_bytes(kpad) each (k zero-padded
// to the block); prepared activations are ggml's rows of the paired type, then one float row
// of scratch where prepare dequantizes an int8 row before ggml quantizes it:
//
//   packed: | row 0: blocks of type T | row 1 | ... | row n-1 |
//   act:    | row 0: blocks of T's vec_dot_type | ... | row m-1 | pad to 64 | float[kpad] |
#define _DEFAULT_SOURCE
#include "peers.h"
#include "tb_kernel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Unit roundoff of float and half (round to nearest), and the smallest normal half's spacing
// (subnormal halves are spaced 2^-24 apart: a rounding error of at most 2^-25).
#define U32          0x1p-24
#define U16          0x1p-11
#define HALF_SUB_ERR 0x1p-25

// How one operand's values are stored, for the bound (ggml_abi.h has the block layouts).
typedef enum {
    Q_HALF,    // F16: each value rounded to half
    Q_TERNARY, // TQ1_0 / TQ2_0: codes in {-1, 0, 1} exact, one f16 scale = the block's max |w|
    Q_Q8_0,    // int8 codes, f16 scale = max |v| / 127 per 32
    Q_Q4_0,    // 4-bit codes, f16 scale = max / -8 per 32 (code 16 clamped to 15)
    Q_Q8_K,    // int8 codes, float scale = max |v| / 127 per 256
} quant;

typedef struct {
    const char *type_name;
    int type, k_block;
    quant wq; // how weights are stored
    int act_type;
    quant aq;                     // how activations are stored
    int w_block, a_block;         // elements per block of weights, of activations
    size_t w_bytes, a_bytes;      // bytes per block
    tb_ggml_from_float act_quant; // ggml's quantizer of the activation type
    tb_ggml_vec_dot vec_dot;
    tb_kernel kn;
    char name[32], format[32], description[900];
} peer;

#define PEER(NAME, T, KB, WQ, AT, AQ, WB, AB, WBYTES, ABYTES)                                      \
    {                                                                                              \
        .type_name = NAME, .type = T, .k_block = KB, .wq = WQ, .act_type = AT, .aq = AQ,           \
        .w_block = WB, .a_block = AB, .w_bytes = WBYTES, .a_bytes = ABYTES                         \
    }
static peer peers[] = {
    PEER("tq2_0", TB_GGML_T_TQ2_0, 256, Q_TERNARY, TB_GGML_T_Q8_K, Q_Q8_K, 256, 256, 66, 292),
    PEER("tq1_0", TB_GGML_T_TQ1_0, 256, Q_TERNARY, TB_GGML_T_Q8_K, Q_Q8_K, 256, 256, 54, 292),
    PEER("q4_0", TB_GGML_T_Q4_0, 32, Q_Q4_0, TB_GGML_T_Q8_0, Q_Q8_0, 32, 32, 18, 34),
    PEER("q8_0", TB_GGML_T_Q8_0, 32, Q_Q8_0, TB_GGML_T_Q8_0, Q_Q8_0, 32, 32, 34, 34),
    PEER("f16", TB_GGML_T_F16, 1, Q_HALF, TB_GGML_T_F16, Q_HALF, 1, 1, 2, 2),
};
#define N_PEERS ((int)(sizeof peers / sizeof peers[0]))

static tb_ggml_lib lib;
static int loaded;
static char loaded_dir[512];
static int fault_weights;

int tb_is_peer(const char *name)
{
    return strncmp(name, TB_PEER_PREFIX, strlen(TB_PEER_PREFIX)) == 0;
}

int tb_list_has_peer(const char *list)
{
    if (!list) return 0;
    for (const char *s = list; *s;) {
        while (*s == ',' || *s == ' ') s++;
        if (tb_is_peer(s)) return 1;
        s += strcspn(s, ",");
    }
    return 0;
}

const tb_ggml_lib *tb_peers_lib(void)
{
    return loaded ? &lib : NULL;
}

// ---- the kernel functions, on one peer ----

static int kpad(const peer *p, int k)
{
    return (k + p->k_block - 1) / p->k_block * p->k_block;
}

static size_t w_row(const peer *p, int k)
{
    return (size_t)kpad(p, k) / p->w_block * p->w_bytes;
}

static size_t a_row(const peer *p, int k)
{
    return (size_t)kpad(p, k) / p->a_block * p->a_bytes;
}

static size_t p_packed_size(const peer *p, int n, int k)
{
    return (size_t)n * w_row(p, k);
}

// Weights w * w_scale as floats, quantized by ggml a slab of rows at a time (the float copy of
// a 2B4T matrix would be 70 MB).
static void p_pack(const peer *p, const int8_t *w, float w_scale, int n, int k, void *packed)
{
    enum { SLAB = 64 };
    int kp = kpad(p, k);
    float *f = calloc((size_t)SLAB * kp, sizeof(float));
    if (!f) abort();
    for (int r0 = 0; r0 < n; r0 += SLAB) {
        int rows = n - r0 < SLAB ? n - r0 : SLAB;
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < k; t++)
                f[(size_t)r * kp + t] = (float)w[(size_t)(r0 + r) * k + t] * w_scale;
        lib.quantize_chunk(p->type, f, (char *)packed + (size_t)r0 * w_row(p, k), 0, rows, kp,
                           NULL);
    }
    free(f);
    if (fault_weights) // test hook (peers.h): one corrupted block
        for (int b = 0; b < 8 && (size_t)b < w_row(p, k); b++) ((unsigned char *)packed)[b] ^= 0x5a;
}

static size_t p_act_size(const peer *p, int m, int k)
{
    return tb_align_up((size_t)m * a_row(p, k), TB_ALIGN) + sizeof(float) * (size_t)kpad(p, k);
}

static void p_prepare(const peer *p, const int8_t *x, const float *x_scale, int m, int k, void *act)
{
    int kp = kpad(p, k);
    float *f = (float *)((char *)act + tb_align_up((size_t)m * a_row(p, k), TB_ALIGN));
    for (int i = 0; i < m; i++) {
        for (int t = 0; t < k; t++) f[t] = (float)x[(size_t)i * k + t] * x_scale[i];
        for (int t = k; t < kp; t++) f[t] = 0;
        p->act_quant(f, (char *)act + (size_t)i * a_row(p, k), kp);
    }
}

static void p_gemv(const peer *p, const void *packed, const void *act, int n, int k, int row0,
                   int row1, float *y)
{
    (void)n;
    int kp = kpad(p, k);
    size_t wr = w_row(p, k);
    for (int j = row0; j < row1; j++)
        p->vec_dot(kp, &y[j], 0, (const char *)packed + (size_t)j * wr, 0, act, 0, 1);
}

// As ggml's mul_mat: 16 x 16 blocks of (activation rows, weight rows), one vec_dot an output.
static void p_gemm(const peer *p, const void *packed, const void *act, int m, int n, int k,
                   int row0, int row1, float *y)
{
    enum { BLOCK = 16 };
    int kp = kpad(p, k);
    size_t wr = w_row(p, k), ar = a_row(p, k);
    for (int i0 = 0; i0 < m; i0 += BLOCK)
        for (int j0 = row0; j0 < row1; j0 += BLOCK)
            for (int i = i0; i < i0 + BLOCK && i < m; i++)
                for (int j = j0; j < j0 + BLOCK && j < row1; j++)
                    p->vec_dot(kp, &y[(size_t)i * n + j], 0, (const char *)packed + (size_t)j * wr,
                               0, (const char *)act + (size_t)i * ar, 0, 1);
}

// ---- the bound ----
//
// For one output, terms t = 0..k-1 with weight value wv_t = w_t * ws and activation value
// av_t = x_t * xs. The peer computes with stored values wv_t + dw_t and av_t + da_t, where
//   av_t itself is first rounded to float once (prepare): |.| <= u |av_t|, counted in da_t;
//   half (F16):          |d| <= 2^-11 |v| + 2^-25 (subnormal halves)
//   ternary (TQ1/TQ2):   codes exact; the f16 scale of the block's max |w|: |d| <= 2^-11 |v|
//   Q8_0 (scale d = max|v|/127 per 32, stored f16): |d| <= (max|v| / 254)(1 + 2^-10)
//                        + (2^-11 + 4u)|v|   (rounding to the code, then the half scale)
//   Q4_0 (d = max/-8 per 32, code = min(15, floor(v/d + 8.5))): |d| <= max|v| (1/8 + 2^-10)
//                        (the code of -max clamps from 16 to 15: one whole step)
//   Q8_K (float scale = max|v|/127 per 256): |d| <= (max|v| / 254)(1 + 4u) + 7u |v|
// and sums in float in some order (within a block exact integer sums where both are codes):
// at most gamma_(k+4) times the sum of |stored w||stored a| (u per operation, k + 4 of them in
// the longest chain). The error is then
//   sum_t (|dw_t| (|av_t| + |da_t|) + |wv_t| |da_t|) + gamma_(k+4) sum_t (|wv_t| + |dw_t|)(|av_t| +
//   |da_t|).

static double quant_err(quant q, double v, double block_max)
{
    switch (q) {
    case Q_HALF:
        return U16 * v + HALF_SUB_ERR;
    case Q_TERNARY:
        return U16 * v;
    case Q_Q8_0:
        return block_max / 254.0 * (1 + 0x1p-10) + (U16 + 4 * U32) * v;
    case Q_Q4_0:
        return block_max * (0.125 + 0x1p-10);
    case Q_Q8_K:
        return block_max / 254.0 * (1 + 4 * U32) + 7 * U32 * v;
    }
    return INFINITY;
}

// Largest |v| of the block of `block` values holding element t (values |s * c|, c int8).
static double block_max(const int8_t *c, double s, int k, int t, int block)
{
    int b0 = t / block * block, b1 = b0 + block < k ? b0 + block : k;
    int mx = 0;
    for (int i = b0; i < b1; i++) mx = abs(c[i]) > mx ? abs(c[i]) : mx;
    return mx * s;
}

static double p_bound(const peer *p, const int8_t *w, float ws, const int8_t *x, float xs, int k)
{
    double err = 0, mag = 0, wmax = 0, amax = 0;
    for (int t = 0; t < k; t++) {
        if (t % p->w_block == 0) wmax = block_max(w, fabs(ws), k, t, p->w_block);
        if (t % p->a_block == 0) amax = block_max(x, fabs(xs), k, t, p->a_block);
        double wv = fabs((double)w[t] * ws), av = fabs((double)x[t] * xs);
        // A zero is stored exactly by every format (Q4_0: code 8).
        double dw = wv > 0 ? quant_err(p->wq, wv, wmax) : 0;
        double da = av > 0 ? U32 * av + quant_err(p->aq, av, amax) : 0;
        err += dw * (av + da) + wv * da;
        mag += (wv + dw) * (av + da);
    }
    double n_ops = (double)k + 4;
    return err + n_ops * U32 / (1 - n_ops * U32) * mag;
}

// ---- one set of kernel functions per peer (the contract passes no context) ----

#define PEER_FNS(i)                                                                                \
    static size_t packed_size_##i(int n, int k)                                                    \
    {                                                                                              \
        return p_packed_size(&peers[i], n, k);                                                     \
    }                                                                                              \
    static void pack_##i(const int8_t *w, float ws, int n, int k, void *packed)                    \
    {                                                                                              \
        p_pack(&peers[i], w, ws, n, k, packed);                                                    \
    }                                                                                              \
    static size_t act_size_##i(int m, int k)                                                       \
    {                                                                                              \
        return p_act_size(&peers[i], m, k);                                                        \
    }                                                                                              \
    static void prepare_##i(const int8_t *x, const float *xs, int m, int k, void *act)             \
    {                                                                                              \
        p_prepare(&peers[i], x, xs, m, k, act);                                                    \
    }                                                                                              \
    static void gemv_##i(const void *pk, const void *act, int n, int k, int r0, int r1, float *y)  \
    {                                                                                              \
        p_gemv(&peers[i], pk, act, n, k, r0, r1, y);                                               \
    }                                                                                              \
    static void gemm_##i(const void *pk, const void *act, int m, int n, int k, int r0, int r1,     \
                         float *y)                                                                 \
    {                                                                                              \
        p_gemm(&peers[i], pk, act, m, n, k, r0, r1, y);                                            \
    }                                                                                              \
    static double bound_##i(const int8_t *w, float ws, const int8_t *x, float xs, int k)           \
    {                                                                                              \
        return p_bound(&peers[i], w, ws, x, xs, k);                                                \
    }
PEER_FNS(0)
PEER_FNS(1)
PEER_FNS(2)
PEER_FNS(3)
PEER_FNS(4)
#define PEER_SET(i)                                                                                \
    {                                                                                              \
        packed_size_##i, pack_##i, act_size_##i, prepare_##i, gemv_##i, gemm_##i, bound_##i        \
    }
static const struct {
    size_t (*packed_size)(int, int);
    void (*pack)(const int8_t *, float, int, int, void *);
    size_t (*act_size)(int, int);
    void (*prepare)(const int8_t *, const float *, int, int, void *);
    void (*gemv)(const void *, const void *, int, int, int, int, float *);
    void (*gemm)(const void *, const void *, int, int, int, int, int, float *);
    double (*bound)(const int8_t *, float, const int8_t *, float, int);
} fns[N_PEERS] = {PEER_SET(0), PEER_SET(1), PEER_SET(2), PEER_SET(3), PEER_SET(4)};

static const char *short_name(int type)
{
    return lib.type_name(type);
}

int tb_peers_load(const char *dir_opt, char *err, size_t err_len)
{
    char dir[512];
    const char *source;
    tb_peer_dir(dir_opt, dir, sizeof dir, &source);
    if (loaded) {
        if (strcmp(dir, loaded_dir) == 0) return 0;
        snprintf(err, err_len, "peers already loaded from %s; cannot also load %s", loaded_dir,
                 dir);
        return -1;
    }
    char why[700];
    if (tb_ggml_open(dir, &lib, why, sizeof why)) {
        snprintf(err, err_len, "peer ggml (%s %s): %s", source, dir, why);
        return -1;
    }
    const char *fault = getenv("TRITBENCH_PEER_FAULT");
    fault_weights = fault && strcmp(fault, "weights") == 0;
    for (int i = 0; i < N_PEERS; i++) {
        peer *p = &peers[i];
        const tb_ggml_type_traits_cpu *t = lib.traits_cpu(p->type);
        p->vec_dot = t->vec_dot;
        p->act_quant = lib.traits_cpu(p->act_type)->from_float;
        if (fault && strcmp(fault, "vec_dot") == 0 && p->type == TB_GGML_T_TQ2_0)
            p->vec_dot = lib.traits_cpu(TB_GGML_T_TQ1_0)->vec_dot; // test hook: wrong binding
        snprintf(p->name, sizeof p->name, TB_PEER_PREFIX "ggml-%s", p->type_name);
        snprintf(p->format, sizeof p->format, "ggml-%s", p->type_name);
        snprintf(p->description, sizeof p->description,
                 "peer: ggml %s x %s vec_dot (ggml %s, commit %s, %s)", short_name(p->type),
                 short_name(p->act_type), lib.version, lib.commit, lib.cpu_path);
        p->kn = (tb_kernel){
            .name = p->name,
            .description = p->description,
            .format = p->format,
            .isa = 0, // ggml picked its own CPU variant by score: it runs here
            .k_block = p->k_block,
            .n_tile = 1,
            .exact = 0,
            .rank = 0, // never chosen by dispatch
            .baseline = TB_FLOAT_NONE,
            .output_bound = fns[i].bound,
            .packed_size = fns[i].packed_size,
            .pack = fns[i].pack,
            .act_size = fns[i].act_size,
            .prepare = fns[i].prepare,
            .gemv = fns[i].gemv,
            .gemm = fns[i].gemm,
        };
        if (tb_kernel_add(&p->kn)) {
            snprintf(err, err_len, "peer %s: the kernel registry is full", p->name);
            return -1;
        }
    }
    loaded = 1;
    snprintf(loaded_dir, sizeof loaded_dir, "%s", dir);
    return 0;
}
