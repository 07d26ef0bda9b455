// The registry: the kernel list (kernels.inc) made into a table, lookup by name, the choice of
// the best kernel for this CPU, and the checked entry points every caller goes through.
#define _DEFAULT_SOURCE // madvise's MADV_HUGEPAGE
#include "tb_kernel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TB_KERNEL(stem, isa) extern const tb_kernel tb_kernel_##stem;
#include "kernels.inc"
#undef TB_KERNEL

static const tb_kernel *const all_kernels[] = {
#define TB_KERNEL(stem, isa) &tb_kernel_##stem,
#include "kernels.inc"
#undef TB_KERNEL
};

#define N_STATIC ((int)(sizeof all_kernels / sizeof all_kernels[0]))

// Kernels added at run time (peers: another project's kernels loaded from its library, see
// harness/peers). They follow the list, so a list index never changes meaning. Added once,
// before any thread runs; never removed.
#define TB_MAX_ADDED 16
static const tb_kernel *added[TB_MAX_ADDED];
static int n_added;

int tb_kernel_add(const tb_kernel *k)
{
    if (tb_kernel_find(k->name)) return 0;
    if (n_added == TB_MAX_ADDED) return -1;
    added[n_added++] = k;
    return 0;
}

int tb_kernel_count(void)
{
    return N_STATIC + n_added;
}

int tb_kernel_static_count(void)
{
    return N_STATIC;
}

const tb_kernel *tb_kernel_at(int i)
{
    if (i < 0 || i >= tb_kernel_count()) return NULL;
    return i < N_STATIC ? all_kernels[i] : added[i - N_STATIC];
}

const tb_kernel *tb_kernel_find(const char *name)
{
    for (int i = 0; i < tb_kernel_count(); i++)
        if (strcmp(tb_kernel_at(i)->name, name) == 0) return tb_kernel_at(i);
    return NULL;
}

int tb_kernel_supported(const tb_kernel *k, char *why, size_t why_len)
{
    uint32_t missing = k->isa & ~tb_cpu_features();
    if (!missing) return 1;
    if (why && why_len) {
        char names[160];
        tb_isa_names(missing, names, sizeof names);
        int disabled = (k->isa & ~tb_cpu_features_raw()) == 0;
        snprintf(why, why_len, "%s %s", disabled ? "TRITBENCH_DISABLE removes" : "CPU lacks",
                 names);
    }
    return 0;
}

// The supported kernel of that kind (ternary, or a baseline format) with the highest rank > 0.
static const tb_kernel *highest_rank(tb_float_format kind, int debug)
{
    const tb_kernel *best = NULL;
    char why[200];
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        if (k->baseline != kind || k->rank <= 0) continue;
        if (!tb_kernel_supported(k, why, sizeof why)) {
            if (debug) fprintf(stderr, "tritbench: kernel %s refused: %s\n", k->name, why);
            continue;
        }
        if (!best || k->rank > best->rank) best = k;
    }
    return best;
}

const char *tb_kernel_format(const tb_kernel *k)
{
    return k->format;
}

const tb_kernel *tb_kernel_override(void)
{
    const char *want = getenv("TRITBENCH_KERNEL");
    char why[200];
    if (!want || !*want) return NULL;
    const tb_kernel *k = tb_kernel_find(want);
    if (!k)
        fprintf(stderr, "tritbench: TRITBENCH_KERNEL=%s: no such kernel here; choosing the best\n",
                want);
    else if (!tb_kernel_supported(k, why, sizeof why))
        fprintf(stderr, "tritbench: TRITBENCH_KERNEL=%s refused: %s; choosing the best\n", want,
                why);
    else
        return k;
    return NULL;
}

const tb_kernel *tb_kernel_ranked(void)
{
    return highest_rank(TB_FLOAT_NONE, 0);
}

const tb_kernel *tb_kernel_best(void)
{
    int debug = getenv("TRITBENCH_DEBUG") != NULL;
    const tb_kernel *k = tb_kernel_override();
    if (k) {
        if (debug) fprintf(stderr, "tritbench: kernel %s (TRITBENCH_KERNEL)\n", k->name);
        return k;
    }
    const tb_kernel *best = highest_rank(TB_FLOAT_NONE, debug);
    if (debug && best)
        fprintf(stderr, "tritbench: kernel %s chosen: highest rank (%d) this CPU supports\n",
                best->name, best->rank);
    return best;
}

const tb_kernel *tb_kernel_best_baseline(tb_float_format fmt)
{
    return fmt == TB_FLOAT_NONE ? NULL : highest_rank(fmt, 0);
}

// Buffers of at least HUGE_MIN bytes (weights, the output head, the KV cache, the bandwidth
// probe's buffer) are aligned to 2 MiB and asked for transparent huge pages before they are first
// touched. Streamed with 4 KiB pages, every page costs a TLB miss and restarts the hardware
// prefetcher, which does not cross page boundaries: attention over the KV cache ran at a third
// of the speed. Where the system offers no huge pages, madvise fails and nothing changes.
#define HUGE_PAGE (2u << 20)
#define HUGE_MIN  (4u << 20)

void *tb_alloc(size_t bytes)
{
    size_t rounded = tb_align_up(bytes ? bytes : 1, TB_ALIGN);
    int huge = rounded >= HUGE_MIN;
    if (huge) rounded = tb_align_up(rounded, HUGE_PAGE);
    void *p = aligned_alloc(huge ? HUGE_PAGE : TB_ALIGN, rounded);
    if (!p) {
        fprintf(stderr, "tritbench: out of memory allocating %zu bytes\n", rounded);
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    if (huge) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    memset(p, 0, rounded);
    return p;
}

void tb_free(void *p)
{
    free(p);
}

int tb_check_shape(int m, int n, int k, char *err, size_t err_len)
{
    if (m < 1 || n < 1 || k < 1) {
        snprintf(err, err_len, "shape m=%d n=%d k=%d: every size must be at least 1", m, n, k);
        return -1;
    }
    if (k > TB_K_MAX) {
        snprintf(err, err_len, "shape k=%d: larger than TB_K_MAX=%d (float output exactness)", k,
                 TB_K_MAX);
        return -1;
    }
    return 0;
}

int tb_pack(const tb_kernel *kn, const int8_t *w, float w_scale, int n, int k, void *packed,
            char *err, size_t err_len)
{
    if (tb_check_shape(1, n, k, err, err_len)) return -1;
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) {
        if (w[i] < -1 || w[i] > 1) {
            snprintf(err, err_len, "weight W[%zu][%zu] = %d is not in {-1, 0, +1}", i / (size_t)k,
                     i % (size_t)k, w[i]);
            return -1;
        }
    }
    kn->pack(w, w_scale, n, k, packed);
    return 0;
}

int tb_pack_float(const tb_kernel *kn, const float *w, int n, int k, void *packed, char *err,
                  size_t err_len)
{
    if (tb_check_shape(1, n, k, err, err_len)) return -1;
    if (!kn->pack_float) {
        snprintf(err, err_len, "kernel %s (format %s) holds only ternary weights: no pack_float",
                 kn->name, kn->format);
        return -1;
    }
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) {
        if (!isfinite(w[i])) {
            snprintf(err, err_len, "weight W[%zu][%zu] = %g is not finite", i / (size_t)k,
                     i % (size_t)k, (double)w[i]);
            return -1;
        }
    }
    kn->pack_float(w, n, k, packed);
    return 0;
}

void tb_run(const tb_kernel *kn, const void *packed, const void *act, int m, int n, int k, int row0,
            int row1, float *y)
{
    if (m == 1)
        kn->gemv(packed, act, n, k, row0, row1, y);
    else
        kn->gemm(packed, act, m, n, k, row0, row1, y);
}

// Atomic only so that a setter racing a reader is defined behaviour.
static atomic_int prefetch_bytes = TB_PREFETCH_DEFAULT;

void tb_prefetch_set(int bytes)
{
    int b = bytes < 0 ? 0 : bytes > TB_PREFETCH_MAX ? TB_PREFETCH_MAX : bytes;
    atomic_store_explicit(&prefetch_bytes, b, memory_order_relaxed);
}

int tb_prefetch_get(void)
{
    return atomic_load_explicit(&prefetch_bytes, memory_order_relaxed);
}
