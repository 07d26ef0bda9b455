// The report's "Points per CPU" section: for results gathered from many machines (a fleet run,
// fleet/slurm.h), which points each CPU has, and which it lacks and why (fleet_status.h), so a
// CPU missing from a table row is never mistaken for a CPU that was not asked.
#include "fleet_status.h"
#include "report_internal.h"

#include <stdio.h>
#include <string.h>

// Unfinished points listed per CPU before "and N more".
#define LIST_MAX 12

static int worth_showing(const cJSON *st)
{
    if (!cJSON_IsTrue(cJSON_GetObjectItem(st, "complete"))) return 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "experiments"))
    {
        if (cJSON_GetArraySize(cJSON_GetObjectItem(e, "cpus")) > 1) return 1;
    }
    return 0;
}

static const char *jstr(const cJSON *o, const char *key, const char *dflt)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : dflt;
}

static int jint(const cJSON *o, const char *key)
{
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

// "node1 (job 12_0, finished, updated ...); node2 (job 12_1, shard 1/2, running, ...)": a run
// still "running" on a fleet that has ended is a node that died.
static void runs_cell(const cJSON *cpu, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(cpu, "runs"))
    {
        char job[128] = "", shard[64] = "";
        if (jstr(r, "slurm_job", "")[0])
            snprintf(job, sizeof job, "job %s, ", jstr(r, "slurm_job", ""));
        if (jstr(r, "shard", "")[0])
            snprintf(shard, sizeof shard, "shard %s, ", jstr(r, "shard", ""));
        int w = snprintf(out + used, len - used, "%s%s (%s%s%s, updated %s)", used ? "; " : "",
                         jstr(r, "host", "?"), job, shard, jstr(r, "state", "?"),
                         jstr(r, "updated", "?"));
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
}

static void section(tb_report_ctx *c, const cJSON *st)
{
    tb_sb_printf(
        &c->md,
        "## Points per CPU\n\n"
        "Which points of each experiment every CPU of `%s` has, from the result "
        "documents and the status each run keeps beside them (`tritbench fleet status`): "
        "a CPU without a point has no value for it in the tables below. Not reached: "
        "planned by a run that stopped (a node killed, a job out of time) or is still "
        "going; missing: part of the experiment (another CPU or another shard has it), no run of "
        "this CPU was asked for it.\n\n"
        "| experiment | CPU | done | failed | running | not reached | missing | runs |\n"
        "|---|---|---|---|---|---|---|---|\n",
        jstr(st, "path", "?"));
    const cJSON *e, *cpu;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "experiments"))
    {
        cJSON_ArrayForEach(cpu, cJSON_GetObjectItem(e, "cpus"))
        {
            char runs[1024];
            runs_cell(cpu, runs, sizeof runs);
            int done = jint(cpu, "done") + jint(cpu, "skipped") + jint(cpu, "check_failed");
            tb_sb_printf(&c->md, "| %s | `%s` | %d/%d | %d | %d | %d | %d | %s |\n",
                         jstr(e, "experiment", "?"), jstr(cpu, "cpu", "?"), done, jint(e, "points"),
                         jint(cpu, "failed"), jint(cpu, "running"), jint(cpu, "not_reached"),
                         jint(cpu, "missing"), runs[0] ? runs : "-");
        }
    }
    tb_sb_printf(&c->md, "\n");
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "experiments"))
    {
        cJSON_ArrayForEach(cpu, cJSON_GetObjectItem(e, "cpus"))
        {
            const cJSON *u = cJSON_GetObjectItem(cpu, "unfinished");
            int n = cJSON_GetArraySize(u), shown = 0;
            if (!n) continue;
            tb_sb_printf(&c->md, "Unfinished on `%s` (%s):\n\n", jstr(cpu, "cpu", "?"),
                         jstr(e, "experiment", "?"));
            const cJSON *p;
            cJSON_ArrayForEach(p, u)
            {
                if (shown++ == LIST_MAX) break;
                const char *why = jstr(p, "reason", "");
                tb_sb_printf(&c->md, "- `%s`: %s%s%s\n", jstr(p, "key", "?"),
                             jstr(p, "status", "?"), why[0] ? ": " : "", why);
            }
            if (n > LIST_MAX) tb_sb_printf(&c->md, "- and %d more\n", n - LIST_MAX);
            tb_sb_printf(&c->md, "\n");
        }
    }
}

void tb_report_fleet(tb_report_ctx *c)
{
    for (int i = 0; i < c->p->ninputs; i++) {
        cJSON *st = NULL;
        tb_error ignored;
        // A result file, or a folder of results without runs' status: nothing to say.
        if (tb_fleet_status(c->p->inputs[i], &st, &ignored) == TB_OK && worth_showing(st))
            section(c, st);
        cJSON_Delete(st);
    }
}
