// Packed formats: kernels of one format (tb_kernel_format) pack the same weights into the same
// bytes, so an engine packs once and runs any kernel of the format on them (a decode kernel and
// a prefill kernel). Checked for every pair of kernels of one format this CPU runs, on shapes
// with ragged k and n; then every kernel runs on the weights packed by the first kernel of its
// format and must give the integer oracle's output bit for bit. Also: every kernel has a
// format, and kernels named <format>_<isa> name their format first. Formats that pack float
// weights (pack_float: f16, f32, q8, q4) pack them into the same bytes too.
#include "tb_test.h"
#include "tb_kernel.h"
#include "tb_reference.h"

#include <stdlib.h>
#include <string.h>

static const int shapes[][2] = {{1, 1}, {7, 300}, {33, 257}, {64, 512}, {100, 1000}};
#define MS 2
static const int ms[MS] = {1, 3};

static void *pack_with(const tb_kernel *kn, const int8_t *w, int n, int k)
{
    void *p = tb_alloc(kn->packed_size(n, k));
    char err[200];
    EXPECT(tb_pack(kn, w, 0.5f, n, k, p, err, sizeof err) == 0, "%s: %s", kn->name, err);
    return p;
}

// y (m x n) of kn on packed weights (another kernel's packing, of kn's format).
static void run_on(const tb_kernel *kn, const void *packed, const int8_t *x, const float *xs, int m,
                   int n, int k, float *y)
{
    void *act = tb_alloc(kn->act_size(m, k));
    kn->prepare(x, xs, m, k, act);
    tb_run(kn, packed, act, m, n, k, 0, n, y);
    tb_free(act);
}

static void check_names(void)
{
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *kn = tb_kernel_at(i);
        const char *f = tb_kernel_format(kn);
        EXPECT(f && *f, "%s has no format", kn->name);
        const char *us = strchr(kn->name, '_');
        if (f && us)
            EXPECT(strlen(f) == (size_t)(us - kn->name) && strncmp(kn->name, f, strlen(f)) == 0,
                   "%s: format '%s' is not its name's first part (<format>_<isa>)", kn->name, f);
    }
}

int main(void)
{
    check_names();
    const tb_kernel *naive = tb_kernel_find("naive");
    tb_rng rng = {7};
    int pairs = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int n = shapes[s][0], k = shapes[s][1];
        int8_t *w = malloc((size_t)n * k), *x = malloc((size_t)3 * k);
        for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (int8_t)tb_rng_int(&rng, -1, 1);
        float *wf = malloc(sizeof(float) * n * k);
        for (size_t i = 0; i < (size_t)n * k; i++) wf[i] = tb_rng_normal(&rng) * 0.02f;
        for (size_t i = 0; i < (size_t)3 * k; i++) x[i] = (int8_t)tb_rng_int(&rng, -128, 127);
        float xs[3] = {1, 1, 1}, *want = malloc(sizeof(float) * 3 * n),
              *got = malloc(sizeof(float) * 3 * n);
        void *np = pack_with(naive, w, n, k);
        for (int i = 0; i < tb_kernel_count(); i++) {
            const tb_kernel *a = tb_kernel_at(i);
            if (!tb_kernel_supported(a, NULL, 0)) continue;
            void *pa = pack_with(a, w, n, k);
            for (int j = i + 1; j < tb_kernel_count(); j++) {
                const tb_kernel *b = tb_kernel_at(j);
                if (!tb_kernel_supported(b, NULL, 0)) continue;
                if (strcmp(tb_kernel_format(a), tb_kernel_format(b)) != 0) continue;
                size_t bytes = a->packed_size(n, k);
                EXPECT(b->packed_size(n, k) == bytes,
                       "%s and %s (format %s), %dx%d: %zu vs %zu bytes", a->name, b->name,
                       tb_kernel_format(a), n, k, bytes, b->packed_size(n, k));
                void *pb = pack_with(b, w, n, k);
                EXPECT(memcmp(pa, pb, bytes) == 0,
                       "%s and %s (format %s), %dx%d: packed bytes differ", a->name, b->name,
                       tb_kernel_format(a), n, k);
                tb_free(pb);
                // Float weights (the output head) too, where the format packs them.
                EXPECT(!a->pack_float == !b->pack_float,
                       "%s and %s (format %s): pack_float of one only", a->name, b->name,
                       tb_kernel_format(a));
                if (a->pack_float && b->pack_float) {
                    void *fa = tb_alloc(bytes), *fb = tb_alloc(bytes);
                    a->pack_float(wf, n, k, fa);
                    b->pack_float(wf, n, k, fb);
                    EXPECT(memcmp(fa, fb, bytes) == 0,
                           "%s and %s (format %s), %dx%d: float-packed bytes differ", a->name,
                           b->name, tb_kernel_format(a), n, k);
                    tb_free(fa), tb_free(fb);
                }
                // b on a's packing: exact ternary kernels must give the oracle's integers.
                for (int q = 0; q < MS && b->exact; q++) {
                    run_on(naive, np, x, xs, ms[q], n, k, want);
                    run_on(b, pa, x, xs, ms[q], n, k, got);
                    EXPECT(memcmp(want, got, sizeof(float) * ms[q] * n) == 0,
                           "%s on weights packed by %s, m=%d %dx%d: differs from naive", b->name,
                           a->name, ms[q], n, k);
                }
                pairs++;
            }
            tb_free(pa);
        }
        tb_free(np);
        free(w), free(wf), free(x), free(want), free(got);
    }
    printf("%d kernel pairs of one format checked\n", pairs);
    if (failures) {
        printf("%d failures\n", failures);
        return 1;
    }
    printf("format tests passed\n");
    return 0;
}
