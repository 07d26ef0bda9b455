// tritbench kernel contract.
//
// Every ternary kernel sees the same canonical inputs:
//   weights      W : n x k int8, row-major, every value in {-1, 0, +1}, one float scale
//   activations  X : m x k int8, row-major, one float scale per row
//   output       Y : m x n float, row-major,
//                    Y[i][j] = w_scale * x_scale[i] * dot_int32(X[i], W[j])
//
// A kernel turns W into its own packed form once (pack), turns X into its own activation form
// once per call (prepare: padding, row sums, lookup tables), and then computes any range of
// output rows [row0, row1) (gemv for m = 1, gemm for m >= 1). Threads stay outside: a driver
// prepares once and hands each thread a row range. Kernels never allocate.
//
// Exactness: the integer dot product is exact in every "exact" kernel, and |dot| <= 128 * k
// stays below 2^24 for k <= TB_K_MAX, so (float)dot is exact too; with scales of 1 every exact
// kernel must return bit-identical floats to the naive kernel.
#ifndef TB_KERNEL_H
#define TB_KERNEL_H

#include <stddef.h>
#include <stdint.h>

// Largest k for which (float)dot is exact: 128 * TB_K_MAX == 2^24.
#define TB_K_MAX (1 << 17)
// Alignment the caller guarantees for packed weights, activations and outputs-to-be.
#define TB_ALIGN 64

// ISA features a kernel may require. One bit each, so a kernel states exactly what it needs.
// A kernel's features are named once, on its line of kernels.inc: meson compiles the file with
// the matching flags and defines TB_KERNEL_ISA to the same bits, and the file sets
// `.isa = TB_KERNEL_ISA` (a file built without it does not compile).
enum {
    TB_ISA_NONE = 0, // portable C
    TB_ISA_AVX2 = 1u << 0,
    TB_ISA_FMA = 1u << 1,
    TB_ISA_F16C = 1u << 2,
    TB_ISA_AVX512F = 1u << 3,
    TB_ISA_AVX512BW = 1u << 4,
    TB_ISA_AVX512VL = 1u << 5,
    TB_ISA_AVX512VNNI = 1u << 6,
    TB_ISA_AVX512VBMI = 1u << 7,
    TB_ISA_AVX512BF16 = 1u << 8,
    TB_ISA_AVX512FP16 = 1u << 9,
    TB_ISA_AVXVNNI = 1u << 10,
    TB_ISA_AMX = 1u << 11,
    TB_ISA_NEON = 1u << 16,
    TB_ISA_DOTPROD = 1u << 17,
    TB_ISA_I8MM = 1u << 18,
    TB_ISA_SVE = 1u << 19,
    TB_ISA_FP16 = 1u << 20, // ARM half-precision arithmetic (asimdhp)
};

// What a kernel is for: ternary weights (TB_FLOAT_NONE: the kernels dispatch chooses from), or
// float matrices such as the model's output head, held in one of these formats. Every kernel
// runs the ternary contract above (pack of ternary weights, int8 activations); a kernel for
// float matrices also packs arbitrary float weights (pack_float). The float formats FP32 and
// FP16 hold the dequantized weights w_scale * w and are the baselines that speedups are
// measured against; Q8 and Q4 quantize float weights (q8_layout.h, q4_layout.h) and are never
// a baseline of speedups nor chosen for ternary layers by dispatch.
typedef enum {
    TB_FLOAT_NONE = 0,
    TB_FLOAT_FP32 = 1,
    TB_FLOAT_FP16 = 2,
    TB_FLOAT_Q8 = 3, // float weights quantized to int8, one scale per row
    TB_FLOAT_Q4 = 4, // float weights quantized to 4 bits, one scale per group of 32
} tb_float_format;

// 1 for the float formats that hold dequantized weights (FP32, FP16): the baselines.
static inline int tb_float_format_is_baseline(tb_float_format f)
{
    return f == TB_FLOAT_FP32 || f == TB_FLOAT_FP16;
}

typedef struct tb_kernel {
    const char *name;        // = file stem = test name = results column
    const char *description; // one line for `tritbench kernels`
    // Packed format: kernels of one format pack the same weights into the same bytes (the same
    // pack and packed_size), so an engine can pack once and run any kernel of the format on
    // them. Kernels are named <format>_<isa> ("i2_avx2": format "i2"); the oracle `naive`
    // holds plain int8 ("int8"). Read it through tb_kernel_format().
    const char *format;
    uint32_t isa; // TB_ISA_* bits the CPU must have: TB_KERNEL_ISA
    int k_block;  // weights per packed block along k; k is zero-padded up to it
    int n_tile;   // weight rows computed together (a tile)
    int exact;    // 1: integer dot bit-exact with naive; 0: inexact (error_bound)
    // Preference within its kind, higher is faster; 0 = never chosen automatically. Ternary
    // kernels are ranked against each other (tb_kernel_best), kernels of a float format against
    // the kernels of their format (tb_kernel_best_baseline).
    int rank;

    // TB_FLOAT_NONE for a ternary kernel; else the float format of a kernel for float matrices
    // (the engine's output head): FP32/FP16, the baselines speedups are measured against, or
    // Q8/Q4, quantized formats (tb_float_format).
    tb_float_format baseline;
    // Inexact kernels only: largest |Y - exact| allowed, relative to S = sum over the k terms
    // of |w_scale * x_scale * w * x|, derived from the kernel's arithmetic.
    double (*error_bound)(int k);
    // Optional, for inexact kernels whose error depends on the data rather than on k alone (a
    // peer's own activation quantization: harness/peers): the largest |Y - w_scale * x_scale *
    // dot(w, x)| allowed for one output, from its k weights and activations. Used instead of
    // error_bound where set.
    double (*output_bound)(const int8_t *w, float w_scale, const int8_t *x, float x_scale, int k);

    // Bytes of the packed form of an n x k weight matrix, scale included.
    size_t (*packed_size)(int n, int k);
    // Pack canonical ternary weights. Callers use tb_pack(), which first refuses values
    // outside {-1, 0, +1}; pack itself may assume valid input.
    void (*pack)(const int8_t *w, float w_scale, int n, int k, void *packed);
    // Pack arbitrary finite float weights (n x k, row-major) into the same layout, for float
    // matrices such as the output head; NULL for formats that hold only ternary weights (i2,
    // lut2, lut3, int8). Callers use tb_pack_float(). Activations stay int8 rows with a scale
    // per row (prepare), as for every kernel.
    void (*pack_float)(const float *w, int n, int k, void *packed);
    // Bytes of the prepared form of m activation rows of length k.
    size_t (*act_size)(int m, int k);
    void (*prepare)(const int8_t *x, const float *x_scale, int m, int k, void *act);
    // Y[0][row0..row1) for one activation row (y points at Y[0][0]).
    void (*gemv)(const void *packed, const void *act, int n, int k, int row0, int row1, float *y);
    // Y[i][row0..row1) for i in [0, m) (y points at Y[0][0], row stride n).
    void (*gemm)(const void *packed, const void *act, int m, int n, int k, int row0, int row1,
                 float *y);
} tb_kernel;

// The one rounding order every kernel uses to scale an exact integer dot.
static inline float tb_scale_dot(int32_t dot, float w_scale, float x_scale)
{
    return (float)dot * (w_scale * x_scale);
}

static inline size_t tb_align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

// ---- runtime parameters of the kernels (registry.c) ----

// How far ahead in its weight streams a kernel that software-prefetches fetches, in bytes (0:
// no software prefetch; kernels that do not prefetch ignore it). Process-wide, so that
// `tritbench tune` can measure other values and the engine can apply the tuned one; set it
// between products, not while one runs. Values are clamped to [0, TB_PREFETCH_MAX].
#define TB_PREFETCH_DEFAULT 2048 // measured on an Ice Lake server VM (i2_layout.h)
#define TB_PREFETCH_MAX     65536
void tb_prefetch_set(int bytes);
int tb_prefetch_get(void);

// ---- registry (registry.c) ----

// The packed format of k ("i2", "lut2", "lut3", "f16", "f32", "q8", "q4", "int8"): two kernels of
// the same format can run on weights packed by either (tests/test_format.c checks the bytes).
const char *tb_kernel_format(const tb_kernel *k);

// All kernels built for this architecture, in list order (kernels.inc).
int tb_kernel_count(void);
const tb_kernel *tb_kernel_at(int i);
// NULL if no kernel of that name was built here.
const tb_kernel *tb_kernel_find(const char *name);
// Adds a kernel made at run time (a peer: harness/peers) after the list; 0 on success or if
// one of that name is already there, -1 if the table is full. Call before threads start.
int tb_kernel_add(const tb_kernel *k);
// Kernels of the list (kernels.inc) alone, without those added at run time.
int tb_kernel_static_count(void);

// CPU features of this machine (cpu.c), detected once. TRITBENCH_DISABLE=avx512vnni,avx2
// (feature names as printed by tb_isa_names) removes features, to test fallbacks; it can only
// remove, so it can never make a kernel run on a CPU that lacks its instructions.
uint32_t tb_cpu_features(void);
// Features the CPU really has, before TRITBENCH_DISABLE.
uint32_t tb_cpu_features_raw(void);
// Bit of a feature name ("avx2"), 0 if unknown.
uint32_t tb_isa_bit(const char *name);
// Writes "avx512vnni avx512bw" for the bits in mask into buf.
void tb_isa_names(uint32_t mask, char *buf, size_t len);
// 1 if the CPU can run k; else 0 and, if why != NULL, the reason ("CPU lacks avx512vnni").
int tb_kernel_supported(const tb_kernel *k, char *why, size_t why_len);
// The fastest kernel this CPU can run, honouring TRITBENCH_KERNEL=name. With TRITBENCH_DEBUG
// set, prints one line to stderr saying which kernel was picked and why.
// Never a baseline, unless TRITBENCH_KERNEL names one.
const tb_kernel *tb_kernel_best(void);
// The two halves of tb_kernel_best, for callers that choose by other means in between (the
// harness's tuned dispatch) and print their own debug line:
// the kernel TRITBENCH_KERNEL names, if set, known and runnable here, else NULL (a name that is
// unknown or unrunnable is reported on stderr, as tb_kernel_best does);
const tb_kernel *tb_kernel_override(void);
// and the highest-ranked ternary kernel this CPU runs (NULL if none), ignoring the variable.
const tb_kernel *tb_kernel_ranked(void);
// The highest-ranked kernel of float format fmt (TB_FLOAT_FP16, _FP32, _Q8, _Q4) this CPU can
// run; NULL if there is none (or fmt is TB_FLOAT_NONE). Found by trait, not by name, so a new
// kernel of a format is one line in kernels.inc. Ignores TRITBENCH_KERNEL.
const tb_kernel *tb_kernel_best_baseline(tb_float_format fmt);

// ---- safe wrappers every caller uses (registry.c) ----

// 64-byte aligned, zeroed; free with tb_free. Aborts with a message if memory runs out.
void *tb_alloc(size_t bytes);
void tb_free(void *p);
// Checks shape and that every weight is in {-1, 0, +1}, then packs. On error returns -1 and
// writes a one-line message ("weight W[3][17] = 2 is not in {-1, 0, +1}") into err.
int tb_pack(const tb_kernel *kn, const int8_t *w, float w_scale, int n, int k, void *packed,
            char *err, size_t err_len);
// Checks shape, that kn packs float weights (pack_float) and that every weight is finite, then
// packs. On error returns -1 and writes a one-line message into err.
int tb_pack_float(const tb_kernel *kn, const float *w, int n, int k, void *packed, char *err,
                  size_t err_len);
// Shape check shared by all entry points: 1 <= m, n; 1 <= k <= TB_K_MAX.
int tb_check_shape(int m, int n, int k, char *err, size_t err_len);
// Y[i][row0..row1) for all m rows: gemv when m == 1, else gemm.
void tb_run(const tb_kernel *kn, const void *packed, const void *act, int m, int n, int k, int row0,
            int row1, float *y);

#endif
