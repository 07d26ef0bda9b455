// The peers section of the report: tritbench's kernels against the peers timed in the same
// run (peers.h: ggml's kernels), per case and CPU.
#include "peers.h"
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

#define FIELD(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define NUM(o, k)   cJSON_GetNumberValue(FIELD(o, k))
#define STR(o, k)   cJSON_GetStringValue(FIELD(o, k))

static int same_case(const cJSON *a, const cJSON *b)
{
    return NUM(a, "n") == NUM(b, "n") && NUM(a, "k") == NUM(b, "k") && NUM(a, "m") == NUM(b, "m") &&
           NUM(a, "threads") == NUM(b, "threads") && !strcmp(STR(a, "weights"), STR(b, "weights"));
}

// Speed of e against peer entry p of the same run and case: the median of per-round ratios
// when the run took its ratios against that peer (--baseline), else the ratio of the medians.
static void ratio(const char *baseline, const cJSON *e, const cJSON *p, char *out, size_t len)
{
    if (FIELD(e, "error") || FIELD(p, "error"))
        snprintf(out, len, "failed validation");
    else if (baseline && !strcmp(baseline, STR(p, "kernel")) &&
             cJSON_IsNumber(FIELD(e, "ratio_vs_baseline")))
        snprintf(out, len, "%.2fx", NUM(e, "ratio_vs_baseline"));
    else
        snprintf(out, len, "%.2fx (medians)", NUM(p, "median_s") / NUM(e, "median_s"));
}

static void doc_rows(tb_grid *g, const cJSON *doc)
{
    const char *cpu = tb_result_cpu_slug(doc);
    const char *baseline = STR(FIELD(doc, "parameters"), "baseline");
    const cJSON *e, *p;
    cJSON_ArrayForEach(e, FIELD(doc, "entries"))
    {
        char shape[32], m[16], threads[16], h[200], v[64];
        snprintf(shape, sizeof shape, "%dx%d", (int)NUM(e, "n"), (int)NUM(e, "k"));
        snprintf(m, sizeof m, "%d", (int)NUM(e, "m"));
        snprintf(threads, sizeof threads, "%d", (int)NUM(e, "threads"));
        const char *keys[] = {shape, m, STR(e, "weights"), threads, STR(e, "kernel")};
        snprintf(h, sizeof h, "%s GMAC/s", cpu);
        snprintf(v, sizeof v, FIELD(e, "error") ? "failed validation" : "%.2f", NUM(e, "gmacs"));
        tb_grid_set(g, keys, tb_grid_col(g, h), v);
        cJSON_ArrayForEach(p, FIELD(doc, "entries"))
        {
            if (!tb_is_peer(STR(p, "kernel")) || !same_case(e, p)) continue;
            snprintf(h, sizeof h, "%s vs %s", cpu, STR(p, "kernel") + strlen(TB_PEER_PREFIX));
            ratio(baseline, e, p, v, sizeof v);
            tb_grid_set(g, keys, tb_grid_col(g, h), v);
        }
    }
}

static int has_peer(const cJSON *doc)
{
    const cJSON *e;
    if (strcmp(tb_result_kind(doc), "kernels") != 0) return 0;
    cJSON_ArrayForEach(e, FIELD(doc, "entries")) if (tb_is_peer(STR(e, "kernel"))) return 1;
    return 0;
}

// The end-to-end peer of a bench model document (its "peer" object): per thread count,
// tritbench's and the peer's prefill and decode rates on the same file, and the ratios.
static void engine_rows(tb_grid *g, const cJSON *doc)
{
    const cJSON *peer = FIELD(doc, "peer"), *e;
    const char *cpu = tb_result_cpu_slug(doc);
    const char *model = STR(FIELD(FIELD(doc, "parameters"), "config"), "name");
    char h[200], v[160], threads[16];
    const char *engine = STR(peer, "engine");
    if (FIELD(peer, "error")) {
        const char *keys[] = {model ? model : "?", "-", engine};
        snprintf(h, sizeof h, "%s %s", cpu, "decode tok/s (peer)");
        snprintf(v, sizeof v, "%s cannot run it: %.100s", engine, STR(peer, "error"));
        tb_grid_set(g, keys, tb_grid_col(g, h), v);
        return;
    }
    cJSON_ArrayForEach(e, FIELD(peer, "entries"))
    {
        snprintf(threads, sizeof threads, "%d", (int)NUM(e, "threads"));
        const cJSON *r = FIELD(e, "tritbench_over_peer");
        const char *keys[] = {model ? model : "?", threads, engine};
        static const char *const what[] = {"prefill", "decode"};
        for (int i = 0; i < 2; i++) {
            char field[64];
            snprintf(field, sizeof field, "%s_tokens_per_s", what[i]);
            snprintf(h, sizeof h, "%s %s tok/s (tritbench)", cpu, what[i]);
            if (r && !FIELD(e, "error")) {
                snprintf(v, sizeof v, "%.2f", NUM(r, what[i]) * NUM(e, field));
                tb_grid_set(g, keys, tb_grid_col(g, h), v);
            }
            snprintf(h, sizeof h, "%s %s tok/s (peer)", cpu, what[i]);
            if (FIELD(e, "error"))
                snprintf(v, sizeof v, "%.100s", STR(e, "error"));
            else
                snprintf(v, sizeof v, "%.2f", NUM(e, field));
            tb_grid_set(g, keys, tb_grid_col(g, h), v);
            snprintf(h, sizeof h, "%s %s: tritbench / peer", cpu, what[i]);
            if (r) {
                snprintf(v, sizeof v, "%.2fx (%s)", NUM(r, what[i]), STR(r, "kernel"));
                tb_grid_set(g, keys, tb_grid_col(g, h), v);
            }
        }
    }
}

int tb_report_peers(tb_report_ctx *c)
{
    static const char *const engine_keys[] = {"model", "threads", "peer engine"};
    tb_grid *eg = tb_grid_new(3, engine_keys);
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc;
        if (!strcmp(tb_result_kind(doc), "model") && FIELD(doc, "peer")) engine_rows(eg, doc);
    }
    if (tb_grid_rows(eg)) {
        tb_sb_printf(&c->md,
                     "## Peer engines\n\ntritbench's engine and a peer's (`bench model --peer`: "
                     "llama.cpp through its C API, loaded from its library) on the same GGUF file "
                     "in the same run, repetitions taken in turns: tokens per second of each "
                     "(median over the repetitions) and the ratio tritbench / peer, with the "
                     "kernel tritbench's engine ran. llama.cpp 0ad4a86 computes BitNet's FFN with "
                     "SiLU where the model says relu2 (it knows no relu2): the same work, other "
                     "numbers.\n\n");
        tb_grid_markdown(eg, &c->md);
    }
    tb_grid_free(eg);

    static const char *const key_names[] = {"shape (n x k)", "m", "weights", "threads", "kernel"};
    tb_grid *g = tb_grid_new(5, key_names);
    for (int d = 0; d < c->set->nfiles; d++)
        if (has_peer(c->set->files[d].doc)) doc_rows(g, c->set->files[d].doc);
    if (tb_grid_rows(g)) {
        tb_sb_printf(&c->md,
                     "## Peers\n\nEvery kernel against the peers timed in the same run "
                     "(`peer:ggml-*`: ggml's own quantizers and dot products, the CPU backend of "
                     "llama.cpp, loaded from its library; 'tritbench kernels' names the version). "
                     "Speed ratios above 1 mean faster than the peer: the median of per-round "
                     "ratios where the run took its ratios against that peer (`--baseline`), "
                     "else the ratio of the two medians (marked).\n\n");
        tb_grid_markdown(g, &c->md);
    }
    tb_grid_free(g);
    return TB_OK;
}
