#include "compute_roof.h"
#include "tb_clock.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHAINS         12
#define PASS_SECONDS   0.02
#define CALIBRATE_ITER 20000

static const char *const names[TB_PATH_COUNT] = {
    "vpdpbusd-512", "vpdpbusd-256", "vpmaddubsw-512", "vpmaddubsw-256", "fma-fp32-512",
    "fma-fp32-256", "sdot",         "smlal",          "fmla-fp32",
};
// Multiply-accumulates of one instruction (or of one vpmaddubsw sequence) of each path.
static const int macs_per_op[TB_PATH_COUNT] = {64, 32, 64, 32, 16, 8, 16, 8, 4};

const char *tb_compute_path_name(tb_compute_path path)
{
    return path >= 0 && path < TB_PATH_COUNT ? names[path] : "none";
}

static uint32_t path_isa(tb_compute_path path)
{
    switch (path) {
    case TB_PATH_VPDPBUSD_512:
        return TB_ISA_AVX512F | TB_ISA_AVX512BW | TB_ISA_AVX512VNNI;
    case TB_PATH_VPDPBUSD_256:
        return TB_ISA_AVX2 | TB_ISA_AVXVNNI;
    case TB_PATH_VPMADDUBSW_512:
        return TB_ISA_AVX512F | TB_ISA_AVX512BW;
    case TB_PATH_VPMADDUBSW_256:
        return TB_ISA_AVX2;
    case TB_PATH_FMA_512:
        return TB_ISA_AVX512F;
    case TB_PATH_FMA_256:
        return TB_ISA_AVX2 | TB_ISA_FMA;
    case TB_PATH_SDOT:
        return TB_ISA_NEON | TB_ISA_DOTPROD;
    case TB_PATH_SMLAL:
    case TB_PATH_FMLA:
        return TB_ISA_NEON;
    default:
        return 0;
    }
}

static int path_built(tb_compute_path path)
{
#if defined(__x86_64__)
    return path <= TB_PATH_FMA_256;
#elif defined(__aarch64__)
    return path >= TB_PATH_SDOT && path <= TB_PATH_FMLA;
#else
    (void)path;
    return 0;
#endif
}

int tb_compute_path_supported(tb_compute_path path)
{
    if (path < 0 || path >= TB_PATH_COUNT || !path_built(path)) return 0;
    uint32_t need = path_isa(path);
    return (tb_cpu_features() & need) == need;
}

// The first supported path of a list, TB_PATH_NONE if none.
static tb_compute_path first_supported(const tb_compute_path *paths, int n)
{
    for (int i = 0; i < n; i++)
        if (tb_compute_path_supported(paths[i])) return paths[i];
    return TB_PATH_NONE;
}

// Table-lookup kernels (formats lut2, lut3) add precomputed sums: one lookup covers 2 or 3
// weights, so no multiply-accumulate instruction bounds them.
static int is_lookup(const tb_kernel *kn)
{
    return strncmp(tb_kernel_format(kn), "lut", 3) == 0;
}

const char *tb_compute_path_none_reason(const tb_kernel *kn)
{
    if (is_lookup(kn))
        return "table lookups (one covers several weights): no multiply-accumulate path bounds "
               "them";
    if (kn->isa == TB_ISA_NONE) return "portable C: the compiler chooses its instructions";
    return "no probe for this kernel's instructions on this CPU";
}

tb_compute_path tb_compute_path_of(const tb_kernel *kn)
{
    static const tb_compute_path fma[] = {TB_PATH_FMA_512, TB_PATH_FMA_256, TB_PATH_FMLA};
    const uint32_t isa = kn->isa;
    // Float baselines multiply floats; the quantized float formats (q8, q4) multiply integers
    // like the ternary kernels, so they take the integer paths below.
    if (tb_float_format_is_baseline(kn->baseline)) {
        if (isa == TB_ISA_NONE) return first_supported(fma, 3); // BLAS: the CPU's best
        if (isa & TB_ISA_AVX512F) return TB_PATH_FMA_512;
        if (isa & TB_ISA_AVX2) return TB_PATH_FMA_256;
        if (isa & TB_ISA_NEON) return TB_PATH_FMLA;
        return TB_PATH_NONE;
    }
    if (is_lookup(kn)) return TB_PATH_NONE;
    if (isa & TB_ISA_AVX512VNNI) return TB_PATH_VPDPBUSD_512;
    if (isa & TB_ISA_AVXVNNI) return TB_PATH_VPDPBUSD_256;
    if (isa & TB_ISA_AVX512BW) return TB_PATH_VPMADDUBSW_512;
    if (isa & TB_ISA_AVX2) return TB_PATH_VPMADDUBSW_256;
    if (isa & TB_ISA_DOTPROD) return TB_PATH_SDOT;
    if (isa & TB_ISA_NEON) return TB_PATH_SMLAL;
    return TB_PATH_NONE;
}

// Operands the compiler cannot see through, and where results go so no chain is dead.
static volatile uint32_t seed_word = 0x01020304u;
static volatile uint64_t sink;

// The body of a probe: CHAINS = 12 independent accumulators, each starting from its own value
// init(i) (equal ones would let the compiler merge the chains into one) and stepped `iters`
// times (step(x): the next value of accumulator x), then folded into the sink so that no chain is
// dead code. Named variables, not an array: gcc kept an array of vectors in registers but
// copied every accumulator in and out of a fresh register around each step (two moves per
// instruction), which read the vpdpbusd peak 1.2x or more too low.
#define CHAIN_LOOP(T, init, step, reduce)                                                          \
    T c0 = init(0), c1 = init(1), c2 = init(2), c3 = init(3), c4 = init(4), c5 = init(5);          \
    T c6 = init(6), c7 = init(7), c8 = init(8), c9 = init(9), c10 = init(10), c11 = init(11);      \
    for (long i = 0; i < iters; i++) {                                                             \
        c0 = step(c0), c1 = step(c1), c2 = step(c2), c3 = step(c3), c4 = step(c4);                 \
        c5 = step(c5), c6 = step(c6), c7 = step(c7), c8 = step(c8), c9 = step(c9);                 \
        c10 = step(c10), c11 = step(c11);                                                          \
    }                                                                                              \
    sink = sink + reduce(c0) + reduce(c1) + reduce(c2) + reduce(c3) + reduce(c4) + reduce(c5) +    \
           reduce(c6) + reduce(c7) + reduce(c8) + reduce(c9) + reduce(c10) + reduce(c11);
_Static_assert(CHAINS == 12, "CHAIN_LOOP names twelve accumulators");

#if defined(__x86_64__)
#include <immintrin.h>

// The bits of lane 0 of an accumulator: the integer ones wrap (a signed horizontal sum would
// overflow), and converting a float out of range is undefined.
#define LANE0_512(v) ((uint64_t)(uint32_t)_mm_cvtsi128_si32(_mm512_castsi512_si128(v)))
#define LANE0_256(v) ((uint64_t)(uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(v)))

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void dpbusd512(long iters)
{
    __m512i a = _mm512_set1_epi32((int)seed_word), b = _mm512_set1_epi32((int)(seed_word >> 1));
// In place through asm: gcc copies the intrinsic's accumulator in and out of a fresh register
// around each vpdpbusd (two moves an instruction, seen in objdump), which a kernel's hand-
// scheduled loop does not pay.
#define STEP(x)                                                                                    \
    __extension__({                                                                                \
        __m512i t_ = (x);                                                                          \
        __asm__("vpdpbusd %2, %1, %0" : "+v"(t_) : "v"(a), "v"(b));                                \
        t_;                                                                                        \
    })
    CHAIN_LOOP(__m512i, _mm512_set1_epi32, STEP, LANE0_512)
#undef STEP
}

__attribute__((target("avx2,avxvnni"))) static void dpbusd256(long iters)
{
    __m256i a = _mm256_set1_epi32((int)seed_word), b = _mm256_set1_epi32((int)(seed_word >> 1));
#define STEP(x)                                                                                    \
    __extension__({                                                                                \
        __m256i t_ = (x);                                                                          \
        __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(t_) : "x"(a), "x"(b));                        \
        t_;                                                                                        \
    })
    CHAIN_LOOP(__m256i, _mm256_set1_epi32, STEP, LANE0_256)
#undef STEP
}

// vpmaddubsw alone, its result fed back as its unsigned operand: the instruction's throughput,
// an upper bound for any kernel built on it (kernels add vpmaddwd/vpaddd now and then).
__attribute__((target("avx512f,avx512bw"))) static void maddubs512(long iters)
{
    __m512i a = _mm512_set1_epi32((int)seed_word), b = _mm512_set1_epi32((int)(seed_word >> 1));
#define STEP(x)  _mm512_maddubs_epi16(x, b)
#define START(i) _mm512_add_epi8(a, _mm512_set1_epi8(i))
    CHAIN_LOOP(__m512i, START, STEP, LANE0_512)
#undef START
#undef STEP
}

__attribute__((target("avx2"))) static void maddubs256(long iters)
{
    __m256i a = _mm256_set1_epi32((int)seed_word), b = _mm256_set1_epi32((int)(seed_word >> 1));
#define STEP(x)  _mm256_maddubs_epi16(x, b)
#define START(i) _mm256_add_epi8(a, _mm256_set1_epi8(i))
    CHAIN_LOOP(__m256i, START, STEP, LANE0_256)
#undef START
#undef STEP
}

__attribute__((target("avx512f"))) static void fma512(long iters)
{
    __m512 a = _mm512_set1_ps((float)(seed_word & 7) * 1e-3f), b = _mm512_set1_ps(0.999f);
#define STEP(x)  _mm512_fmadd_ps(x, b, a)
#define LANE0(x) LANE0_512(_mm512_castps_si512(x))
#define START(i) _mm512_set1_ps((float)(i)*1e-3f)
    CHAIN_LOOP(__m512, START, STEP, LANE0)
#undef STEP
#undef LANE0
#undef START
}

__attribute__((target("avx2,fma"))) static void fma256(long iters)
{
    __m256 a = _mm256_set1_ps((float)(seed_word & 7) * 1e-3f), b = _mm256_set1_ps(0.999f);
#define STEP(x)  _mm256_fmadd_ps(x, b, a)
#define LANE0(x) LANE0_256(_mm256_castps_si256(x))
#define START(i) _mm256_set1_ps((float)(i)*1e-3f)
    CHAIN_LOOP(__m256, START, STEP, LANE0)
#undef STEP
#undef LANE0
#undef START
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

__attribute__((target("arch=armv8.2-a+dotprod"))) static void sdot(long iters)
{
    int8x16_t a = vreinterpretq_s8_u32(vdupq_n_u32(seed_word));
    int8x16_t b = vreinterpretq_s8_u32(vdupq_n_u32(seed_word >> 1));
#define STEP(x)   vdotq_s32(x, a, b)
#define REDUCE(x) ((uint64_t)vaddvq_s32(x))
    CHAIN_LOOP(int32x4_t, vdupq_n_s32, STEP, REDUCE)
#undef STEP
#undef REDUCE
}

static void smlal(long iters)
{
    int8x8_t a = vreinterpret_s8_u32(vdup_n_u32(seed_word));
    int8x8_t b = vreinterpret_s8_u32(vdup_n_u32(seed_word >> 1));
#define STEP(x)   vmlal_s8(x, a, b)
#define REDUCE(x) ((uint64_t)vaddvq_s16(x))
    CHAIN_LOOP(int16x8_t, vdupq_n_s16, STEP, REDUCE)
#undef STEP
#undef REDUCE
}

static void fmla(long iters)
{
    float32x4_t a = vdupq_n_f32((float)(seed_word & 7) * 1e-3f), b = vdupq_n_f32(0.999f);
#define STEP(x)   vfmaq_f32(a, x, b)
#define START(i)  vdupq_n_f32((float)(i)*1e-3f)
#define REDUCE(x) ((uint64_t)vaddvq_f32(x))
    CHAIN_LOOP(float32x4_t, START, STEP, REDUCE)
#undef STEP
#undef REDUCE
#undef START
}
#endif

static void run_path(tb_compute_path path, long iters)
{
    switch (path) {
#if defined(__x86_64__)
    case TB_PATH_VPDPBUSD_512:
        dpbusd512(iters);
        break;
    case TB_PATH_VPDPBUSD_256:
        dpbusd256(iters);
        break;
    case TB_PATH_VPMADDUBSW_512:
        maddubs512(iters);
        break;
    case TB_PATH_VPMADDUBSW_256:
        maddubs256(iters);
        break;
    case TB_PATH_FMA_512:
        fma512(iters);
        break;
    case TB_PATH_FMA_256:
        fma256(iters);
        break;
#endif
#if defined(__aarch64__)
    case TB_PATH_SDOT:
        sdot(iters);
        break;
    case TB_PATH_SMLAL:
        smlal(iters);
        break;
    case TB_PATH_FMLA:
        fmla(iters);
        break;
#endif
    default:
        (void)iters;
        break;
    }
}

typedef struct {
    tb_compute_path path;
    long iters;
} job;

static void run_part(void *ctx, int t, int nthreads)
{
    const job *j = ctx;
    (void)t, (void)nthreads;
    run_path(j->path, j->iters);
}

double tb_compute_peak(tb_compute_path path, tb_pool *pool, int passes)
{
    if (!tb_compute_path_supported(path)) return 0;
    job j = {path, CALIBRATE_ITER};
    double t0 = tb_now();
    tb_pool_run(pool, run_part, &j);
    double dt = tb_now() - t0;
    j.iters = (long)(CALIBRATE_ITER * (PASS_SECONDS / (dt > 1e-6 ? dt : 1e-6)));
    if (j.iters < CALIBRATE_ITER) j.iters = CALIBRATE_ITER;
    double best = 0;
    for (int p = 0; p < passes; p++) {
        t0 = tb_now();
        tb_pool_run(pool, run_part, &j);
        double rate = (double)tb_pool_threads(pool) * (double)j.iters * CHAINS * macs_per_op[path] /
                      (tb_now() - t0);
        if (rate > best) best = rate;
    }
    return best;
}
