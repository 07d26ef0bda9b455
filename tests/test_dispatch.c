// Registry and dispatch: support follows the CPU features, the best kernel is the highest-ranked
// supported one, TRITBENCH_KERNEL overrides it (and is refused for a kernel the CPU lacks),
// and tb_pack refuses weights outside {-1, 0, +1} naming the offending element. Every kernel's
// .isa is the ISA of its line in kernels.inc (a file that set its own would disagree here).
//   test_dispatch [--expect-best NAME]
#include "tb_test.h"
#include "tb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The list as the C preprocessor reads it: name and ISA of every line built here.
static const struct {
    const char *name;
    uint32_t isa;
} listed[] = {
#define TB_KERNEL(stem, isa) {#stem, (isa)},
#include "kernels.inc"
#undef TB_KERNEL
};

int main(int argc, char **argv)
{
    int nlisted = (int)(sizeof listed / sizeof listed[0]);
    EXPECT(tb_kernel_count() == nlisted, "%d kernels registered, %d listed", tb_kernel_count(),
           nlisted);
    for (int i = 0; i < nlisted; i++) {
        const tb_kernel *k = tb_kernel_find(listed[i].name);
        EXPECT(k && k->isa == listed[i].isa, "%s: isa %#x, its kernels.inc line says %#x",
               listed[i].name, k ? k->isa : 0u, listed[i].isa);
    }

    const char *expect_best = argc == 3 && strcmp(argv[1], "--expect-best") == 0 ? argv[2] : NULL;
    uint32_t have = tb_cpu_features();
    EXPECT((have & ~tb_cpu_features_raw()) == 0, "TRITBENCH_DISABLE added features");
    const tb_kernel *want = NULL;
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        char why[200] = "";
        int ok = tb_kernel_supported(k, why, sizeof why);
        EXPECT(ok == ((k->isa & ~have) == 0), "%s: supported=%d with isa %#x, cpu %#x", k->name, ok,
               k->isa, have);
        EXPECT(ok || why[0], "%s: refused without a reason", k->name);
        EXPECT(tb_kernel_find(k->name) == k, "%s: lookup by name", k->name);
        if (ok && !k->baseline && k->rank > 0 && (!want || k->rank > want->rank)) want = k;
        printf("%-16s %s %s\n", k->name, ok ? "supported" : "refused:", why);
    }
    unsetenv("TRITBENCH_KERNEL");
    const tb_kernel *best = tb_kernel_best();
    EXPECT(best && best == want, "best %s, want %s", best ? best->name : "none",
           want ? want->name : "none");
    if (expect_best)
        EXPECT(best && strcmp(best->name, expect_best) == 0, "best %s, expected %s",
               best ? best->name : "none", expect_best);
    printf("best: %s\n", best ? best->name : "none");

    // Baselines are found by their format: the supported one of highest rank, never ternary.
    EXPECT(tb_kernel_best_baseline(TB_FLOAT_NONE) == NULL, "a ternary kernel as baseline");
    const tb_float_format formats[] = {TB_FLOAT_FP32, TB_FLOAT_FP16, TB_FLOAT_Q8, TB_FLOAT_Q4};
    for (int f = 0; f < 4; f++) {
        const tb_kernel *got = tb_kernel_best_baseline(formats[f]), *top = NULL;
        for (int i = 0; i < tb_kernel_count(); i++) {
            const tb_kernel *k = tb_kernel_at(i);
            if (k->baseline == formats[f] && k->rank > 0 && tb_kernel_supported(k, NULL, 0) &&
                (!top || k->rank > top->rank))
                top = k;
        }
        EXPECT(got == top, "baseline of format %d: %s, want %s", (int)formats[f],
               got ? got->name : "none", top ? top->name : "none");
        printf("best baseline of format %d: %s\n", (int)formats[f], got ? got->name : "none");
    }
    // Kernels for float matrices pack float weights; ternary-only formats cannot.
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        EXPECT((k->pack_float != NULL) == (k->baseline != TB_FLOAT_NONE),
               "%s: pack_float %s for float format %d", k->name, k->pack_float ? "set" : "NULL",
               (int)k->baseline);
    }
    // Among the kernels of a quantized float format, the wider vectors rank higher.
    const char *const ladders[][3] = {{"q8_avx512vnni", "q8_avx2", "q8_scalar"},
                                      {"q4_avx512vnni", "q4_avx2", "q4_scalar"},
                                      {"q8_neon_sdot", "q8_neon", "q8_scalar"},
                                      {"q4_neon_sdot", "q4_neon", "q4_scalar"}};
    for (int l = 0; l < 4; l++)
        for (int a = 0; a < 2; a++) {
            const tb_kernel *hi = tb_kernel_find(ladders[l][a]),
                            *lo = tb_kernel_find(ladders[l][a + 1]);
            if (hi && lo)
                EXPECT(hi->rank > lo->rank, "%s ranks %d, %s %d", hi->name, hi->rank, lo->name,
                       lo->rank);
        }
    // Between the FP16 baselines of one machine, the wider vectors rank higher.
    const tb_kernel *f16_512 = tb_kernel_find("f16_avx512"), *f16_256 = tb_kernel_find("f16_avx2");
    if (f16_512 && f16_256)
        EXPECT(f16_512->rank > f16_256->rank, "f16_avx512 ranks %d, f16_avx2 %d", f16_512->rank,
               f16_256->rank);

    // Override: honoured for any runnable kernel; an unrunnable or unknown one falls back.
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        setenv("TRITBENCH_KERNEL", k->name, 1);
        const tb_kernel *got = tb_kernel_best();
        EXPECT(got == (tb_kernel_supported(k, NULL, 0) ? k : best), "override %s gave %s", k->name,
               got ? got->name : "none");
    }
    setenv("TRITBENCH_KERNEL", "no_such_kernel", 1);
    EXPECT(tb_kernel_best() == best, "unknown override did not fall back");
    unsetenv("TRITBENCH_KERNEL");
    EXPECT(tb_kernel_find("no_such_kernel") == NULL, "found a kernel that does not exist");

    // Packing refuses non-ternary weights and names the element; shape errors are refused too.
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        int8_t w[3 * 5] = {0};
        w[2 * 5 + 4] = 2;
        void *p = tb_alloc(k->packed_size(3, 5));
        char err[256] = "";
        EXPECT(tb_pack(k, w, 1.0f, 3, 5, p, err, sizeof err) == -1, "%s packed a 2", k->name);
        EXPECT(strstr(err, "W[2][4] = 2") != NULL, "%s: message '%s'", k->name, err);
        w[2 * 5 + 4] = -2;
        EXPECT(tb_pack(k, w, 1.0f, 3, 5, p, err, sizeof err) == -1, "%s packed a -2", k->name);
        w[2 * 5 + 4] = -1;
        EXPECT(tb_pack(k, w, 1.0f, 3, 5, p, err, sizeof err) == 0, "%s refused -1: %s", k->name,
               err);
        EXPECT(tb_pack(k, w, 1.0f, 0, 5, p, err, sizeof err) == -1, "%s packed n = 0", k->name);
        EXPECT(tb_pack(k, w, 1.0f, 3, TB_K_MAX + 1, p, err, sizeof err) == -1,
               "%s packed k > TB_K_MAX", k->name);
        tb_free(p);
    }
    printf("%s\n", failures ? "FAILED" : "dispatch tests passed");
    return failures ? 1 : 0;
}
