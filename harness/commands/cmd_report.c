// tritbench report: result files and folders -> report.md with figures (reports/report.h).
#include "commands.h"
#include "options.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench report RESULTS... [--out DIR] [--published DIR] [--plots DIR] [--json]\n"
    "\n"
    "Writes DIR/report.md (default DIR: report/) from result documents: RESULTS are result\n"
    "files or folders (every *.json below them, e.g. results/ or results/<cpu>/<experiment>),\n"
    "grouped by CPU, several CPUs side by side. Sections, each when the results hold such data:\n"
    "token generation against the published tables (model points; layer-sampled and skipped\n"
    "points marked), energy per token, tokens/s vs threads, kernels (GMAC/s and roofline\n"
    "fraction vs shape and m, hot and cold), and per CPU speed vs bits per weight vs logit\n"
    "error (accuracy points) for choosing a kernel. Figures: data files written into DIR, drawn\n"
    "by gnuplot with the scripts of plots/ (PNG); without gnuplot the report says so.\n"
    "Every file is written atomically; report.md last. In a folder, a file that is not valid JSON\n"
    "(empty or cut short) and the temporary file of an unfinished write (*.json.tmp.*) are\n"
    "skipped, each named on stderr (\"tritbench: skipped: FILE: why\") and in report.md; the\n"
    "report uses the other documents.\n"
    "\n"
    "  --out DIR        output folder (default report; created)\n"
    "  --published DIR  published tables, *.tsv (default experiments/published)\n"
    "  --plots DIR      gnuplot scripts (default plots, else the sources' plots/)\n"
    "  --json           the list of files written, as JSON, on standard output\n"
    "Environment: TRITBENCH_GNUPLOT=PROGRAM runs that gnuplot.\n"
    "Exit status: 0 written, 2 bad usage or a malformed or foreign result or table (naming the\n"
    "file and field), a truncated file named as RESULTS, or a failing gnuplot script (no\n"
    "report.md written).\n";

typedef struct {
    tb_report_params run;
    int json;
} report_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("out", report_options, run.out_dir),
    TB_OPT_STRING_ROW("published", report_options, run.published),
    TB_OPT_STRING_ROW("plots", report_options, run.plots),
    TB_OPT_FLAG_ROW("json", report_options, json),
};

// Moves the RESULTS arguments out of argv (options keep their order); returns their count.
static int take_inputs(int *argc, char **argv, const char **inputs)
{
    int kept = 1, n = 0, only_inputs = 0;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (!only_inputs && strcmp(a, "--") == 0) {
            only_inputs = 1;
            continue;
        }
        if (only_inputs || a[0] != '-' || a[1] == '\0') {
            inputs[n++] = a;
            continue;
        }
        argv[kept++] = argv[i];
        int takes_value = 0;
        for (int o = 0; o < TB_COUNT(options); o++)
            takes_value |= options[o].type != TB_OPT_FLAG &&
                           strncmp(a + 2, options[o].name, strlen(options[o].name)) == 0 &&
                           a[2 + strlen(options[o].name)] == '\0' && a[1] == '-';
        if (takes_value && i + 1 < *argc) argv[kept++] = argv[++i];
    }
    *argc = kept;
    return n;
}

int cmd_report(int argc, char **argv)
{
    report_options o = {0};
    tb_report_defaults(&o.run);
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!inputs) return TB_EXIT_FAIL;
    o.run.inputs = inputs;
    o.run.ninputs = take_inputs(&argc, argv, inputs);
    int rc = tb_parse_options("report", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc == 0 && o.run.ninputs == 0)
        rc = tb_usage_error("report", "give result files or folders (e.g. results/)");
    if (rc) return free(inputs), rc < 0 ? 0 : rc;
    cJSON *doc;
    tb_error err;
    rc = tb_report_run(&o.run, &doc, &err);
    free(inputs);
    if (!doc) return tb_run_error("report", rc, &err);
    const cJSON *fig = cJSON_GetObjectItem(doc, "figures");
    if (!o.json) {
        printf("%s written (%d documents, %d skipped, %d files)\n", tb_jstr(doc, "report"),
               (int)tb_jnum(doc, "documents"),
               cJSON_GetArraySize(cJSON_GetObjectItem(doc, "skipped")),
               cJSON_GetArraySize(cJSON_GetObjectItem(doc, "files")));
        if (!cJSON_IsTrue(cJSON_GetObjectItem(fig, "available")))
            printf("figures unavailable: %s\n", tb_jstr(fig, "reason"));
    }
    return tb_output(doc, o.json, NULL, rc);
}
