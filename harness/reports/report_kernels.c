// The kernel sections of the report: GMAC/s and roofline fraction per kernel, shape and m, and
// per CPU the figure for choosing a kernel (speed vs bits per weight vs logit error).
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k)   cJSON_GetNumberValue(FIELD(o, k))
#define STR(o, k)   cJSON_GetStringValue(FIELD(o, k))

static int is_kernels(const cJSON *doc)
{
    return strcmp(tb_result_kind(doc), "kernels") == 0;
}

// The shape a CPU's figure for these weights uses: 2560x6912 (2B4T down) if measured, else the
// largest.
static void figure_shape(const tb_report_ctx *c, int cpu, const char *weights, int *n, int *k)
{
    *n = *k = 0;
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (!is_kernels(doc) || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            int en = (int)NUM(e, "n"), ek = (int)NUM(e, "k");
            if (*n == 2560 && *k == 6912) return;
            if (strcmp(STR(e, "weights"), weights)) continue;
            if ((en == 2560 && ek == 6912) || (double)en * ek > (double)*n * *k) *n = en, *k = ek;
        }
    }
}

// The fraction of its roof an entry reached, and which roof: the bounding one (bandwidth or
// compute, roof_fraction) where the document has it, else the bandwidth roof of older results.
static double roof_of(const cJSON *e, char *which, size_t len)
{
    const cJSON *roof = FIELD(e, "roof");
    const char *kind = roof ? STR(roof, "kind") : NULL;
    if (cJSON_IsNumber(FIELD(e, "roof_fraction"))) {
        const char *bound = STR(e, "bound_by");
        const char *method = STR(e, "roof_fraction_method");
        if (bound && !strcmp(bound, "compute"))
            snprintf(which, len, "compute %s", STR(FIELD(e, "compute_roof"), "path"));
        else
            snprintf(which, len, "%s bw%s", kind ? kind : "dram",
                     method && !strncmp(method, "median of per-round", 19) ? ", paired"
                                                                           : ", best pass");
        return NUM(e, "roof_fraction");
    }
    snprintf(which, len, "%s bw", kind ? kind : "dram");
    return NUM(e, "roofline_fraction");
}

static void table_row(tb_report_ctx *c, tb_grid *g, const char *cpu, const cJSON *e)
{
    char shape[32], m[16], threads[16], h[3][160], v[3][64];
    snprintf(shape, sizeof shape, "%dx%d", (int)NUM(e, "n"), (int)NUM(e, "k"));
    snprintf(m, sizeof m, "%d", (int)NUM(e, "m"));
    snprintf(threads, sizeof threads, "%d", (int)NUM(e, "threads"));
    const char *keys[] = {shape, m, STR(e, "weights"), threads, STR(e, "kernel")};
    snprintf(h[0], sizeof h[0], "%s GMAC/s", cpu);
    snprintf(h[1], sizeof h[1], "%s roof %%", cpu);
    snprintf(h[2], sizeof h[2], "%s bound by", cpu);
    if (FIELD(e, "error")) {
        snprintf(v[0], sizeof v[0], "failed validation");
        snprintf(v[1], sizeof v[1], "-");
        snprintf(v[2], sizeof v[2], "-");
    } else {
        snprintf(v[0], sizeof v[0], "%.2f", NUM(e, "gmacs"));
        snprintf(v[1], sizeof v[1], "%.1f", 100 * roof_of(e, v[2], sizeof v[2]));
    }
    for (int i = 0; i < 3; i++) tb_grid_set(g, keys, tb_grid_col(g, h[i]), v[i]);
    (void)c;
}

static int kernels_table(tb_report_ctx *c)
{
    static const char *const key_names[] = {"shape (n x k)", "m", "weights", "threads", "kernel"};
    tb_grid *g = tb_grid_new(5, key_names);
    static const char *const names[] = {"GMAC/s", "roof %", "bound by"};
    tb_report_cpu_columns(c, g, names, 3);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (!is_kernels(doc)) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries")) table_row(c, g, tb_result_cpu_slug(doc), e);
    }
    int rows = tb_grid_rows(g);
    if (rows) {
        tb_sb_printf(&c->md,
                     "## Kernels\n\nGMAC/s (m n k / median time), and the fraction of the roof "
                     "that bounds the entry, measured in the same run (roof %%): the read "
                     "bandwidth on a buffer as large as the entry's working set (`dram bw` for "
                     "cold weights, `cache bw` for hot ones), or the peak of the kernel's "
                     "multiply-accumulate instruction path (`compute`), whichever allows the "
                     "lower rate at the entry's MACs per weight byte. Against the bandwidth, "
                     "`paired` is the median over rounds of the round's rate against the probe "
                     "passes beside it (these machines change speed state within a run), `best "
                     "pass` (older results) the median rate against the run's best pass. Hot: "
                     "one weight copy, cache-resident; cold: copies rotated through DRAM. Results "
                     "from before "
                     "the roofs were sized to the work give the fraction of a 4x-last-level-cache "
                     "DRAM probe.\n\n");
        tb_grid_markdown(g, &c->md);
    }
    tb_grid_free(g);
    return rows;
}

// One point of a kernels-vs-m series.
typedef struct {
    double m, gmacs, roof;
} m_point;

static int m_point_cmp(const void *a, const void *b)
{
    double x = ((const m_point *)a)->m, y = ((const m_point *)b)->m;
    return (x > y) - (x < y);
}

// The series "m gmacs roof%" (sorted by m) of one CPU, kernel and thread count at the figure
// shape; 1 if it has points.
static int m_series(tb_report_ctx *c, tb_sbuf *b, int *n, int cpu, const char *weights,
                    const char *kernel, int threads)
{
    m_point pts[64];
    int fn, fk, np = 0;
    figure_shape(c, cpu, weights, &fn, &fk);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (!is_kernels(doc) || tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            if (FIELD(e, "error") || (int)NUM(e, "n") != fn || (int)NUM(e, "k") != fk ||
                strcmp(STR(e, "weights"), weights) || strcmp(STR(e, "kernel"), kernel) ||
                (int)NUM(e, "threads") != threads || np == (int)(sizeof pts / sizeof pts[0]))
                continue;
            char which[64];
            pts[np++] =
                (m_point){NUM(e, "m"), NUM(e, "gmacs"), 100 * roof_of(e, which, sizeof which)};
        }
    }
    if (!np) return 0;
    qsort(pts, (size_t)np, sizeof pts[0], m_point_cmp);
    tb_sb_printf(b, "%s\"%s%s%s\"\n", *n ? "\n\n" : "", kernel, c->ncpu > 1 ? " @ " : "",
                 c->ncpu > 1 ? c->cpus[cpu] : "");
    (*n)++;
    for (int i = 0; i < np; i++) tb_sb_printf(b, "%g %g %g\n", pts[i].m, pts[i].gmacs, pts[i].roof);
    return 1;
}

// Whether (kernel, threads) was seen before entry e of document d (so each series is made once).
static int seen_before(const tb_report_ctx *c, int d, const cJSON *e, int cpu, const char *weights)
{
    for (int i = 0; i <= d; i++) {
        const cJSON *doc = c->set->files[i].doc, *x;
        if (!is_kernels(doc) || tb_report_cpu_index(c, doc) != cpu) continue;
        for (x = FIELD(doc, "entries")->child; x && x != e; x = x->next)
            if (!strcmp(STR(x, "kernel"), STR(e, "kernel")) &&
                NUM(x, "threads") == NUM(e, "threads") && !strcmp(STR(x, "weights"), weights))
                return 1;
    }
    return 0;
}

// One figure per thread count (a figure of every kernel at every thread count is unreadable):
// speed and roof fraction against m, one series per kernel (and CPU).
static int m_figure(tb_report_ctx *c, const char *weights, int threads)
{
    tb_sbuf b = {0};
    int n = 0, fn = 0, fk = 0;
    for (int cpu = 0; cpu < c->ncpu; cpu++)
        for (int d = 0; d < c->set->nfiles; d++) {
            const cJSON *doc = c->set->files[d].doc, *e;
            if (!is_kernels(doc) || tb_report_cpu_index(c, doc) != cpu) continue;
            cJSON_ArrayForEach(e, FIELD(doc, "entries"))
            {
                if (strcmp(STR(e, "weights"), weights) || (int)NUM(e, "threads") != threads ||
                    seen_before(c, d, e, cpu, weights))
                    continue;
                if (m_series(c, &b, &n, cpu, weights, STR(e, "kernel"), threads) && !fn)
                    figure_shape(c, cpu, weights, &fn, &fk);
            }
        }
    int rc = TB_OK;
    if (n) {
        char what[160], title[512], name[64];
        snprintf(what, sizeof what, "Kernels vs m, %dx%d, %s weights, %d thread%s", fn, fk, weights,
                 threads, threads == 1 ? "" : "s");
        tb_report_title(c, what, -1, title, sizeof title);
        snprintf(name, sizeof name, "kernels-m-%s-%dt", weights, threads);
        rc = tb_report_figure(c, "kernels_vs_m", name, title, &b, n);
    }
    tb_sb_free(&b);
    return rc;
}

// The thread counts measured with these weights, ascending, deduplicated; how many.
static int thread_counts(const tb_report_ctx *c, const char *weights, int *t, int max)
{
    int nt = 0;
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *e;
        if (!is_kernels(doc)) continue;
        cJSON_ArrayForEach(e, FIELD(doc, "entries"))
        {
            int th = (int)NUM(e, "threads"), i = 0;
            if (strcmp(STR(e, "weights"), weights)) continue;
            while (i < nt && t[i] < th) i++;
            if ((i < nt && t[i] == th) || nt == max) continue;
            memmove(t + i + 1, t + i, (size_t)(nt - i) * sizeof *t);
            t[i] = th, nt++;
        }
    }
    return nt;
}

int tb_report_kernels(tb_report_ctx *c)
{
    static const char *const weights[] = {"hot", "cold"};
    if (!kernels_table(c)) return TB_OK;
    for (int w = 0; w < 2; w++) {
        int t[16], nt = thread_counts(c, weights[w], t, 16);
        for (int i = 0; i < nt; i++)
            if (m_figure(c, weights[w], t[i])) return TB_BAD_INPUT;
    }
    return tb_report_choice(c);
}
