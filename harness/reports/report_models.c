// The model sections of the report: token generation against the published tables, skipped
// points, energy per token, tokens/s against threads.
#include "report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The published CPUs of arXiv 2410.16144 (rows of experiments/published/*.tsv).
static const char *const pub_cpus[] = {"i7-13700H", "M2 Ultra"};

static tb_model_row *find_row(tb_report_ctx *c, int cpu, const char *size, int threads)
{
    for (int i = 0; i < c->nrows; i++)
        if (c->rows[i].cpu == cpu && c->rows[i].threads == threads &&
            strcmp(c->rows[i].size, size) == 0)
            return &c->rows[i];
    tb_model_row *rows = realloc(c->rows, (size_t)(c->nrows + 1) * sizeof *rows);
    if (!rows) return NULL;
    c->rows = rows;
    tb_model_row *r = &c->rows[c->nrows++];
    *r = (tb_model_row){
        .cpu = cpu, .threads = threads, .tern = NAN, .fp16 = NAN, .tern_j = NAN, .fp16_j = NAN};
    snprintf(r->size, sizeof r->size, "%s", size);
    return r;
}

static void sampled_label(const cJSON *params, char *out, size_t len)
{
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(params, "layer_sampled");
    out[0] = '\0';
    if (!ls) return;
    const cJSON *timed = cJSON_GetObjectItemCaseSensitive(ls, "layers_timed");
    char list[48] = "";
    for (const cJSON *t = timed ? timed->child : NULL; t; t = t->next)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", t->next ? "" : " and ",
                 (int)t->valuedouble);
    // "2 and 4" from [2, 4]: the first number has no separator before it.
    const char *shown = strncmp(list, " and ", 5) == 0 ? list + 5 : list;
    snprintf(out, len, "(layer-sampled: %s of %d layers timed, extrapolated)", shown,
             (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ls, "layers")));
}

static void add_entry(tb_model_row *r, const cJSON *e)
{
    const char *kernel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kernel"));
    double tps = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "decode_tokens_per_s"));
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(e, "energy_j_per_token");
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "energy_reason"));
    double joules = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    int kind = tb_report_float_kind(kernel);
    if (kind == 2 && isnan(r->fp16)) {
        r->fp16 = tps, r->fp16_j = joules;
        snprintf(r->fp16_jwhy, sizeof r->fp16_jwhy, "%s", why ? why : "no reason given");
    } else if (kind == 0 && (isnan(r->tern) || tps > r->tern)) {
        r->tern = tps, r->tern_j = joules;
        snprintf(r->kernel, sizeof r->kernel, "%s", kernel);
        snprintf(r->tern_jwhy, sizeof r->tern_jwhy, "%s", why ? why : "no reason given");
    }
}

// The decode rate of a kernel in a row filled by whole runs, or NAN.
static double row_rate(const tb_model_row *r, const char *kernel)
{
    int kind = tb_report_float_kind(kernel);
    if (kind == 2) return r->fp16;
    return kind == 0 && strcmp(r->kernel, kernel) == 0 ? r->tern : NAN;
}

// A layer-sampled document of a model, CPU and thread count that a whole run also measured: a
// check of the sampling (a row of its own table), not a row of the paper table.
static void sampling_check(tb_report_ctx *c, const tb_model_row *r, const cJSON *e)
{
    const char *kernel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kernel"));
    double sampled =
        cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "decode_tokens_per_s"));
    double whole = row_rate(r, kernel);
    if (isnan(whole) || isnan(sampled)) return;
    if (!c->sampling.s)
        tb_sb_printf(&c->sampling,
                     "### Layer sampling against whole runs\n\nThe same model, CPU and "
                     "threads run whole and layer-sampled (2 and 6 layers timed, every step "
                     "from emptied caches, extrapolated): how far the estimate is off.\n\n"
                     "| CPU | model | threads | kernel | whole tok/s | layer-sampled tok/s | "
                     "difference |\n|---|---|---:|---|---:|---:|---:|\n");
    tb_sb_printf(&c->sampling, "| `%s` | %s | %d | %s | %.2f | %.2f | %+.1f %% |\n",
                 c->cpus[r->cpu], r->size, r->threads, kernel, whole, sampled,
                 100 * (sampled / whole - 1));
}

// Model documents into rows: whole runs first, then layer-sampled ones, which fill rows no
// whole run measured and are checks of the sampling where one did.
static int collect_pass(tb_report_ctx *c, int sampled_pass)
{
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc;
        if (strcmp(tb_result_kind(doc), "model") != 0 ||
            cJSON_GetObjectItemCaseSensitive(doc, "skipped"))
            continue;
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
        const char *size = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(params, "config"), "name"));
        char label[96];
        sampled_label(params, label, sizeof label);
        if ((label[0] != '\0') != sampled_pass) continue;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, "entries"))
        {
            if (!tb_report_f16_head(e)) continue;
            int threads = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "threads"));
            int cpu = tb_report_cpu_index(c, doc), known = c->nrows;
            tb_model_row *r = find_row(c, cpu, size, threads);
            if (!r) return tb_fail(c->err, "out of memory");
            if (sampled_pass && (r - c->rows) < known && !r->sampled[0]) {
                sampling_check(c, r, e);
                continue;
            }
            if (label[0]) snprintf(r->sampled, sizeof r->sampled, "%s", label);
            add_entry(r, e);
        }
    }
    return TB_OK;
}

static int collect(tb_report_ctx *c)
{
    return collect_pass(c, 0) || collect_pass(c, 1) ? TB_BAD_INPUT : TB_OK;
}

static int row_order(const void *a, const void *b)
{
    const tb_model_row *x = a, *y = b;
    if (x->cpu != y->cpu) return x->cpu - y->cpu;
    int s = tb_natural_cmp(x->size, y->size);
    return s ? s : x->threads - y->threads;
}

static void cell(tb_grid *g, const char *const *keys, const char *header, const char *fmt, double v)
{
    if (isnan(v)) return;
    char s[64];
    snprintf(s, sizeof s, fmt, v);
    tb_grid_set(g, keys, tb_grid_col(g, header), s);
}

static void cpu_cells(tb_report_ctx *c, tb_grid *g, const tb_model_row *r, const char *const *keys)
{
    char h[4][160], s[256];
    const char *cpu = c->cpus[r->cpu];
    snprintf(h[0], sizeof h[0], "%s kernel", cpu);
    snprintf(h[1], sizeof h[1], "%s ternary tok/s", cpu);
    snprintf(h[2], sizeof h[2], "%s FP16 tok/s", cpu);
    snprintf(h[3], sizeof h[3], "%s speedup", cpu);
    if (r->kernel[0]) tb_grid_set(g, keys, tb_grid_col(g, h[0]), r->kernel);
    if (!isnan(r->tern)) {
        snprintf(s, sizeof s, "%.2f%s%s", r->tern, r->sampled[0] ? " " : "", r->sampled);
        tb_grid_set(g, keys, tb_grid_col(g, h[1]), s);
    }
    // The FP16 kernel ran in the same layer-sampled document; the ternary cell says how.
    cell(g, keys, h[2], r->sampled[0] ? "%.2f (layer-sampled)" : "%.2f", r->fp16);
    cell(g, keys, h[3], "%.2fx", r->tern / r->fp16);
}

static void published_cells(tb_report_ctx *c, tb_grid *g, const char *const *keys,
                            const char *const *cols, const char *const *names, int ncols)
{
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < ncols; i++) {
            char h[128];
            snprintf(h, sizeof h, "%s %s (published)", pub_cpus[p], names[i]);
            const char *v = tb_published_get(&c->pub, pub_cpus[p], keys[0], cols[i]);
            int col = tb_grid_col(g, h);
            if (v) tb_grid_set(g, keys, col, v);
        }
}

static void paper_table(tb_report_ctx *c)
{
    static const char *const cpu_names[] = {"kernel", "ternary tok/s", "FP16 tok/s", "speedup"};
    static const char *const keys_names[] = {"model", "threads"};
    static const char *const cols[] = {"fp16_tokens_per_s", "ternary_tokens_per_s", "speedup"};
    static const char *const names[] = {"FP16 tok/s", "ternary tok/s", "speedup"};
    tb_grid *g = tb_grid_new(2, keys_names);
    tb_report_cpu_columns(c, g, cpu_names, 4);
    for (int i = 0; i < c->nrows; i++) {
        char threads[16];
        snprintf(threads, sizeof threads, "%d", c->rows[i].threads);
        const char *keys[] = {c->rows[i].size, threads};
        cpu_cells(c, g, &c->rows[i], keys);
        published_cells(c, g, keys, cols, names, 3);
        const char *v = tb_published_get(&c->pub, "i7-13700H", keys[0], "i2s_vs_fp16");
        if (v) tb_grid_set(g, keys, tb_grid_col(g, "i7-13700H I2_S speedup (2502.11880)"), v);
        if ((v = tb_published_get(&c->pub, "M2 Ultra", keys[0], "i2s_vs_fp16")))
            tb_grid_set(g, keys, tb_grid_col(g, "M2 Ultra I2_S speedup (2502.11880)"), v);
    }
    tb_sb_printf(
        &c->md,
        "## Token generation against the published tables\n\n"
        "Decode tokens/s of the fastest ternary kernel and of the FP16 baseline measured "
        "in the same run; speedup = ternary / FP16. Published: arXiv 2410.16144 "
        "(llama.cpp FP16 vs bitnet.cpp) and 2502.11880 (I2_S vs FP16), read from `%s`.\n\n",
        c->p->published);
    tb_grid_markdown(g, &c->md);
    tb_grid_free(g);
}

static void skipped_list(tb_report_ctx *c)
{
    int any = 0;
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc;
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "skipped"));
        if (!why) continue;
        const cJSON *point = cJSON_GetObjectItemCaseSensitive(doc, "point");
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(point, "key"));
        const char *exp =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(point, "experiment"));
        if (!any++) tb_sb_printf(&c->md, "Points not run:\n\n");
        tb_sb_printf(&c->md, "- `%s` %s %s: skipped (%s)\n", tb_result_cpu_slug(doc),
                     exp ? exp : "", key ? key : c->set->files[d].path, why);
    }
    if (any) tb_sb_printf(&c->md, "\n");
}

static void energy_cell(tb_grid *g, const char *const *keys, const char *header, double j,
                        const char *why)
{
    char s[256];
    if (isnan(j))
        snprintf(s, sizeof s, "unavailable (%s)", why[0] ? why : "not measured");
    else
        snprintf(s, sizeof s, "%.4g", j);
    tb_grid_set(g, keys, tb_grid_col(g, header), s);
}

static void energy_table(tb_report_ctx *c)
{
    static const char *const keys_names[] = {"model", "threads"};
    static const char *const cols[] = {"fp16_j_per_token", "ternary_j_per_token"};
    static const char *const names[] = {"FP16 J/token", "ternary J/token"};
    static const char *const cpu_names[] = {"ternary J/token", "FP16 J/token"};
    tb_grid *g = tb_grid_new(2, keys_names);
    tb_report_cpu_columns(c, g, cpu_names, 2);
    for (int i = 0; i < c->nrows; i++) {
        const tb_model_row *r = &c->rows[i];
        char threads[16], h[2][160];
        snprintf(threads, sizeof threads, "%d", r->threads);
        const char *keys[] = {r->size, threads};
        snprintf(h[0], sizeof h[0], "%s ternary J/token", c->cpus[r->cpu]);
        snprintf(h[1], sizeof h[1], "%s FP16 J/token", c->cpus[r->cpu]);
        if (!isnan(r->tern) || r->tern_jwhy[0]) energy_cell(g, keys, h[0], r->tern_j, r->tern_jwhy);
        if (!isnan(r->fp16)) energy_cell(g, keys, h[1], r->fp16_j, r->fp16_jwhy);
        published_cells(c, g, keys, cols, names, 2);
    }
    tb_sb_printf(&c->md, "## Energy per token\n\nJ/token of decode, measured (RAPL) where "
                         "an energy source exists; never estimated.\n\n");
    tb_grid_markdown(g, &c->md);
    tb_grid_free(g);
}

int tb_report_models(tb_report_ctx *c)
{
    if (collect(c)) return TB_BAD_INPUT;
    if (c->nrows) qsort(c->rows, (size_t)c->nrows, sizeof *c->rows, row_order);
    if (c->nrows) paper_table(c);
    if (c->sampling.s) tb_sb_printf(&c->md, "%s\n", c->sampling.s);
    skipped_list(c);
    if (c->nrows) {
        if (tb_report_model_figures(c)) return TB_BAD_INPUT;
        energy_table(c);
    }
    return tb_report_ternary_kernels(c);
}
