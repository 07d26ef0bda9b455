// tritbench compare BASE NEW: two result sets side by side, speed with a noise-aware verdict
// and accuracy regressions (the work is reports/compare.c).
#include "commands.h"
#include "compare.h"
#include "options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench compare BASE NEW [--alpha A] [--fail-on-slowdown PCT] [--json] [--out FILE]\n"
    "\n"
    "Compares two result sets: each a result file or a folder read recursively (every *.json),\n"
    "e.g. results/<cpu>/<experiment> of two revisions, or of two CPUs. Points are matched by\n"
    "point.experiment + point.key (documents without a point by kind and parameters), entries\n"
    "by kernel and shape, m, threads, weights; what has no partner is listed.\n"
    "\n"
    "Speed: the ratio NEW/BASE (> 1: NEW is faster; kernels: median_s, model: decode and prefill\n"
    "tokens/s) and a verdict from the repetitions by a two-sided Mann-Whitney U test: faster or\n"
    "slower when p < alpha and the change exceeds 1 %, else same (noise). Few repetitions can\n"
    "never be significant (3 vs 3: the smallest p is 0.1); such rows are marked.\n"
    "Accuracy (validate --model results): a PASS become FAIL, an exact kernel's logits no longer\n"
    "bit-identical (logits_fnv1a), nmse above nmse_bound, kl_vs_float above 3x BASE's, or\n"
    "changed greedy tokens (argmax_tokens) is a regression.\n"
    "\n"
    "  --alpha A                significance level (default 0.05)\n"
    "  --fail-on-slowdown PCT   also fail on a significant slowdown larger than PCT %\n"
    "  --json                   the document on standard output instead of the table\n"
    "  --out FILE               also write the document to FILE (atomically)\n"
    "\n"
    "Exit status: 0 no regression; 1 an accuracy regression (or a failing slowdown); 2 bad\n"
    "usage or a malformed, truncated, foreign or mismatched document (a truncated one in a\n"
    "folder too: its point would silently drop out; a *.json.tmp.* file of an unfinished\n"
    "write is skipped with a warning). Sets from different CPUs\n"
    "(info.cpu_slug) give speed ratios only; only accuracy checks that hold on every CPU\n"
    "(an exact kernel's bit-identical logits, derived bounds) fail across CPUs.\n";

typedef struct {
    tb_compare_params run;
    int json;
    const char *out;
} compare_options;

// Largest --fail-on-slowdown: a slowdown is (NEW time / BASE time - 1) in %, unbounded above.
#define MAX_SLOWDOWN_PCT 1e6

static const tb_option options[] = {
    TB_OPT_DOUBLE_ROW("alpha", compare_options, run.alpha, 1e-9, 0.5),
    TB_OPT_DOUBLE_ROW("fail-on-slowdown", compare_options, run.fail_on_slowdown_pct, 0,
                      MAX_SLOWDOWN_PCT),
    TB_OPT_FLAG_ROW("json", compare_options, json),
    TB_OPT_STRING_ROW("out", compare_options, out),
};

// Widest point and entry shown in full; longer ones stretch their row.
#define MAX_COLUMN 48

static int column_width(const cJSON *rows, const char *field, const char *title)
{
    int w = (int)strlen(title);
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        int len = (int)strlen(tb_jstr(r, field));
        if (len > w) w = len < MAX_COLUMN ? len : MAX_COLUMN;
    }
    return w;
}

static void render_speed(const cJSON *speed)
{
    int wp = column_width(speed, "point", "point"), we = column_width(speed, "entry", "entry");
    printf("%-*s  %-*s  %-7s %11s %11s %7s %7s  %s\n", wp, "point", we, "entry", "metric", "base",
           "new", "ratio", "p", "verdict");
    const cJSON *r;
    cJSON_ArrayForEach(r, speed)
    {
        double p = tb_jnum(r, "p");
        char pv[16] = "-";
        if (!isnan(p)) snprintf(pv, sizeof pv, "%.3g", p);
        printf("%-*s  %-*s  %-7s %11.4g %11.4g %7.3f %7s  %s", wp, tb_jstr(r, "point"), we,
               tb_jstr(r, "entry"), tb_jstr(r, "metric"), tb_jnum(r, "base"), tb_jnum(r, "new"),
               tb_jnum(r, "ratio"), pv, tb_jstr(r, "verdict"));
        if (tb_jstr(r, "kernels")[0]) printf("  (%s)", tb_jstr(r, "kernels"));
        if (cJSON_IsTrue(cJSON_GetObjectItem(r, "too_few_samples")))
            printf("  (too few repetitions: %d vs %d, smallest possible p %.3g)",
                   (int)tb_jnum(r, "base_reps"), (int)tb_jnum(r, "new_reps"), tb_jnum(r, "min_p"));
        printf("%s\n", cJSON_IsTrue(cJSON_GetObjectItem(r, "fails")) ? "  FAILS" : "");
    }
}

static void render_accuracy(const cJSON *doc)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "accuracy"))
    {
        char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "base"));
        char *n = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "new"));
        printf("accuracy regression: %s: kernel %s, field %s: %s -> %s (%s)\n", tb_jstr(r, "point"),
               tb_jstr(r, "kernel"), tb_jstr(r, "field"), b ? b : "?", n ? n : "?",
               tb_jstr(r, "why"));
        cJSON_free(b);
        cJSON_free(n);
    }
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "unmatched"))
    {
        const char *entry = tb_jstr(r, "entry");
        printf("only in %s: %s%s%s\n", strcmp(tb_jstr(r, "only_in"), "base") ? "NEW" : "BASE",
               tb_jstr(r, "point"), entry[0] ? ": " : " (the whole point)", entry);
    }
}

static void render(const cJSON *doc)
{
    const cJSON *speed = cJSON_GetObjectItem(doc, "speed");
    if (cJSON_GetArraySize(speed)) render_speed(speed);
    render_accuracy(doc);
    const cJSON *s = cJSON_GetObjectItem(doc, "summary");
    printf("%d faster, %d slower, %d same", (int)tb_jnum(s, "faster"), (int)tb_jnum(s, "slower"),
           (int)tb_jnum(s, "same"));
    if (tb_jnum(s, "untested") > 0) printf(", %d untested", (int)tb_jnum(s, "untested"));
    printf("; accuracy: %d regressions", (int)tb_jnum(s, "accuracy_regressions"));
    if (tb_jnum(s, "unmatched") > 0) printf("; %d unmatched", (int)tb_jnum(s, "unmatched"));
    printf("\n");
    if (tb_jnum(s, "too_few_samples") > 0)
        printf("%d comparisons have too few repetitions for p to ever fall below alpha %g\n",
               (int)tb_jnum(s, "too_few_samples"), tb_jnum(doc, "alpha"));
    if (tb_jnum(s, "failing_slowdowns") > 0)
        printf("%d significant slowdowns larger than --fail-on-slowdown %g %%\n",
               (int)tb_jnum(s, "failing_slowdowns"), tb_jnum(doc, "fail_on_slowdown_pct"));
    if (cJSON_IsTrue(cJSON_GetObjectItem(doc, "cross_cpu"))) printf("%s\n", tb_jstr(doc, "note"));
}

int cmd_compare(int argc, char **argv)
{
    compare_options o = {0};
    tb_compare_defaults(&o.run);
    const char *sets[2];
    int nsets = tb_take_operands(options, TB_COUNT(options), &argc, argv, sets, 2);
    int rc = tb_parse_options("compare", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (nsets != 2)
        return tb_usage_error("compare", "needs two result sets, BASE and NEW (got %d)", nsets);
    o.run.base_path = sets[0], o.run.new_path = sets[1];
    cJSON *doc;
    tb_error err;
    rc = tb_compare_run(&o.run, &doc, &err);
    if (!doc) return tb_run_error("compare", rc, &err);
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, rc);
}
