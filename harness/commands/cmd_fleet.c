// tritbench fleet status RESULTS: which CPUs and nodes of a shared results folder have which
// points (the work is fleet/fleet_status.c).
#include "commands.h"
#include "fleet_status.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench fleet status RESULTS [--json] [--out FILE]\n"
    "\n"
    "For a results folder that many machines wrote into (`tritbench run EXPERIMENT --slurm`,\n"
    "or runs copied together), per experiment and CPU: the points done, failed (with the\n"
    "reason), running, not reached (planned by a run that stopped: a node killed, a job out\n"
    "of time), and missing (part of the experiment: another CPU or shard has them, no run of\n"
    "this CPU was asked for them); and each run that\n"
    "wrote there: host, SLURM job and array task, shard, state, last update. A run still\n"
    "'running' after its job ended died there; `tritbench run` again (or the sbatch script)\n"
    "resumes it: the points done are kept.\n"
    "RESULTS may also be one CPU's folder or one experiment's.\n"
    "\n"
    "  --json       the document on standard output instead of the table\n"
    "  --out FILE   also write it to FILE (atomically)\n"
    "Exit status: 0 every CPU has every point; 1 some are failed, running, not reached or\n"
    "missing; 2 bad usage, no results there, or a malformed status file (named).\n";

typedef struct {
    int json;
    const char *out;
} fleet_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("json", fleet_options, json),
    TB_OPT_STRING_ROW("out", fleet_options, out),
};

static void render(const cJSON *doc)
{
    const cJSON *e, *cpu, *r, *p;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "experiments"))
    {
        int points = (int)tb_jnum(e, "points");
        printf("experiment %s: %d point%s\n", tb_jstr(e, "experiment"), points,
               points == 1 ? "" : "s");
        printf("  %-48s %7s %6s %7s %11s %7s\n", "cpu", "done", "failed", "running", "not reached",
               "missing");
        cJSON_ArrayForEach(cpu, cJSON_GetObjectItem(e, "cpus"))
        {
            char done[32];
            snprintf(done, sizeof done, "%d/%d",
                     (int)(tb_jnum(cpu, "done") + tb_jnum(cpu, "skipped") +
                           tb_jnum(cpu, "check_failed")),
                     points);
            printf("  %-48s %7s %6d %7d %11d %7d\n", tb_jstr(cpu, "cpu"), done,
                   (int)tb_jnum(cpu, "failed"), (int)tb_jnum(cpu, "running"),
                   (int)tb_jnum(cpu, "not_reached"), (int)tb_jnum(cpu, "missing"));
            cJSON_ArrayForEach(r, cJSON_GetObjectItem(cpu, "runs"))
            {
                const char *job = tb_jstr(r, "slurm_job"), *shard = tb_jstr(r, "shard");
                printf("    run on %s%s%s%s%s: %s, updated %s\n", tb_jstr(r, "host"),
                       job[0] ? ", job " : "", job, shard[0] ? ", shard " : "", shard,
                       tb_jstr(r, "state"), tb_jstr(r, "updated"));
            }
            cJSON_ArrayForEach(p, cJSON_GetObjectItem(cpu, "unfinished"))
            {
                const char *why = tb_jstr(p, "reason");
                printf("    %-11s %s%s%s\n", tb_jstr(p, "status"), tb_jstr(p, "key"),
                       why[0] ? ": " : "", why);
            }
        }
    }
    printf("%s\n", cJSON_IsTrue(cJSON_GetObjectItem(doc, "complete"))
                       ? "complete: every CPU has every point"
                       : "incomplete");
}

int cmd_fleet(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return fputs(help, stdout), 0;
    if (argc < 2 || strcmp(argv[1], "status") != 0)
        return tb_usage_error("fleet", "say what: 'tritbench fleet status RESULTS'");
    argc--, argv++;
    fleet_options o = {0};
    const char *path[2];
    int n = tb_take_operands(options, TB_COUNT(options), &argc, argv, path, 2);
    int rc =
        tb_parse_options("fleet status", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (n != 1) return tb_usage_error("fleet status", "give one results folder (got %d)", n);
    cJSON *doc;
    tb_error err;
    rc = tb_fleet_status(path[0], &doc, &err);
    if (!doc) return tb_run_error("fleet status", rc, &err);
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out,
                     cJSON_IsTrue(cJSON_GetObjectItem(doc, "complete")) ? TB_OK : TB_CHECK_FAILED);
}
