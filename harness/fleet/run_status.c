// The state of one run beside its results (run_status.h).
#include "run_status.h"

#include "atomic_file.h"
#include "info.h"
#include "results.h"
#include "tb_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_status(tb_run_status *s)
{
    if (!s->doc) return;
    char now[32];
    utc_now(now);
    cJSON_ReplaceItemInObject(s->doc, "updated", cJSON_CreateString(now));
    if (tb_json_write(s->doc, s->path) != 0) {
        fprintf(stderr, "tritbench: run status not kept (%s)\n", s->path);
        cJSON_Delete(s->doc);
        s->doc = NULL;
    }
}

void tb_run_status_start(tb_run_status *s, const char *folder, const char *experiment,
                         const char *file, int shard, int nshards, const char *const *keys,
                         const int *mine, int n)
{
    char host[256] = "unknown-host", dir[1100], now[32];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    snprintf(dir, sizeof dir, "%s/%s", folder, TB_RUN_STATUS_DIR);
    if (nshards > 1)
        snprintf(s->path, sizeof s->path, "%s/%s-shard-%d-of-%d.json", dir, host, shard, nshards);
    else
        snprintf(s->path, sizeof s->path, "%s/%s.json", dir, host);
    s->doc = NULL;
    if (tb_mkdir_p(dir) != 0) return;
    cJSON *d = s->doc = cJSON_CreateObject();
    utc_now(now);
    cJSON_AddStringToObject(d, "schema", TB_RUN_STATUS_SCHEMA);
    cJSON_AddStringToObject(d, "experiment", experiment);
    cJSON_AddStringToObject(d, "file", file);
    cJSON_AddStringToObject(d, "revision", TB_GIT_REVISION);
    cJSON *info = tb_info_collect(NULL, NULL);
    const char *slug = cJSON_GetStringValue(cJSON_GetObjectItem(info, "cpu_slug"));
    cJSON_AddStringToObject(d, "cpu_slug", slug ? slug : "unknown-cpu");
    cJSON_AddStringToObject(d, "host", host);
    cJSON_AddNumberToObject(d, "pid", (double)getpid());
    cJSON *sh = cJSON_AddObjectToObject(d, "shard");
    cJSON_AddNumberToObject(sh, "index", shard);
    cJSON_AddNumberToObject(sh, "count", nshards);
    cJSON *slurm = cJSON_DetachItemFromObject(info, "slurm");
    if (slurm) cJSON_AddItemToObject(d, "slurm", slurm);
    cJSON_Delete(info);
    cJSON_AddStringToObject(d, "started", now);
    cJSON_AddStringToObject(d, "updated", now);
    cJSON_AddStringToObject(d, "state", "running");
    cJSON *all = cJSON_AddArrayToObject(d, "experiment_points");
    cJSON *pts = cJSON_AddArrayToObject(d, "points");
    for (int i = 0; i < n; i++) {
        cJSON_AddItemToArray(all, cJSON_CreateString(keys[i]));
        if (!mine[i]) continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "key", keys[i]);
        cJSON_AddStringToObject(p, "status", "planned");
        cJSON_AddItemToArray(pts, p);
    }
    write_status(s);
}

void tb_run_status_point(tb_run_status *s, const char *key, const char *status, const char *reason)
{
    if (!s->doc) return;
    cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(s->doc, "points"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "key")), key) != 0) continue;
        cJSON_ReplaceItemInObject(p, "status", cJSON_CreateString(status));
        cJSON_DeleteItemFromObject(p, "reason");
        if (reason && reason[0]) cJSON_AddStringToObject(p, "reason", reason);
    }
    write_status(s);
}

void tb_run_status_finish(tb_run_status *s)
{
    if (!s->doc) return;
    cJSON_ReplaceItemInObject(s->doc, "state", cJSON_CreateString("finished"));
    write_status(s);
    cJSON_Delete(s->doc);
    s->doc = NULL;
}
