// Which kernel to pick, per CPU: speed (GMAC/s at m = 1 on the figure shape, cold weights if
// measured, else hot) against bits per weight, coloured by the logit error (NMSE against the
// quantization-consistent float model, from the accuracy points of the same CPU).
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
static int pick(const cJSON *e, const char *weights, int threads, const int *nk)
{
    return !FIELD(e, "error") && NUM(e, "m") == 1 && !strcmp(STR(e, "weights"), weights) &&
           (int)NUM(e, "threads") == threads && (int)NUM(e, "n") == nk[0] &&
           (int)NUM(e, "k") == nk[1];
}

// nk: the shape {n, k} (2560x6912 and 6912x2560 are two shapes of one size).
static void choose(const tb_report_ctx *c, int cpu, const char **weights, int *threads, int *nk)
{
    *weights = "hot", *threads = 1 << 30, nk[0] = nk[1] = 0;
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
            if (!shape_2b4t && (is_2b4t || NUM(e, "n") * NUM(e, "k") > (double)nk[0] * nk[1]))
                nk[0] = (int)NUM(e, "n"), nk[1] = (int)NUM(e, "k"), shape_2b4t = is_2b4t;
        }
    }
}

// One kernel of the figure, and where its label goes (kernels of one width crowd one column).
typedef struct {
    double bpw, gmacs, log_nmse;
    int has_nmse;
    char label[96];
    double label_x, label_y; // label_y in log10 GMAC/s while placing
    int left;                // label on the left of the point
} choice_point;

#define TB_CHOICE_MAX     128  // kernels in one figure
#define LABEL_GAP_DECADES 0.11 // one 9-pt label line on a 4-decade, 500-pixel y axis
#define SAME_BPW(a, b)    (fabs((a) - (b)) < 0.01 * (b))

static int by_bpw_then_speed(const void *a, const void *b)
{
    const choice_point *x = a, *y = b;
    if (!SAME_BPW(x->bpw, y->bpw)) return (x->bpw > y->bpw) - (x->bpw < y->bpw);
    return (x->gmacs < y->gmacs) - (x->gmacs > y->gmacs); // fastest first
}

// Centres labels pt[s..e) (fastest first) as one stack on their points' mean log10 GMAC/s.
static void stack(choice_point *pt, int s, int e)
{
    double mean = 0;
    for (int i = s; i < e; i++) mean += log10(pt[i].gmacs) / (e - s);
    for (int i = s; i < e; i++)
        pt[i].label_y = mean + LABEL_GAP_DECADES * ((e - s - 1) / 2.0 - (i - s));
}

// Spreads the labels of each bits-per-weight column at least LABEL_GAP_DECADES apart: labels
// that would overlap merge into a stack centred on their points, until no two stacks overlap.
// A column's labels go on the left when the next column is close.
static void place_labels(choice_point *pt, int n)
{
    qsort(pt, (size_t)n, sizeof *pt, by_bpw_then_speed);
    for (int g = 0; g < n;) {
        int end = g + 1;
        while (end < n && SAME_BPW(pt[end].bpw, pt[g].bpw)) end++;
        int start[TB_CHOICE_MAX + 1], ns = 0; // stack k is pt[start[k] .. start[k + 1])
        for (int i = g; i < end; i++) pt[i].label_y = log10(pt[i].gmacs), start[ns++] = i;
        start[ns] = end;
        for (int k = 0; k + 1 < ns;) {
            if (pt[start[k + 1] - 1].label_y - pt[start[k + 1]].label_y >= LABEL_GAP_DECADES) {
                k++;
                continue;
            }
            memmove(start + k + 1, start + k + 2, (size_t)(ns - k - 1) * sizeof *start), ns--;
            stack(pt, start[k], start[k + 1]);
            k = k > 0 ? k - 1 : 0; // the grown stack may now overlap the one above
        }
        int left = end < n && log10(pt[end].bpw / pt[g].bpw) < 0.2;
        for (int i = g; i < end; i++) {
            pt[i].label_y = pow(10, pt[i].label_y);
            pt[i].left = left;
            pt[i].label_x = pt[i].bpw * pow(10, left ? -0.04 : 0.04);
        }
        g = end;
    }
}

// Data rows "bits_per_weight gmacs log10(nmse) has_nmse label label_x label_y left" and the
// table cells of one CPU; returns how many kernels have accuracy data (-1: no entry at m = 1).
static int choice_data(tb_report_ctx *c, int cpu, tb_sbuf *b, tb_grid *g, char *shape, size_t len)
{
    const char *weights;
    int threads, with_nmse = 0, rows = 0;
    int nk[2];
    choice_point pt[TB_CHOICE_MAX];
    choose(c, cpu, &weights, &threads, nk);
    char h[3][160];
    snprintf(h[0], sizeof h[0], "%s bits/weight", c->cpus[cpu]);
    snprintf(h[1], sizeof h[1], "%s GMAC/s", c->cpus[cpu]);
    snprintf(h[2], sizeof h[2], "%s logit NMSE", c->cpus[cpu]);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (strcmp(tb_result_kind(doc), "kernels") || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            if (!pick(e, weights, threads, nk) || rows == TB_CHOICE_MAX) continue;
            const char *kernel = STR(e, "kernel");
            double nmse = nmse_of(c, cpu, kernel);
            int has = !isnan(nmse) && nmse > 0;
            with_nmse += has;
            snprintf(shape, len, "%dx%d, m=1, %s weights, %d thread%s", (int)NUM(e, "n"),
                     (int)NUM(e, "k"), weights, threads, threads > 1 ? "s" : "");
            choice_point *p = &pt[rows++];
            *p = (choice_point){NUM(e, "bits_per_weight"),
                                NUM(e, "gmacs"),
                                has ? log10(nmse) : 0.0,
                                has,
                                "",
                                0,
                                0,
                                0};
            // A hollow grey point says "no accuracy data" (the legend), the label names the kernel.
            snprintf(p->label, sizeof p->label, "%s", kernel);
            const char *keys[] = {kernel};
            char v[3][48];
            snprintf(v[0], sizeof v[0], "%.2f", NUM(e, "bits_per_weight"));
            snprintf(v[1], sizeof v[1], "%.2f", NUM(e, "gmacs"));
            snprintf(v[2], sizeof v[2], isnan(nmse) ? "no accuracy data" : "%.3g", nmse);
            for (int i = 0; i < 3; i++) tb_grid_set(g, keys, tb_grid_col(g, h[i]), v[i]);
        }
    }
    place_labels(pt, rows);
    for (int i = 0; i < rows; i++)
        tb_sb_printf(b, "%g %g %g %d \"%s\" %g %g %d\n", pt[i].bpw, pt[i].gmacs, pt[i].log_nmse,
                     pt[i].has_nmse, pt[i].label, pt[i].label_x, pt[i].label_y, pt[i].left);
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
