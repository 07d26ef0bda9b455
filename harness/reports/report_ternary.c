// The ternary kernels of the model points side by side, end to end: decode and prefill tokens/s
// of every ternary kernel a run measured, and its decode speed against the packed 2-bit kernel
// (i2) of the same run, beside the published ratios of the 1.67-bit table-lookup format (TL2 of
// arXiv 2502.11880) where the kernel is tritbench's format of the same width (lut3).
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIELD(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k)   cJSON_GetNumberValue(FIELD(o, k))
#define STR(o, k)   cJSON_GetStringValue(FIELD(o, k))

static const char *const pub_cols[] = {"tl2_vs_tmac", "tl2_vs_tq1_0"};
static const char *const pub_names[] = {"i7-13700H TL2 vs T-MAC (published)",
                                        "i7-13700H TL2 vs TQ1_0 (published)"};

static int is_ternary(const char *kernel)
{
    return strcmp(kernel, "naive") != 0 && tb_report_float_kind(kernel) == 0;
}

// The fastest decode of an i2 kernel at these threads in doc, or NAN.
static double packed_rate(const cJSON *doc, int threads)
{
    double best = NAN;
    const cJSON *e;
    cJSON_ArrayForEach(e, FIELD(doc, "entries"))
    {
        const char *k = STR(e, "kernel");
        if (k && !strncmp(k, "i2_", 3) && (int)NUM(e, "threads") == threads && !FIELD(e, "error") &&
            tb_report_f16_head(e) && (isnan(best) || NUM(e, "decode_tokens_per_s") > best))
            best = NUM(e, "decode_tokens_per_s");
    }
    return best;
}

// How many ternary kernels doc measured at these threads.
static int ternary_count(const cJSON *doc, int threads)
{
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, FIELD(doc, "entries"))
    {
        const char *k = STR(e, "kernel");
        n += k && is_ternary(k) && (int)NUM(e, "threads") == threads && !FIELD(e, "error") &&
             tb_report_f16_head(e);
    }
    return n;
}

static void set(tb_grid *g, const char *const *keys, const char *cpu, const char *what,
                const char *value)
{
    char h[200];
    snprintf(h, sizeof h, "%s %s", cpu, what);
    tb_grid_set(g, keys, tb_grid_col(g, h), value);
}

static void doc_rows(tb_report_ctx *c, tb_grid *g, const cJSON *doc)
{
    const cJSON *params = FIELD(doc, "parameters"), *e;
    const char *size = STR(FIELD(params, "config"), "name");
    const char *sampled = FIELD(params, "layer_sampled") ? " (layer-sampled)" : "";
    const char *cpu = c->cpus[tb_report_cpu_index(c, doc)];
    cJSON_ArrayForEach(e, FIELD(doc, "entries"))
    {
        const char *kernel = STR(e, "kernel");
        int threads = (int)NUM(e, "threads");
        if (!kernel || !size || !is_ternary(kernel) || FIELD(e, "error") ||
            !tb_report_f16_head(e) || ternary_count(doc, threads) < 2)
            continue;
        char th[16], v[4][96];
        snprintf(th, sizeof th, "%d", threads);
        const char *keys[] = {size, th, kernel};
        double i2 = packed_rate(doc, threads), tps = NUM(e, "decode_tokens_per_s");
        if (cJSON_IsNumber(FIELD(e, "ternary_bits_per_weight")))
            snprintf(v[0], sizeof v[0], "%.2f", NUM(e, "ternary_bits_per_weight"));
        else
            snprintf(v[0], sizeof v[0], "-");
        snprintf(v[1], sizeof v[1], "%.2f%s", tps, sampled);
        snprintf(v[2], sizeof v[2], "%.1f%s", NUM(e, "prefill_tokens_per_s"), sampled);
        if (isnan(i2))
            snprintf(v[3], sizeof v[3], "-");
        else
            snprintf(v[3], sizeof v[3], "%.2fx", tps / i2);
        set(g, keys, cpu, "bits/weight", v[0]);
        set(g, keys, cpu, "decode tok/s", v[1]);
        set(g, keys, cpu, "prefill tok/s", v[2]);
        set(g, keys, cpu, "decode vs i2", v[3]);
        for (int p = 0; p < 2 && !strncmp(kernel, "lut3_", 5); p++) {
            const char *pub = tb_published_get(&c->pub, "i7-13700H", size, pub_cols[p]);
            if (pub && strcmp(pub, "-")) tb_grid_set(g, keys, tb_grid_col(g, pub_names[p]), pub);
        }
    }
}

int tb_report_ternary_kernels(tb_report_ctx *c)
{
    static const char *const keys_names[] = {"model", "threads", "kernel"};
    tb_grid *g = tb_grid_new(3, keys_names);
    static const char *const names[] = {"bits/weight", "decode tok/s", "prefill tok/s",
                                        "decode vs i2"};
    tb_report_cpu_columns(c, g, names, 4);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc;
        if (!strcmp(tb_result_kind(doc), "model") && !FIELD(doc, "skipped")) doc_rows(c, g, doc);
    }
    if (tb_grid_rows(g)) {
        tb_sb_printf(&c->md,
                     "## Ternary kernels end to end\n\nEvery ternary kernel of runs that measured "
                     "several, decode and prefill tokens/s in the same run, and decode against "
                     "the fastest packed 2-bit kernel (i2, I2_S-like) of that run. The 1.67-bit "
                     "table-lookup kernels (lut3) are tritbench's format of TL2's width; the "
                     "paper's published TL2 ratios are against T-MAC and llama.cpp's TQ1_0, which "
                     "tritbench does not run yet, so they stand beside, not against, the measured "
                     "ratio.\n\n");
        tb_grid_markdown(g, &c->md);
    }
    tb_grid_free(g);
    return TB_OK;
}
