// The report's perplexity section: per text, model and context, every kernel's perplexity and
// its KL divergence and top-1 agreement against the reference kernel (runners/perplexity.h),
// per CPU side by side.
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

#define FIELD(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k)   cJSON_GetNumberValue(FIELD(o, k))
#define STR(o, k)   cJSON_GetStringValue(FIELD(o, k))

static void doc_rows(tb_grid *g, const cJSON *doc)
{
    const char *cpu = tb_result_cpu_slug(doc), *text = STR(doc, "text");
    const char *slash = text ? strrchr(text, '/') : NULL;
    char ctx[64], h[200], v[96];
    snprintf(ctx, sizeof ctx, "%d x %d", (int)NUM(doc, "chunks"), (int)NUM(doc, "ctx"));
    const cJSON *r;
    cJSON_ArrayForEach(r, FIELD(doc, "results"))
    {
        const char *keys[] = {slash  ? slash + 1
                              : text ? text
                                     : "?",
                              STR(doc, "model"), ctx, STR(r, "kernel")};
        snprintf(h, sizeof h, "%s perplexity", cpu);
        snprintf(v, sizeof v, "%.4f +- %.4f", NUM(r, "perplexity"), NUM(r, "perplexity_stderr"));
        tb_grid_set(g, keys, tb_grid_col(g, h), v);
        snprintf(h, sizeof h, "%s KL vs %s", cpu, STR(r, "reference"));
        snprintf(v, sizeof v, "%.3g", NUM(r, "kl_vs_reference"));
        tb_grid_set(g, keys, tb_grid_col(g, h), v);
        snprintf(h, sizeof h, "%s top-1", cpu);
        snprintf(v, sizeof v, "%.2f %%", 100 * NUM(r, "top1_vs_reference"));
        tb_grid_set(g, keys, tb_grid_col(g, h), v);
    }
}

int tb_report_perplexity(tb_report_ctx *c)
{
    static const char *const key_names[] = {"text", "model", "chunks x ctx", "kernel"};
    tb_grid *g = tb_grid_new(4, key_names);
    for (int d = 0; d < c->set->nfiles; d++)
        if (!strcmp(tb_result_kind(c->set->files[d].doc), "perplexity"))
            doc_rows(g, c->set->files[d].doc);
    if (tb_grid_rows(g)) {
        tb_sb_printf(&c->md,
                     "## Perplexity\n\nEvery kernel's perplexity over the text (non-overlapping "
                     "chunks, the second half of each scored, as llama.cpp's perplexity tool "
                     "does; +- one standard error) and its token distributions against the "
                     "reference kernel's over the same tokens: KL(reference || kernel) and how "
                     "often both rank the same token first. Exact kernels agree bit for bit (KL "
                     "0); the float baselines' KL is what their rounding costs.\n\n");
        tb_grid_markdown(g, &c->md);
    }
    tb_grid_free(g);
    return TB_OK;
}
