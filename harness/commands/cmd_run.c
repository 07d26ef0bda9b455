// tritbench run EXPERIMENT: every point of a declarative experiment (harness/experiments/).
#include "commands.h"
#include "options.h"
#include "run.h"

#include <stdio.h>

static const char *help =
    "usage: tritbench run EXPERIMENT [--dry-run] [--force] [--only PREFIX] [--results DIR]\n"
    "                    [--json] [--out FILE]\n"
    "\n"
    "Runs an experiment: experiments/EXPERIMENT.ini (or a file path), whose sections are steps\n"
    "(bench-kernels, bench-model, validate-model) expanded into points. Each point's result\n"
    "document is written atomically to DIR/<cpu>/<experiment>/<point>.json. An interrupted run,\n"
    "rerun, keeps the points already done with the same configuration and revision. A model\n"
    "larger than this machine's memory is run layer-sampled (a few layers timed, the rest\n"
    "extrapolated; labelled so) or listed as skipped with the memory it needs.\n"
    "  --dry-run       list the points with their memory need and a time estimate; run nothing\n"
    "  --force         redo points already done\n"
    "  --only PREFIX   only the points whose key starts with PREFIX (e.g. a step name)\n"
    "  --results DIR   where result folders go (default results)\n"
    "  --json          the run's document on standard output instead of the table\n"
    "  --out FILE      also write it to FILE (atomically)\n"
    "Experiments: see experiments/README.md. Exit status: 0 every point done or kept, 1 a point\n"
    "failed, 2 bad usage or a bad experiment file.\n";

typedef struct {
    tb_run_params run;
    int json;
    const char *out;
} run_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("dry-run", run_options, run.dry_run),
    TB_OPT_FLAG_ROW("force", run_options, run.force),
    TB_OPT_STRING_ROW("only", run_options, run.only),
    TB_OPT_STRING_ROW("results", run_options, run.results_dir),
    TB_OPT_FLAG_ROW("json", run_options, json),
    TB_OPT_STRING_ROW("out", run_options, out),
};

static void render(const cJSON *doc)
{
    printf("experiment %s (%s): %s\n", tb_jstr(doc, "experiment"), tb_jstr(doc, "file"),
           tb_jstr(doc, "description"));
    printf("%-52s %-12s %8s %8s %8s  %s\n", "point", "status", "mem GiB", "est s", "s", "note");
    const cJSON *pt;
    cJSON_ArrayForEach(pt, cJSON_GetObjectItem(doc, "points"))
    {
        char secs[16] = "-";
        if (cJSON_GetObjectItem(pt, "seconds"))
            snprintf(secs, sizeof secs, "%.1f", tb_jnum(pt, "seconds"));
        printf("%-52s %-12s %8.2f %8.0f %8s  %s%s\n", tb_jstr(pt, "key"), tb_jstr(pt, "status"),
               tb_jnum(pt, "bytes_needed") / (1u << 30), tb_jnum(pt, "seconds_estimate"), secs,
               cJSON_IsTrue(cJSON_GetObjectItem(pt, "layer_sampled")) ? "layer-sampled " : "",
               tb_jstr(pt, "reason"));
    }
    const cJSON *s = cJSON_GetObjectItem(doc, "summary");
    printf("%d done, %d kept, %d skipped, %d failed, %d check-failed, %d planned\n",
           (int)tb_jnum(s, "done"), (int)tb_jnum(s, "kept"), (int)tb_jnum(s, "skipped"),
           (int)tb_jnum(s, "failed"), (int)tb_jnum(s, "check-failed"), (int)tb_jnum(s, "planned"));
    printf("results: %s/\n", tb_jstr(doc, "folder"));
    const cJSON *report = cJSON_GetObjectItem(doc, "report");
    const cJSON *fig = cJSON_GetObjectItem(report, "figures");
    if (report)
        printf("report: %s (figures: %s)\n", tb_jstr(report, "report"),
               cJSON_IsTrue(cJSON_GetObjectItem(fig, "available")) ? "PNG files beside it"
                                                                   : tb_jstr(fig, "reason"));
    if (cJSON_GetObjectItem(doc, "report_error"))
        printf("report failed: %s\n", tb_jstr(doc, "report_error"));
}

int cmd_run(int argc, char **argv)
{
    run_options o = {0};
    tb_run_defaults(&o.run);
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2) {
            int rc =
                tb_parse_options("run", help, options, TB_COUNT(options), argc, argv, &o, NULL);
            if (rc) return rc < 0 ? 0 : rc;
        }
        return tb_usage_error("run", "say which experiment: 'tritbench run NAME' (experiments/)");
    }
    o.run.experiment = argv[1];
    int rc =
        tb_parse_options("run", help, options, TB_COUNT(options), argc - 1, argv + 1, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    cJSON *doc;
    tb_error err;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, 1);
    rc = tb_run_experiment(&o.run, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (!doc) return tb_run_error("run", rc, &err);
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, rc);
}
