// tritbench run EXPERIMENT: every point of a declarative experiment (harness/experiments/).
#include "commands.h"
#include "options.h"
#include "run.h"
#include "slurm.h"

#include <stdio.h>
#include <stdlib.h>

static const char *help =
    "usage: tritbench run EXPERIMENT [--dry-run] [--force] [--only PREFIX,...] [--results DIR]\n"
    "                    [--shard I/N] [--json] [--out FILE]\n"
    "       tritbench run EXPERIMENT --slurm --results SHARED [--partitions A,B] [--dry-run]\n"
    "                    [--nodes-per-partition N] [--time LIMIT] [--binary PATH | --build SRC]\n"
    "                    [--variants 'none;avx512vnni'] [--script FILE] [--only ...] [--force]\n"
    "\n"
    "Runs an experiment: experiments/EXPERIMENT.ini (or a file path), whose sections are steps\n"
    "(bench-kernels, bench-model, validate-model) expanded into points. Each point's result\n"
    "document is written atomically to DIR/<cpu>/<experiment>/<point>.json. An interrupted run,\n"
    "rerun, keeps the points already done with the same configuration and revision. A model\n"
    "larger than this machine's memory is run layer-sampled (a few layers timed, the rest\n"
    "extrapolated; labelled so) or listed as skipped with the memory it needs. The run's state\n"
    "(points planned, done, failed and why) is kept in DIR/<cpu>/<experiment>/.runs/ for\n"
    "'tritbench fleet status'.\n"
    "  --dry-run       list the points with their memory need and a time estimate; run nothing\n"
    "  --force         redo points already done\n"
    "  --only PREFIX   only the points whose key starts with PREFIX (e.g. a step name; a comma\n"
    "                  list: any of them)\n"
    "  --results DIR   where result folders go (default results)\n"
    "  --shard I/N     of the points (after --only), only the i-th with i mod N = I (0 <= I <\n"
    "                  N): N machines of one kind share the experiment\n"
    "  --json          the run's document on standard output instead of the table\n"
    "  --out FILE      also write it to FILE (atomically)\n"
    "\n"
    "Fleet runs (--slurm): writes an sbatch script for a job array and submits it with sbatch\n"
    "once per partition (one node kind each): every array task takes a whole node (exclusive,\n"
    "threads pinned one per core) and runs this experiment there into SHARED/<cpu>/; then\n"
    "'tritbench fleet status SHARED', 'tritbench report SHARED' (CPUs side by side) and\n"
    "'tritbench compare SHARED/<cpu1>/EXP SHARED/<cpu2>/EXP'. The script is readable: see it with\n"
    "--dry-run (written, printed, not submitted). README.md: Fleet runs.\n"
    "  --results SHARED         the results folder every node sees at this path (required)\n"
    "  --partitions A,B         one job per partition (default: the cluster's default partition)\n"
    "  --nodes-per-partition N  array tasks (nodes) per partition, sharing the points (default 1)\n"
    "  --time LIMIT             each task's time limit, as sbatch --time (default 2:00:00)\n"
    "  --binary PATH            the tritbench every node runs (default: this one)\n"
    "  --build SRC              instead: every node builds the sources at SRC (meson) first\n"
    "  --variants 'A;B'         array tasks per node, each with one TRITBENCH_DISABLE set "
    "('none':\n"
    "                           the whole CPU): results under <cpu>-without-<features>/\n"
    "  --script FILE            where the script goes (default SHARED/slurm-jobs/EXP-TIME.sbatch)\n"
    "Experiments: see experiments/README.md. Exit status: 0 every point done or kept (--slurm:\n"
    "submitted), 1 a point failed (--slurm: sbatch refused a partition's job), 2 bad usage or a\n"
    "bad experiment file.\n";

typedef struct {
    tb_run_params run;
    int json;
    const char *out, *shard;
    int slurm, results_given;
    tb_slurm_params fleet;
} run_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("dry-run", run_options, run.dry_run),
    TB_OPT_FLAG_ROW("force", run_options, run.force),
    TB_OPT_STRING_ROW("only", run_options, run.only),
    TB_OPT_STRING_ROW("results", run_options, run.results_dir),
    TB_OPT_FLAG_ROW("json", run_options, json),
    TB_OPT_STRING_ROW("out", run_options, out),
    TB_OPT_STRING_ROW("shard", run_options, shard),
    TB_OPT_FLAG_ROW("slurm", run_options, slurm),
    TB_OPT_STRING_ROW("partitions", run_options, fleet.partitions),
    TB_OPT_INT_ROW("nodes-per-partition", run_options, fleet.nodes_per_partition, 1, 4096),
    TB_OPT_STRING_ROW("time", run_options, fleet.time_limit),
    TB_OPT_STRING_ROW("binary", run_options, fleet.binary),
    TB_OPT_STRING_ROW("build", run_options, fleet.build),
    TB_OPT_STRING_ROW("variants", run_options, fleet.variants),
    TB_OPT_STRING_ROW("script", run_options, fleet.script),
};

// Options that only mean something with --slurm, and the one that means nothing with it.
static int check_mode(const run_options *o)
{
    const tb_slurm_params *f = &o->fleet;
    tb_slurm_params d;
    tb_slurm_defaults(&d);
    int fleet_only = f->partitions || f->nodes_per_partition != d.nodes_per_partition ||
                     f->time_limit != d.time_limit || f->binary || f->build || f->variants ||
                     f->script;
    if (!o->slurm && fleet_only)
        return tb_usage_error("run", "--partitions, --nodes-per-partition, --time, --binary, "
                                     "--build, --variants and --script go with --slurm");
    if (o->slurm && o->shard)
        return tb_usage_error("run", "--shard is the script's to give each node (see "
                                     "--nodes-per-partition)");
    return 0;
}

// "I/N" -> shard I of N.
static int parse_shard(const char *s, tb_run_params *r)
{
    char *end;
    long i = strtol(s, &end, 10), n = *end == '/' ? strtol(end + 1, &end, 10) : 0;
    if (*end || n < 1 || n > 4096 || i < 0 || i >= n)
        return tb_usage_error("run", "--shard '%s': expected I/N with 0 <= I < N (e.g. 0/2)", s);
    r->shard = (int)i, r->nshards = (int)n;
    return 0;
}

static void render_slurm(const cJSON *doc)
{
    int dry = cJSON_IsTrue(cJSON_GetObjectItem(doc, "dry_run"));
    if (dry) printf("%s", tb_jstr(doc, "script_text"));
    printf("%s %s (%d array task%s per job)\n",
           dry ? "script written, not submitted:" : "script:", tb_jstr(doc, "script"),
           (int)tb_jnum(doc, "tasks_per_job"), tb_jnum(doc, "tasks_per_job") == 1 ? "" : "s");
    const cJSON *j;
    cJSON_ArrayForEach(j, cJSON_GetObjectItem(doc, "jobs"))
    {
        printf("submitted job %s to partition %s\n", tb_jstr(j, "job_id"), tb_jstr(j, "partition"));
    }
    printf("results: %s/<cpu>/%s/\nfollow with:\n", tb_jstr(doc, "results"),
           tb_jstr(doc, "experiment"));
    cJSON_ArrayForEach(j, cJSON_GetObjectItem(doc, "follow")) printf("  %s\n", j->valuestring);
}

static int run_slurm(run_options *o)
{
    tb_slurm_params *f = &o->fleet;
    f->experiment = o->run.experiment;
    f->results_dir = o->results_given ? o->run.results_dir : NULL;
    f->only = o->run.only, f->force = o->run.force, f->dry_run = o->run.dry_run;
    cJSON *doc;
    tb_error err;
    int rc = tb_slurm_submit(f, &doc, &err);
    if (!doc) return tb_run_error("run", rc, &err);
    if (rc) fprintf(stderr, "tritbench run: %s\n", err.msg);
    if (!o->json) render_slurm(doc);
    return tb_output(doc, o->json, o->out, rc);
}

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
    tb_slurm_defaults(&o.fleet);
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2) {
            int rc =
                tb_parse_options("run", help, options, TB_COUNT(options), argc, argv, &o, NULL);
            if (rc) return rc < 0 ? 0 : rc;
        }
        return tb_usage_error("run", "say which experiment: 'tritbench run NAME' (experiments/)");
    }
    o.run.experiment = argv[1];
    o.run.results_dir = NULL;
    int rc =
        tb_parse_options("run", help, options, TB_COUNT(options), argc - 1, argv + 1, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if ((rc = check_mode(&o)) || (o.shard && (rc = parse_shard(o.shard, &o.run)))) return rc;
    o.results_given = o.run.results_dir != NULL;
    if (!o.results_given) o.run.results_dir = "results";
    if (o.slurm) return run_slurm(&o);
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
