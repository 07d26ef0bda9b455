// The roofs: the bandwidth probe's buffer is never smaller than the work it bounds (up to the
// plateau, where a capped roof says so), a cache-sized buffer is a cache roof, the stored roof
// is consistent with its passes; every kernel maps to the compute path of its widest
// multiply-accumulate (or to none for portable C), and a path's peak is probed only where the
// CPU has it.
#include "compute_roof.h"
#include "measure_util.h"
#include "roofline.h"

#include <math.h>

static void buffer_rule(void)
{
    const size_t mib = (size_t)1 << 20, plateau = tb_roof_plateau_bytes();
    const size_t llc = tb_last_level_cache_bytes();
    CHECK(plateau >= 8 * llc && plateau >= ((size_t)4 << 30), "plateau %zu, LLC %zu", plateau, llc);
    const size_t works[] = {1,   mib - 1,         mib,         3 * mib + 5,
                            llc, 2 * llc + 12345, plateau - 1, plateau};
    for (size_t i = 0; i < sizeof works / sizeof works[0]; i++) {
        size_t b = tb_roof_buffer_bytes(works[i], 0);
        CHECK(b >= works[i], "work %zu: buffer %zu is smaller", works[i], b);
        CHECK(b % mib == 0 && b - works[i] < mib, "work %zu: buffer %zu not the next MiB", works[i],
              b);
    }
    CHECK(tb_roof_buffer_bytes(3 * mib, 64 * mib) == 64 * mib, "a larger least size raises it");
    CHECK(tb_roof_buffer_bytes(100 * mib, 64 * mib) == 100 * mib, "a smaller least size does not");
    CHECK(tb_roof_buffer_bytes(plateau * 3, 0) == plateau, "capped at the plateau");
    CHECK(!strcmp(tb_roof_kind(llc / 2), "cache"), "half the last-level cache is a cache roof");
    CHECK(!strcmp(tb_roof_kind(2 * llc), "dram"), "twice the last-level cache is a DRAM roof");
}

static void stored_roof(void)
{
    tb_pool *pool = tb_pool_create(1);
    size_t work = ((size_t)3 << 20) + 100;
    tb_bw_probe *p = tb_bw_probe_open(tb_roof_buffer_bytes(work, 0));
    CHECK(tb_bw_probe_bytes(p) == (size_t)4 << 20, "probe buffer %zu", tb_bw_probe_bytes(p));
    for (int i = 0; i < 3; i++) CHECK(tb_bw_probe_pass(p, pool) > 0, "pass %d has no rate", i);
    cJSON *o = tb_roof_to_json(p, 1, work);
    double best = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "best_gbs"));
    double median = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "median_gbs"));
    double least = cJSON_GetNumberValue(cJSON_GetObjectItem(o, "min_gbs"));
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "passes")) == 3, "3 passes recorded");
    CHECK(best >= median && median >= least && least > 0, "best %g median %g min %g", best, median,
          least);
    // best_gbs is the best pass divided by 1e9: equal up to that division's rounding.
    CHECK(fabs(best * 1e9 - tb_bw_probe_best(p, 1)) <= 1e-12 * tb_bw_probe_best(p, 1),
          "best_gbs %g is the probe's best pass %g", best, tb_bw_probe_best(p, 1));
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "work_bytes")) == (double)work, "work bytes");
    CHECK(!cJSON_GetObjectItem(o, "note"), "an uncapped roof has no note");
    cJSON_Delete(o);
    o = tb_roof_to_json(p, 2, work);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "passes")) == 0, "no passes at 2 threads");
    cJSON_Delete(o);
    o = tb_roof_to_json(p, 1, ((size_t)5 << 20)); // more work than the buffer: said so
    CHECK(cJSON_GetObjectItem(o, "note") != NULL, "a buffer smaller than the work is noted");
    cJSON_Delete(o);
    tb_bw_probe_close(p);
    tb_pool_destroy(pool);
}

// The paired fraction divides each work sample by the mean of the passes just before and after
// it at its thread count (one side where there is only one), for its tag, and takes the median.
static void paired_fraction(void)
{
    tb_bw_probe *p = tb_bw_probe_open((size_t)1 << 20);
    int n = -1;
    CHECK(tb_bw_probe_paired_fraction(p, 0, 1, &n) == 0 && n == 0, "no work: no fraction");
    tb_bw_probe_work(p, 0, 1, 40, 1); // before any pass: against the next one (20) -> 2
    tb_bw_probe_record(p, 1, 20);
    tb_bw_probe_record(p, 2, 1000);   // another thread count: never paired with 1-thread work
    tb_bw_probe_work(p, 0, 1, 15, 1); // mean(20, 10) = 15 -> 1
    tb_bw_probe_work(p, 7, 1, 99, 1); // another tag
    tb_bw_probe_work(p, 0, 2, 99, 1); // another thread count: mean(1000) alone
    tb_bw_probe_record(p, 1, 10);
    tb_bw_probe_work(p, 0, 1, 10, 2); // 5 / mean(10, 30) = 0.25
    tb_bw_probe_record(p, 1, 30);
    tb_bw_probe_work(p, 0, 1, 1, 0); // no time: ignored
    double f = tb_bw_probe_paired_fraction(p, 0, 1, &n);
    CHECK(n == 3 && fabs(f - 1.0) < 1e-12, "median of 2, 1, 0.25: got %g of %d", f, n);
    f = tb_bw_probe_paired_fraction(p, 0, 2, &n);
    CHECK(n == 1 && fabs(f - 0.099) < 1e-12, "2 threads: 99 / 1000, got %g of %d", f, n);
    f = tb_bw_probe_paired_fraction(p, 7, 1, &n);
    CHECK(n == 1 && fabs(f - 99 / 15.0) < 1e-12, "tag 7: 99 / 15, got %g of %d", f, n);
    tb_bw_probe_forget_work(p);
    CHECK(tb_bw_probe_paired_fraction(p, 0, 1, &n) == 0 && n == 0, "forgotten work");
    CHECK(tb_bw_probe_passes(p, 1) == 3, "passes stay");
    tb_bw_probe_close(p);
}

static void compute_paths(void)
{
    tb_pool *pool = tb_pool_create(1);
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        tb_compute_path path = tb_compute_path_of(k);
        if (k->isa == TB_ISA_NONE && k->baseline == TB_FLOAT_NONE)
            CHECK(path == TB_PATH_NONE, "%s is portable C: no compute path, got %s", k->name,
                  tb_compute_path_name(path));
        if (!strncmp(k->name, "lut", 3))
            CHECK(path == TB_PATH_NONE && strstr(tb_compute_path_none_reason(k), "table lookups"),
                  "%s looks weights up: no compute path, got %s", k->name,
                  tb_compute_path_name(path));
        if (k->isa & TB_ISA_AVX512VNNI)
            CHECK(path == TB_PATH_VPDPBUSD_512, "%s: %s", k->name, tb_compute_path_name(path));
        if (tb_float_format_is_baseline(k->baseline) && k->isa != TB_ISA_NONE)
            CHECK(path == TB_PATH_FMA_512 || path == TB_PATH_FMA_256 || path == TB_PATH_FMLA,
                  "baseline %s: an FMA path, got %s", k->name, tb_compute_path_name(path));
        // Quantized float formats (q8, q4) multiply integers: an integer path, none in C.
        if ((k->baseline == TB_FLOAT_Q8 || k->baseline == TB_FLOAT_Q4) && k->isa != TB_ISA_NONE)
            CHECK(path != TB_PATH_NONE && path != TB_PATH_FMA_512 && path != TB_PATH_FMA_256 &&
                      path != TB_PATH_FMLA,
                  "%s (quantized float format): an integer path, got %s", k->name,
                  tb_compute_path_name(path));
        if ((k->baseline == TB_FLOAT_Q8 || k->baseline == TB_FLOAT_Q4) && k->isa == TB_ISA_NONE)
            CHECK(path == TB_PATH_NONE, "%s is portable C: no compute path, got %s", k->name,
                  tb_compute_path_name(path));
        // A kernel this CPU runs has a path this CPU runs (or none).
        if (tb_kernel_supported(k, NULL, 0) && path != TB_PATH_NONE)
            CHECK(tb_compute_path_supported(path), "%s runs here but its path %s does not", k->name,
                  tb_compute_path_name(path));
    }
    for (int p = 0; p < TB_PATH_COUNT; p++) {
        double peak = tb_compute_peak((tb_compute_path)p, pool, 1);
        if (tb_compute_path_supported((tb_compute_path)p))
            CHECK(peak > 1e6, "%s: peak %g MAC/s", tb_compute_path_name((tb_compute_path)p), peak);
        else
            CHECK(peak == 0, "%s is not supported here: peak %g",
                  tb_compute_path_name((tb_compute_path)p), peak);
    }
    tb_pool_destroy(pool);
}

int main(void)
{
    buffer_rule();
    stored_roof();
    paired_fraction();
    compute_paths();
    if (failures) printf("%d check(s) failed\n", failures);
    return failures != 0;
}
