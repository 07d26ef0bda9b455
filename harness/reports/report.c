// tritbench report: orchestration. Loads the results and the published tables, decides whether
// figures can be drawn, writes the sections, then report.md.
#include "report_internal.h"
#include "atomic_file.h"
#include "results.h"
#include "tb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tb_build.h"

void tb_report_defaults(tb_report_params *p)
{
    const char *gp = getenv("TRITBENCH_GNUPLOT");
    // plots/ and the published tables of the working folder (a checkout), else of the sources
    // this program was built from
    int here = access("experiments/published", R_OK) == 0;
    *p = (tb_report_params){.out_dir = "report",
                            .published = here ? "experiments/published"
                                              : TB_SOURCE_ROOT "/experiments/published",
                            .plots = access("plots", R_OK) == 0 ? "plots" : TB_SOURCE_ROOT "/plots",
                            .gnuplot = gp && *gp ? gp : "gnuplot"};
}

int tb_report_float_kind(const char *kernel)
{
    const tb_kernel *k = tb_kernel_find(kernel);
    if (k) {
        switch (k->baseline) {
        case TB_FLOAT_FP16:
            return 2;
        case TB_FLOAT_FP32:
            return 1;
        case TB_FLOAT_Q8:
            return 3;
        case TB_FLOAT_Q4:
            return 4;
        default:
            return 0;
        }
    }
    static const char *const prefix[] = {"f32_", "f16_", "q8_", "q4_"};
    for (int i = 0; i < 4; i++)
        if (strncmp(kernel, prefix[i], strlen(prefix[i])) == 0) return i + 1;
    return 0;
}

int tb_report_cpu_index(const tb_report_ctx *c, const cJSON *doc)
{
    const char *cpu = tb_result_cpu_slug(doc);
    for (int i = 0; i < c->ncpu; i++)
        if (strcmp(c->cpus[i], cpu) == 0) return i;
    return -1;
}

// Whether the gnuplot program exists (a path, or a name on PATH); c->why says why not.
static int find_gnuplot(tb_report_ctx *c)
{
    const char *prog = c->p->gnuplot;
    if (strchr(prog, '/')) {
        if (access(prog, X_OK) == 0) return 1;
        snprintf(c->why, sizeof c->why, "gnuplot is not installed (%s is not an executable)", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    char dir[1024];
    for (const char *s = path ? path : ""; *s;) {
        size_t n = strcspn(s, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, s, prog);
        if (n && n < 900 && access(dir, X_OK) == 0) return 1;
        s += n + (s[n] == ':');
    }
    snprintf(c->why, sizeof c->why, "gnuplot is not installed (no '%s' on PATH)", prog);
    return 0;
}

static int list_cpus(tb_report_ctx *c, tb_error *err)
{
    for (int i = 0; i < c->set->nfiles; i++) {
        if (tb_report_cpu_index(c, c->set->files[i].doc) >= 0) continue;
        if (c->ncpu == TB_REPORT_CPUS_MAX)
            return tb_fail(err, "results from more than %d CPUs", TB_REPORT_CPUS_MAX);
        c->cpus[c->ncpu++] = tb_result_cpu_slug(c->set->files[i].doc);
    }
    return TB_OK;
}

int tb_report_write(tb_report_ctx *c, const char *name, const tb_sbuf *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->p->out_dir, name);
    if (text->failed) return tb_fail(c->err, "%s: out of memory", path);
    if (tb_write_file_atomic(path, text->s ? text->s : ""))
        return tb_fail(c->err, "%s: cannot write the file", path);
    cJSON_AddItemToArray(c->files, cJSON_CreateString(path));
    return TB_OK;
}

static void header(tb_report_ctx *c)
{
    tb_sb_printf(&c->md, "# tritbench report\n\n%d result documents from %d CPU%s:\n\n",
                 c->set->nfiles, c->ncpu, c->ncpu > 1 ? "s" : "");
    for (int i = 0; i < c->ncpu; i++) {
        const cJSON *info = NULL;
        for (int d = 0; d < c->set->nfiles && !info; d++)
            if (tb_report_cpu_index(c, c->set->files[d].doc) == i)
                info = cJSON_GetObjectItemCaseSensitive(c->set->files[d].doc, "info");
        const char *model =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "model_name"));
        const char *arch = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "arch"));
        tb_sb_printf(&c->md, "- `%s`: %s (%s)\n", c->cpus[i], model ? model : "?",
                     arch ? arch : "?");
    }
    tb_sb_printf(&c->md, "\n");
    if (c->set->nskipped) {
        tb_sb_printf(&c->md, "%d file%s skipped (not read):\n\n", c->set->nskipped,
                     c->set->nskipped > 1 ? "s" : "");
        for (int i = 0; i < c->set->nskipped; i++)
            tb_sb_printf(&c->md, "- %s\n", c->set->skipped[i]);
        tb_sb_printf(&c->md, "\n");
    }
    if (!c->figures) tb_sb_printf(&c->md, "Figures are unavailable: %s.\n\n", c->why);
}

static int run_sections(tb_report_ctx *c, tb_error *err)
{
    if (list_cpus(c, err) || tb_published_load(&c->pub, c->p->published, err)) return TB_BAD_INPUT;
    if (tb_mkdir_p(c->p->out_dir))
        return tb_fail(err, "%s: cannot create the folder", c->p->out_dir);
    c->figures = find_gnuplot(c);
    header(c);
    tb_report_machines(c);
    tb_report_fleet(c);
    if (tb_report_models(c) || tb_report_kernels(c) || tb_report_peers(c) ||
        tb_report_perplexity(c))
        return TB_BAD_INPUT;
    return tb_report_write(c, "report.md", &c->md);
}

static cJSON *summary(const tb_report_ctx *c)
{
    cJSON *doc = cJSON_CreateObject(), *cpus = cJSON_AddArrayToObject(doc, "cpus");
    char path[1024];
    snprintf(path, sizeof path, "%s/report.md", c->p->out_dir);
    cJSON_AddStringToObject(doc, "report", path);
    for (int i = 0; i < c->ncpu; i++) cJSON_AddItemToArray(cpus, cJSON_CreateString(c->cpus[i]));
    cJSON_AddNumberToObject(doc, "documents", c->set->nfiles);
    cJSON *skipped = cJSON_AddArrayToObject(doc, "skipped");
    for (int i = 0; i < c->set->nskipped; i++)
        cJSON_AddItemToArray(skipped, cJSON_CreateString(c->set->skipped[i]));
    cJSON *fig = cJSON_AddObjectToObject(doc, "figures");
    cJSON_AddBoolToObject(fig, "available", c->figures);
    if (!c->figures) cJSON_AddStringToObject(fig, "reason", c->why);
    return doc;
}

int tb_report_run(const tb_report_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    tb_result_set set = {0};
    int rc = tb_result_set_load(&set, p->inputs, p->ninputs, err);
    tb_report_ctx c = {.p = p, .set = &set, .err = err, .files = cJSON_CreateArray()};
    if (rc == TB_OK) rc = run_sections(&c, err);
    if (rc == TB_OK) {
        *doc = summary(&c);
        cJSON_AddItemToObject(*doc, "files", c.files);
        c.files = NULL;
    }
    cJSON_Delete(c.files);
    free(c.rows);
    tb_sb_free(&c.md);
    tb_sb_free(&c.sampling);
    tb_published_free(&c.pub);
    tb_result_set_free(&set);
    return rc;
}

void tb_report_cpu_columns(const tb_report_ctx *c, tb_grid *g, const char *const *names, int n)
{
    for (int cpu = 0; cpu < c->ncpu; cpu++)
        for (int i = 0; i < n; i++) {
            char h[200];
            snprintf(h, sizeof h, "%s %s", c->cpus[cpu], names[i]);
            tb_grid_col(g, h);
        }
}

int tb_report_f16_head(const cJSON *entry)
{
    const char *head = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "head"));
    return !head || strcmp(head, "f16") == 0;
}
