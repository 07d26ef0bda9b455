// Which kernel to pick, per CPU: speed (GMAC/s at m = 1 on the figure shape, cold weights if
// measured, else hot) against bits per weight, coloured by the logit error (NMSE against the
// quantization-consistent float model, from the accuracy points of the same CPU).
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FIELD(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k)   cJSON_GetNumberValue(FIELD(o, k))
#define STR(o, k)   cJSON_GetStringValue(FIELD(o, k))

// The NMSE of kernel in the accuracy points of cpu, or NAN.
static double nmse_of(const tb_report_ctx *c, int cpu, const char *kernel)
{
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *r;
        if (strcmp(tb_result_kind(doc), "accuracy") || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(
            r, FIELD(doc, "results")) if (!strcmp(STR(r, "kernel"), kernel) &&
                                          cJSON_IsNumber(FIELD(r, "nmse"))) return NUM(r, "nmse");
    }
    return NAN;
}

// The m = 1 entries of cpu the figure uses: weights cold if any, the fewest threads, and the
// shape 2560x6912 if measured, else the largest.
static int pick(const cJSON *e, const char *weights, int threads, double nk)
{
    return !FIELD(e, "error") && NUM(e, "m") == 1 && !strcmp(STR(e, "weights"), weights) &&
           (int)NUM(e, "threads") == threads && NUM(e, "n") * NUM(e, "k") == nk;
}

static void choose(const tb_report_ctx *c, int cpu, const char **weights, int *threads, double *nk)
{
    *weights = "hot", *threads = 1 << 30, *nk = 0;
    int shape_2b4t = 0;
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (strcmp(tb_result_kind(doc), "kernels") || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            if (FIELD(e, "error") || NUM(e, "m") != 1) continue;
            if (!strcmp(STR(e, "weights"), "cold")) *weights = "cold";
            if ((int)NUM(e, "threads") < *threads) *threads = (int)NUM(e, "threads");
            int is_2b4t = NUM(e, "n") == 2560 && NUM(e, "k") == 6912;
            if (!shape_2b4t && (is_2b4t || NUM(e, "n") * NUM(e, "k") > *nk))
                *nk = NUM(e, "n") * NUM(e, "k"), shape_2b4t = is_2b4t;
        }
    }
}

// Data rows "bits_per_weight gmacs log10(nmse) has_nmse label" and the table cells of one CPU;
// returns how many kernels have accuracy data (-1: no entry at m = 1).
static int choice_data(tb_report_ctx *c, int cpu, tb_sbuf *b, tb_grid *g, char *shape, size_t len)
{
    const char *weights;
    int threads, with_nmse = 0, rows = 0;
    double nk;
    choose(c, cpu, &weights, &threads, &nk);
    char h[3][160];
    snprintf(h[0], sizeof h[0], "%s bits/weight", c->cpus[cpu]);
    snprintf(h[1], sizeof h[1], "%s GMAC/s", c->cpus[cpu]);
    snprintf(h[2], sizeof h[2], "%s logit NMSE", c->cpus[cpu]);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (strcmp(tb_result_kind(doc), "kernels") || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            if (!pick(e, weights, threads, nk)) continue;
            const char *kernel = STR(e, "kernel");
            double nmse = nmse_of(c, cpu, kernel);
            int has = !isnan(nmse) && nmse > 0;
            with_nmse += has, rows++;
            snprintf(shape, len, "%dx%d, m=1, %s weights, %d thread%s", (int)NUM(e, "n"),
                     (int)NUM(e, "k"), weights, threads, threads > 1 ? "s" : "");
            tb_sb_printf(b, "%g %g %g %d \"%s%s\"\n", NUM(e, "bits_per_weight"), NUM(e, "gmacs"),
                         has ? log10(nmse) : 0.0, has, kernel, has ? "" : " (no accuracy data)");
            const char *keys[] = {kernel};
            char v[3][48];
            snprintf(v[0], sizeof v[0], "%.2f", NUM(e, "bits_per_weight"));
            snprintf(v[1], sizeof v[1], "%.2f", NUM(e, "gmacs"));
            snprintf(v[2], sizeof v[2], isnan(nmse) ? "no accuracy data" : "%.3g", nmse);
            for (int i = 0; i < 3; i++) tb_grid_set(g, keys, tb_grid_col(g, h[i]), v[i]);
        }
    }
    return rows ? with_nmse : -1;
}

int tb_report_choice(tb_report_ctx *c)
{
    static const char *const key_names[] = {"kernel"};
    tb_grid *g = tb_grid_new(1, key_names);
    int rc = TB_OK, heading = 0;
    for (int cpu = 0; cpu < c->ncpu && rc == TB_OK; cpu++) {
        tb_sbuf b = {0};
        char shape[160], title[512], what[256], name[64];
        int n = choice_data(c, cpu, &b, g, shape, sizeof shape);
        if (n >= 0) {
            if (!heading++)
                tb_sb_printf(&c->md, "## Choosing a kernel\n\nSpeed against bits per weight, "
                                     "coloured by the logit error (NMSE of the engine's logits "
                                     "against the float reference model, `validate --model`).\n\n");
            snprintf(what, sizeof what, "Kernel choice (%s)", shape);
            tb_report_title(c, what, cpu, title, sizeof title);
            snprintf(name, sizeof name, "choice-%d", cpu + 1);
            rc = tb_report_figure(c, "kernel_choice", name, title, &b, n);
        }
        tb_sb_free(&b);
    }
    if (rc == TB_OK && heading) tb_grid_markdown(g, &c->md);
    tb_grid_free(g);
    return rc;
}
