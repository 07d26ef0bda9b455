// Which CPUs have finished which points (fleet_status.h).
#include "fleet_status.h"

#include "results.h"
#include "run_status.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 4

// Point states, by precedence when runs disagree (fleet_status.h).
enum { NOT_REACHED = 1, FAILED, RUNNING, SKIPPED, CHECK_FAILED, DONE };
static const char *const state_names[] = {"missing", "not reached",  "failed", "running",
                                          "skipped", "check-failed", "done"};

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// The map of one CPU of one experiment: {"folder", "points": {key: {"rank", "reason"}},
// "runs": [...]}, created on first use inside exps[experiment][cpu].
static cJSON *cpu_entry(cJSON *exps, const char *experiment, const char *cpu, const char *folder)
{
    cJSON *e = cJSON_GetObjectItemCaseSensitive(exps, experiment);
    if (!e) e = cJSON_AddObjectToObject(exps, experiment);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(e, cpu);
    if (!c) {
        c = cJSON_AddObjectToObject(e, cpu);
        cJSON_AddStringToObject(c, "folder", folder);
        cJSON_AddObjectToObject(c, "points");
        cJSON_AddArrayToObject(c, "runs");
    }
    return c;
}

static void note_point(cJSON *cpu, const char *key, int rank, const char *reason)
{
    cJSON *points = cJSON_GetObjectItem(cpu, "points");
    cJSON *p = cJSON_GetObjectItemCaseSensitive(points, key);
    if (p && cJSON_GetNumberValue(cJSON_GetObjectItem(p, "rank")) >= rank) return;
    if (!p && rank == 0) { // known to the experiment, not (yet) to any run of this CPU
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(points, key), "rank", 0);
        return;
    }
    if (p) cJSON_DeleteItemFromObjectCaseSensitive(points, key);
    p = cJSON_AddObjectToObject(points, key);
    cJSON_AddNumberToObject(p, "rank", rank);
    if (reason && reason[0]) cJSON_AddStringToObject(p, "reason", reason);
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int read_status_file(cJSON *exps, const char *folder, const char *path, tb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return tb_fail(err, "%s: cannot read it", path);
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (len < 0) return fclose(f), tb_fail(err, "%s: cannot read it", path);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
    fclose(f);
    if (!text) return tb_fail(err, "out of memory");
    text[got] = '\0';
    cJSON *d = cJSON_Parse(text);
    free(text);
    const char *schema = str(d, "schema"), *exp = str(d, "experiment"), *cpu = str(d, "cpu_slug");
    const cJSON *points = cJSON_GetObjectItem(d, "points");
    if (!d || !schema || strcmp(schema, TB_RUN_STATUS_SCHEMA) != 0 || !exp || !cpu ||
        !cJSON_IsArray(points)) {
        const char *why = !d        ? "not valid JSON"
                          : !schema ? "field 'schema' is missing"
                          : strcmp(schema, TB_RUN_STATUS_SCHEMA) != 0
                              ? "field 'schema': not a run status"
                          : !exp ? "field 'experiment' is missing"
                          : !cpu ? "field 'cpu_slug' is missing"
                                 : "field 'points' must be an array";
        cJSON_Delete(d);
        return tb_fail(err, "%s: %s", path, why);
    }
    cJSON *c = cpu_entry(exps, exp, cpu, folder);
    int running = str(d, "state") && strcmp(str(d, "state"), "running") == 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(d, "experiment_points"))
    {
        if (cJSON_IsString(p)) note_point(c, p->valuestring, 0, NULL); // another shard's: missing
    }
    cJSON_ArrayForEach(p, points)
    {
        const char *key = str(p, "key"), *st = str(p, "status"), *why = str(p, "reason");
        if (!key || !st) continue;
        // done, kept and skipped are the documents' to say; a run's word is only for the rest
        int rank = strcmp(st, "failed") == 0               ? FAILED
                   : strcmp(st, "running") == 0 && running ? RUNNING
                                                           : NOT_REACHED;
        note_point(c, key, rank, why);
    }
    cJSON *run = cJSON_CreateObject();
    static const char *const copied[] = {"host", "state", "started", "updated", "revision"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (str(d, copied[i])) cJSON_AddStringToObject(run, copied[i], str(d, copied[i]));
    const cJSON *sh = cJSON_GetObjectItem(d, "shard");
    const cJSON *index = cJSON_GetObjectItem(sh, "index"),
                *count = cJSON_GetObjectItem(sh, "count");
    char shard[32] = "";
    if (cJSON_IsNumber(index) && cJSON_IsNumber(count) && count->valuedouble > 1)
        snprintf(shard, sizeof shard, "%d/%d", index->valueint, count->valueint);
    cJSON_AddStringToObject(run, "shard", shard);
    const cJSON *slurm = cJSON_GetObjectItem(d, "slurm");
    char job[96] = "";
    if (str(slurm, "array_job_id"))
        snprintf(job, sizeof job, "%s_%s", str(slurm, "array_job_id"),
                 str(slurm, "array_task_id") ? str(slurm, "array_task_id") : "?");
    else if (str(slurm, "job_id"))
        snprintf(job, sizeof job, "%s", str(slurm, "job_id"));
    cJSON_AddStringToObject(run, "slurm_job", job);
    cJSON_AddItemToArray(cJSON_GetObjectItem(c, "runs"), run);
    cJSON_Delete(d);
    return TB_OK;
}

// A point's result document: its key is done (or skipped, or check-failed) on its CPU.
static void read_point_document(cJSON *exps, const char *folder, const char *path)
{
    char msg[512];
    cJSON *d = tb_results_read(path, msg, sizeof msg);
    const cJSON *pt = cJSON_GetObjectItem(d, "point");
    const char *exp = str(pt, "experiment"), *key = str(pt, "key");
    const char *cpu = str(cJSON_GetObjectItem(d, "info"), "cpu_slug");
    if (exp && key && cpu) {
        int rank = cJSON_GetObjectItem(d, "skipped")  ? SKIPPED
                   : cJSON_GetObjectItem(d, "failed") ? CHECK_FAILED
                                                      : DONE;
        note_point(cpu_entry(exps, exp, cpu, folder), key, rank, str(d, "skipped"));
    }
    cJSON_Delete(d);
}

static int walk(cJSON *exps, const char *dir, int depth, tb_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return TB_OK;
    char path[4096];
    int rc = TB_OK;
    for (struct dirent *de; !rc && (de = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (strcmp(de->d_name, TB_RUN_STATUS_DIR) == 0 && is_dir(path)) {
            DIR *s = opendir(path);
            for (struct dirent *fe; !rc && s && (fe = readdir(s));) {
                char file[4400];
                if (fe->d_name[0] == '.' || !tb_results_is_result_name(fe->d_name)) continue;
                snprintf(file, sizeof file, "%s/%s", path, fe->d_name);
                rc = read_status_file(exps, dir, file, err);
            }
            if (s) closedir(s);
        } else if (de->d_name[0] == '.') {
            continue;
        } else if (is_dir(path)) {
            // a report's folder and the SLURM logs hold no results
            if (depth < MAX_DEPTH && strcmp(de->d_name, "report") != 0 &&
                strcmp(de->d_name, "slurm-jobs") != 0)
                rc = walk(exps, path, depth + 1, err);
        } else if (tb_results_is_result_name(de->d_name)) {
            read_point_document(exps, dir, path);
        }
    }
    closedir(d);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

// The children of an object, sorted by name (malloc'd array; *n their count).
static cJSON **sorted(const cJSON *o, int *n)
{
    *n = cJSON_GetArraySize(o);
    cJSON **v = malloc(sizeof *v * (size_t)(*n ? *n : 1));
    int i = 0;
    for (cJSON *c = o ? o->child : NULL; c && v; c = c->next) v[i++] = c;
    if (v) qsort(v, (size_t)*n, sizeof *v, by_name);
    return v;
}

static cJSON *summarize_experiment(const cJSON *cpus, int *complete)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "experiment", cpus->string);
    cJSON *all = cJSON_CreateObject(); // every key any CPU planned or did
    for (const cJSON *c = cpus->child; c; c = c->next)
        for (const cJSON *p = cJSON_GetObjectItem(c, "points")->child; p; p = p->next)
            if (!cJSON_GetObjectItemCaseSensitive(all, p->string))
                cJSON_AddTrueToObject(all, p->string);
    int nkeys, ncpus;
    cJSON **keys = sorted(all, &nkeys), **cv = sorted(cpus, &ncpus);
    cJSON *out = cJSON_CreateArray();
    for (int i = 0; keys && cv && i < ncpus; i++) {
        const cJSON *points = cJSON_GetObjectItem(cv[i], "points");
        int count[DONE + 1] = {0};
        cJSON *o = cJSON_CreateObject(), *unfinished = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "cpu", cv[i]->string);
        cJSON_AddStringToObject(o, "folder", str(cv[i], "folder"));
        for (int k = 0; k < nkeys; k++) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(points, keys[k]->string);
            int rank = p ? (int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "rank")) : 0;
            count[rank]++;
            if (rank >= SKIPPED) continue;
            cJSON *u = cJSON_CreateObject();
            cJSON_AddStringToObject(u, "key", keys[k]->string);
            cJSON_AddStringToObject(u, "status", state_names[rank]);
            if (str(p, "reason")) cJSON_AddStringToObject(u, "reason", str(p, "reason"));
            cJSON_AddItemToArray(unfinished, u);
        }
        static const char *const fields[] = {"missing", "not_reached",  "failed", "running",
                                             "skipped", "check_failed", "done"};
        for (int r = DONE; r >= 0; r--) cJSON_AddNumberToObject(o, fields[r], count[r]);
        *complete &= count[0] + count[NOT_REACHED] + count[FAILED] + count[RUNNING] == 0;
        cJSON_AddItemToObject(o, "runs", cJSON_Duplicate(cJSON_GetObjectItem(cv[i], "runs"), 1));
        cJSON_AddItemToObject(o, "unfinished", unfinished);
        cJSON_AddItemToArray(out, o);
    }
    cJSON_AddNumberToObject(e, "points", nkeys);
    cJSON_AddItemToObject(e, "cpus", out);
    free(keys), free(cv);
    cJSON_Delete(all);
    return e;
}

int tb_fleet_status(const char *path, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (!is_dir(path)) return tb_fail(err, "%s: not a folder (expected a results folder)", path);
    cJSON *exps = cJSON_CreateObject();
    int rc = walk(exps, path, 0, err);
    if (!rc && cJSON_GetArraySize(exps) == 0)
        rc = tb_fail(err, "%s: no experiment results below it (no point documents, no %s/)", path,
                     TB_RUN_STATUS_DIR);
    if (rc) {
        cJSON_Delete(exps);
        return rc;
    }
    cJSON *d = *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", "fleet-status");
    cJSON_AddStringToObject(d, "path", path);
    int complete = 1, n;
    cJSON **ev = sorted(exps, &n);
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; ev && i < n; i++) {
        cJSON_AddItemToArray(list, summarize_experiment(ev[i], &complete));
    }
    cJSON_AddBoolToObject(d, "complete", complete);
    cJSON_AddItemToObject(d, "experiments", list);
    free(ev);
    cJSON_Delete(exps);
    return TB_OK;
}
