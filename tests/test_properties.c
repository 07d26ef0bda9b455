// Random-shape properties: every kernel this CPU runs, on many random shapes (odd, prime and
// block-edge sizes of m, n and k) and random row ranges, against the naive oracle with the
// checks of tb_check_case (bit-exact for integer kernels, the kernel's derived bound for float
// baselines, nothing written outside [row0, row1)).
//
// Each case is drawn from (seed, case index) alone, so one failing case replays by itself:
//   test_properties --seed S --kernel NAME --case I
// Options: --seed S (default: from the clock, printed), --cases N per kernel (default 300),
// --seconds T (run each kernel for T / kernels seconds instead of a count), --kernel NAME,
// --case I (only that case). Exit 0 pass, 1 fail, 2 usage, 77 if no kernel can run here.
#include "check.h"
#include "tb_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CASES 300

typedef struct {
    uint64_t seed;
    long cases;     // per kernel
    double seconds; // > 0: a time budget for all kernels instead of a case count
    const char *kernel;
    long only_case; // >= 0: run just this case index
} prop_options;

typedef struct {
    int m, n, k, row0, row1;
    enum tb_wpattern wp;
    enum tb_xpattern xp;
    uint64_t data_seed;
} prop_case;

static const int small_primes[] = {2,  3,   5,   7,   11,  13,  17,  19,  23,  29,  31,   37,
                                   41, 43,  47,  53,  59,  61,  67,  71,  73,  79,  83,   89,
                                   97, 101, 127, 131, 251, 257, 383, 509, 521, 769, 1021, 1031};
#define N_PRIMES ((int)(sizeof small_primes / sizeof small_primes[0]))

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int pick(tb_rng *rng, int lo, int hi)
{
    return tb_rng_int(rng, lo, hi);
}

// A dimension around a block of `block`: a block edge (a multiple, or one off it), a prime, or
// anything up to a few blocks; never above `cap`.
static int random_dim(tb_rng *rng, int block, int cap)
{
    int v;
    switch (pick(rng, 0, 3)) {
    case 0: // block edge: the tail handling of every kernel
        v = block * pick(rng, 1, 4) + pick(rng, -1, 1);
        break;
    case 1:
        v = small_primes[pick(rng, 0, N_PRIMES - 1)];
        break;
    case 2:
        v = pick(rng, 1, 4 * block + 7);
        break;
    default:
        v = pick(rng, 1, 1100);
        break;
    }
    if (v < 1) v = 1;
    return v > cap ? cap : v;
}

// Any legal row range, weighted towards those a driver hands out and those kernels get wrong:
// the whole matrix, tile-aligned pieces (tb_pool_split, tb_rows_take), mid-tile edges, and the
// empty range a driver gives a thread when there are more threads than tiles.
static void random_rows(tb_rng *rng, int n, int tile, int *row0, int *row1)
{
    int kind = pick(rng, 0, 9);
    if (kind <= 2) {
        *row0 = 0, *row1 = n;
    } else if (kind <= 5) {
        int tiles = (n + tile - 1) / tile;
        int t0 = pick(rng, 0, tiles - 1), t1 = pick(rng, t0 + 1, tiles);
        *row0 = t0 * tile;
        *row1 = t1 * tile < n ? t1 * tile : n;
    } else if (kind == 6) {
        *row0 = *row1 = pick(rng, 0, n);
    } else {
        *row0 = pick(rng, 0, n - 1);
        *row1 = pick(rng, *row0 + 1, n);
    }
}

// Case `index` of kernel kn: a function of (seed, index) and the kernel's block sizes only.
static prop_case draw_case(const tb_kernel *kn, uint64_t seed, long index)
{
    tb_rng rng = {seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ull)};
    tb_rng_next(&rng);
    prop_case c;
    // Mostly decode-like and small-prefill m; now and then a wider batch (up to two chunks of
    // the i2 panel GEMMs' activation rows), with k kept small so the case stays cheap.
    int wide = pick(&rng, 0, 7) == 0;
    c.m = wide ? pick(&rng, 10, 140) : pick(&rng, 1, 9);
    c.k = random_dim(&rng, kn->k_block, wide ? 600 : TB_K_MAX);
    c.n = random_dim(&rng, kn->n_tile, wide ? 96 : 300);
    random_rows(&rng, c.n, kn->n_tile > 0 ? kn->n_tile : 1, &c.row0, &c.row1);
    // Random data half the time, else an adversarial pattern (extremes -128 / 127, all +-1).
    c.wp = pick(&rng, 0, 1) ? TB_W_RANDOM : (enum tb_wpattern)pick(&rng, 0, TB_W_COUNT - 1);
    c.xp = pick(&rng, 0, 1) ? TB_X_RANDOM : (enum tb_xpattern)pick(&rng, 0, TB_X_COUNT - 1);
    c.data_seed = tb_rng_next(&rng);
    return c;
}

static int parse_options(int argc, char **argv, prop_options *o)
{
    *o = (prop_options){.seed = (uint64_t)time(NULL), .cases = DEFAULT_CASES, .only_case = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!v) return -1;
        if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--cases"))
            o->cases = strtol(v, &end, 10);
        else if (!strcmp(a, "--seconds"))
            o->seconds = strtod(v, &end);
        else if (!strcmp(a, "--case"))
            o->only_case = strtol(v, &end, 10);
        else if (!strcmp(a, "--kernel"))
            o->kernel = v, end = "";
        else
            return -1;
        if (!end || *end) return -1;
        i++;
    }
    return o->cases < 0 || o->seconds < 0 ? -1 : 0;
}

static void report_failure(const tb_kernel *kn, const prop_options *o, long index,
                           const prop_case *c, const tb_check_result *res)
{
    printf("FAIL %s seed %llu case %ld: m=%d n=%d k=%d rows [%d,%d) W=%s X=%s\n", kn->name,
           (unsigned long long)o->seed, index, c->m, c->n, c->k, c->row0, c->row1,
           tb_wpattern_names[c->wp], tb_xpattern_names[c->xp]);
    printf("  first mismatch: %s\n", res->first_failure);
    printf("  replay: test_properties --seed %llu --kernel %s --case %ld\n",
           (unsigned long long)o->seed, kn->name, index);
}

// Runs one kernel's cases; returns the number that failed (it stops at the first).
static long run_kernel_cases(const tb_kernel *kn, const prop_options *o, double seconds)
{
    long first = o->only_case >= 0 ? o->only_case : 0;
    long last = o->only_case >= 0 ? o->only_case + 1 : o->cases;
    double until = now_seconds() + seconds;
    long done = 0;
    for (long i = first; seconds > 0 ? now_seconds() < until : i < last; i++) {
        prop_case c = draw_case(kn, o->seed, i);
        tb_check_result res = {0};
        done++;
        if (tb_check_case(kn, c.m, c.n, c.k, c.row0, c.row1, c.wp, c.xp, c.data_seed, &res)) {
            report_failure(kn, o, i, &c, &res);
            return 1;
        }
    }
    printf("ok   %-14s %ld cases\n", kn->name, done);
    return 0;
}

int main(int argc, char **argv)
{
    prop_options o;
    if (parse_options(argc, argv, &o)) {
        fprintf(stderr,
                "usage: %s [--seed S] [--cases N | --seconds T] [--kernel NAME] [--case I]\n",
                argv[0]);
        return 2;
    }
    if (o.kernel && !tb_kernel_find(o.kernel)) {
        fprintf(stderr, "no kernel '%s' in this build\n", o.kernel);
        return 2;
    }
    printf("seed %llu (replay with --seed %llu)\n", (unsigned long long)o.seed,
           (unsigned long long)o.seed);
    int runnable = 0;
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *kn = tb_kernel_at(i);
        char why[200];
        if (o.kernel && strcmp(o.kernel, kn->name)) continue;
        if (tb_kernel_supported(kn, why, sizeof why)) runnable++;
    }
    long failed = 0;
    double t0 = now_seconds();
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *kn = tb_kernel_at(i);
        char why[200];
        if (o.kernel && strcmp(o.kernel, kn->name)) continue;
        if (!tb_kernel_supported(kn, why, sizeof why)) {
            printf("skip %-14s %s\n", kn->name, why);
            continue;
        }
        double share = o.seconds > 0 && o.only_case < 0 ? o.seconds / runnable : 0;
        failed += run_kernel_cases(kn, &o, share);
    }
    printf("%d kernels, %.2f s, %ld failed, seed %llu\n", runnable, now_seconds() - t0, failed,
           (unsigned long long)o.seed);
    if (!runnable) return 77;
    return failed ? 1 : 0;
}
