// tritbench tune: the fastest kernel per regime and thread count, for dispatch (tuning/tune.c).
#include "commands.h"
#include "options.h"
#include "results.h"
#include "tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench tune [--model CONFIG] [--kernel A,B,...] [--threads T,...] [--m M,...]\n"
    "                      [--rounds R] [--block-ms T] [--screen F] [--hot-only] [--no-driver]\n"
    "                      [--seed S] [--json] [--out FILE]\n"
    "\n"
    "Times every ternary kernel this CPU runs (not the float baselines, not naive) in each\n"
    "regime the engine runs: decode GEMV (m = 1) with cold weights (from DRAM) and hot, and\n"
    "prefill GEMM at m buckets (hot), at each thread count, on the model's layer shapes, kernels\n"
    "interleaved round by round ('bench kernels'). A kernel's score is one layer's time: each\n"
    "shape's median weighted by how many products of that shape a layer has. Chooses the\n"
    "fastest kernel per regime and thread count, and the fastest of each packed format (an\n"
    "engine packs one format: its decode kernel's; prefill runs the fastest of that format).\n"
    "Then tunes the decode path's runtime parameters on the decode kernel: the prefetch distance\n"
    "of the kernels, then the chunk work of the row driver (a value replaces the default only\n"
    "if more than 2 % faster); engine runs on this CPU set them.\n"
    "Writes results/<cpu>/tune.json, which dispatch then uses on this CPU (TRITBENCH_TUNE=FILE\n"
    "reads another file, TRITBENCH_TUNE=off none; TRITBENCH_DEBUG=1 says what was chosen).\n"
    "  --model CONFIG    whose layer shapes are timed (default 2B4T)\n"
    "  --kernel LIST     ternary kernels to time (default: all this CPU runs but naive)\n"
    "  --threads LIST    thread counts (default: 1 and the logical CPUs)\n"
    "  --m LIST          GEMM buckets, each at least 2 (default 8,32,128)\n"
    "  --rounds R        interleaved rounds (default 5)\n"
    "  --block-ms T      target length of one kernel's block in a round (default 5)\n"
    "  --screen F        a GEMM bucket times only kernels within F times the fastest layer of\n"
    "                    the regime before, and the fastest of each format (default 3; 0: all)\n"
    "  --hot-only        leave out the cold GEMV regime and the decode parameters (their weight\n"
    "                    copies fill twice the last-level cache); decode is then chosen hot\n"
    "  --no-driver       leave out the decode parameters (prefetch distance, chunk work)\n"
    "  --seed S          seed of the random data (default 1)\n"
    "  --json            the document on standard output instead of the table\n"
    "  --out FILE        write the document to FILE instead of results/<cpu>/tune.json\n";

typedef struct {
    tb_tune_params run;
    int no_driver, json;
    const char *out;
} tune_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("model", tune_options, run.model),
    TB_OPT_STRING_ROW("kernel", tune_options, run.kernels),
    TB_OPT_INTS_ROW("threads", tune_options, run.threads, run.nthreads, 1, TB_THREADS_MAX, 1,
                    TB_LIST_MAX),
    TB_OPT_INTS_ROW("m", tune_options, run.m, run.nm, 2, TB_M_MAX, 1, TB_LIST_MAX),
    TB_OPT_INT_ROW("rounds", tune_options, run.rounds, 1, 1000),
    TB_OPT_DOUBLE_ROW("block-ms", tune_options, run.block_ms, 0.1, 10000),
    TB_OPT_DOUBLE_ROW("screen", tune_options, run.screen, 0, 1000),
    TB_OPT_FLAG_ROW("hot-only", tune_options, run.hot_only),
    TB_OPT_FLAG_ROW("no-driver", tune_options, no_driver),
    TB_OPT_U64_ROW("seed", tune_options, run.seed),
    TB_OPT_FLAG_ROW("json", tune_options, json),
    TB_OPT_STRING_ROW("out", tune_options, out),
};

static int column_width(const char *name)
{
    int w = (int)strlen(name);
    return w < 9 ? 9 : w;
}

// Layer milliseconds: a row per (regime, threads), a column per kernel; '*' the fastest.
static void render_times(const cJSON *doc)
{
    const cJSON *kernels = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "parameters"), "kernels");
    const cJSON *r, *k;
    printf("\nlayer time in ms (one layer's products); * the fastest, - not timed\n");
    printf("%-10s %3s", "regime", "thr");
    cJSON_ArrayForEach(k, kernels)
    {
        const char *name = cJSON_IsString(k) ? k->valuestring : "?";
        printf("  %*s", column_width(name), name);
    }
    printf("\n");
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "regimes"))
    {
        printf("%-10s %3d", tb_jstr(r, "regime"), (int)tb_jnum(r, "threads"));
        const char *best = tb_jstr(r, "best");
        cJSON_ArrayForEach(k, kernels)
        {
            const cJSON *e, *found = NULL;
            cJSON_ArrayForEach(
                e, cJSON_GetObjectItem(r, "kernels")) if (strcmp(tb_jstr(e, "kernel"),
                                                                 k->valuestring) == 0) found = e;
            double s = tb_jnum(found, "layer_s");
            int w = column_width(k->valuestring);
            if (s > 0)
                printf("  %*.3f%s", w - 1, s * 1e3, strcmp(best, k->valuestring) == 0 ? "*" : " ");
            else
                printf("  %*s ", w - 1, "-");
        }
        printf("\n");
    }
}

// Per thread count: the decode choice and, in its format, the prefill choice per bucket.
static void render_engine(const cJSON *doc)
{
    const cJSON *par = cJSON_GetObjectItem(doc, "parameters"), *t, *r;
    const char *decode_regime =
        cJSON_IsTrue(cJSON_GetObjectItem(par, "cold")) ? "gemv_cold" : "gemv_hot";
    printf("\nengine (what dispatch takes from this file):\n");
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(par, "threads"))
    {
        const char *decode = "", *format = "";
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "regimes")) if ((int)tb_jnum(r, "threads") ==
                                                                           t->valueint &&
                                                                       strcmp(tb_jstr(r, "regime"),
                                                                              decode_regime) == 0)
        {
            decode = tb_jstr(r, "best");
            const cJSON *e;
            cJSON_ArrayForEach(
                e, cJSON_GetObjectItem(r, "kernels")) if (strcmp(tb_jstr(e, "kernel"), decode) == 0)
                format = tb_jstr(e, "format");
        }
        printf("  %d thread%s: decode %s (%s, format %s); prefill", t->valueint,
               t->valueint > 1 ? "s" : "", decode, decode_regime, format);
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "regimes")) if ((int)tb_jnum(r, "threads") ==
                                                                           t->valueint &&
                                                                       tb_jnum(r, "m") > 1)
        {
            const char *p = tb_jstr(cJSON_GetObjectItem(r, "best_by_format"), format);
            printf(" m=%d %s", (int)tb_jnum(r, "m"), p[0] ? p : decode);
        }
        printf("\n");
    }
}

// One sweep of the decode parameters: "prefetch 0 1.234 512 1.200 ...; choice 512".
static void render_sweep(const char *name, const cJSON *sw)
{
    const cJSON *c;
    printf("    %-14s", name);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(sw, "candidates"))
        printf(" %d:%.3f", (int)tb_jnum(c, "value"), tb_jnum(c, "layer_s") * 1e3);
    printf("  fastest %d (%+.1f %% vs default %d) -> %d\n", (int)tb_jnum(sw, "fastest"),
           100 * tb_jnum(sw, "gain_over_default"), (int)tb_jnum(sw, "default"),
           (int)tb_jnum(sw, "choice"));
}

static void render_driver(const cJSON *doc)
{
    const cJSON *dr = cJSON_GetObjectItem(doc, "driver"), *t;
    if (!dr) return;
    printf("\ndecode parameters, one layer (%s) in ms per value; a value replaces the default "
           "only if more than %.0f %% faster:\n",
           tb_jstr(dr, "regime"), 100 * tb_jnum(dr, "min_gain"));
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(dr, "threads"))
    {
        const cJSON *c = cJSON_GetObjectItem(t, "choice");
        printf("  %d thread%s, %s: prefetch %d bytes, chunk work %d bytes\n",
               (int)tb_jnum(t, "threads"), tb_jnum(t, "threads") > 1 ? "s" : "",
               tb_jstr(t, "kernel"), (int)tb_jnum(c, "prefetch_bytes"),
               (int)tb_jnum(c, "chunk_work"));
        render_sweep("prefetch_bytes", cJSON_GetObjectItem(t, "prefetch_bytes"));
        render_sweep("chunk_work", cJSON_GetObjectItem(t, "chunk_work"));
    }
}

static void render(const cJSON *doc, const char *path)
{
    const cJSON *par = cJSON_GetObjectItem(doc, "parameters");
    printf("tune: model %s, %d shapes, %d rounds of %.1f ms blocks, screen %g; CPU %s\n",
           tb_jstr(par, "model"), cJSON_GetArraySize(cJSON_GetObjectItem(par, "shapes")),
           (int)tb_jnum(par, "rounds"), tb_jnum(par, "block_ms"), tb_jnum(par, "screen"),
           tb_jstr(cJSON_GetObjectItem(doc, "fingerprint"), "cpu_slug"));
    render_times(doc);
    render_engine(doc);
    render_driver(doc);
    printf("\nwrote %s\n", path);
}

int cmd_tune(int argc, char **argv)
{
    tune_options o = {0};
    tb_tune_defaults(&o.run);
    int rc = tb_parse_options("tune", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    o.run.driver = !o.no_driver;
    cJSON *doc;
    tb_error err;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, 1);
    rc = tb_tune_run(&o.run, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (rc) return tb_run_error("tune", rc, &err);
    char *path = o.out ? strdup(o.out) : tb_tune_default_path();
    if (!path || tb_results_write_path(doc, path, "tune")) {
        free(path);
        cJSON_Delete(doc);
        return TB_EXIT_FAIL;
    }
    if (o.json)
        fprintf(stderr, "tritbench tune: wrote %s\n", path);
    else
        render(doc, path);
    free(path);
    return tb_output(doc, o.json, NULL, TB_OK);
}
