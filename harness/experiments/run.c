// tritbench run EXPERIMENT: every point of an experiment, each written as one result document
// under results/<cpu>/<experiment>/, resumable: a point whose file exists with the same
// configuration (hash) and revision is kept, unless forced.
#include "run.h"

#include "report.h"
#include "results.h"
#include "run_status.h"
#include "tb_clock.h"
#include "tb_version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

void tb_run_defaults(tb_run_params *p)
{
    *p = (tb_run_params){.results_dir = "results", .nshards = 1};
}

// 1 if the point's key starts with one of the comma-separated prefixes of only (NULL: all).
static int selected_by_only(const char *key, const char *only)
{
    if (!only) return 1;
    for (const char *c = only; *c;) {
        size_t len = strcspn(c, ",");
        if (len > 0 && strncmp(key, c, len) == 0) return 1;
        c += len + (c[len] == ',');
    }
    return 0;
}

// The configuration of a point, as stored in its document and hashed for resuming.
static cJSON *point_config(const tb_point *pt)
{
    cJSON *c = cJSON_CreateObject();
    const tb_step *s = pt->step;
    static const char *const runs[] = {"bench-kernels", "bench-model", "validate-model",
                                       "perplexity"};
    cJSON_AddStringToObject(c, "run", runs[pt->kind]);
    cJSON_AddStringToObject(c, "kernels", s->kernels);
    cJSON_AddNumberToObject(c, "seed", (double)s->seed);
    if (pt->kind == TB_STEP_BENCH_KERNELS) {
        const tb_bench_kernels_params *b = &pt->params.bench_kernels;
        cJSON_AddItemToObject(c, "shape", cJSON_CreateIntArray(b->shapes[0], 2));
        cJSON_AddNumberToObject(c, "m", b->m[0]);
        cJSON_AddNumberToObject(c, "threads", b->threads[0]);
        cJSON_AddStringToObject(c, "weights", b->cold ? "cold" : "hot");
        cJSON_AddNumberToObject(c, "rounds", b->rounds);
        cJSON_AddNumberToObject(c, "block_ms", b->block_ms);
        if (b->baseline) cJSON_AddStringToObject(c, "baseline", b->baseline);
    } else if (pt->kind == TB_STEP_BENCH_MODEL) {
        const tb_bench_model_params *b = &pt->params.bench_model;
        cJSON_AddStringToObject(c, "model", b->model);
        cJSON_AddItemToObject(c, "threads", cJSON_CreateIntArray(b->threads, b->nthreads));
        cJSON_AddNumberToObject(c, "prompt", b->prompt);
        cJSON_AddNumberToObject(c, "tokens", b->tokens);
        cJSON_AddNumberToObject(c, "reps", b->reps);
        cJSON_AddStringToObject(c, "head", tb_head_names[b->heads[0]]);
        if (b->peer) cJSON_AddStringToObject(c, "peer", b->peer);
        cJSON_AddBoolToObject(c, "layer_sampled", pt->sampled);
    } else if (pt->kind == TB_STEP_PERPLEXITY) {
        const tb_perplexity_params *q = &pt->params.perplexity;
        cJSON_AddStringToObject(c, "model", q->model);
        cJSON_AddStringToObject(c, q->text_path ? "text" : "tokens",
                                q->text_path ? q->text_path : q->tokens_path);
        cJSON_AddNumberToObject(c, "ctx", q->ctx);
        cJSON_AddNumberToObject(c, "chunks", q->chunks);
        cJSON_AddNumberToObject(c, "threads", q->threads);
    } else {
        const tb_validate_model_params *v = &pt->params.validate_model;
        cJSON_AddStringToObject(c, "model", v->model);
        cJSON_AddNumberToObject(c, "tokens", v->tokens);
    }
    return c;
}

// 64-bit FNV-1a of the configuration's compact JSON, as 16 hex digits.
static void config_hash(const cJSON *config, char hex[17])
{
    char *text = cJSON_PrintUnformatted(config);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = text; c && *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    cJSON_free(text);
}

// "decode/125M/threads=2" -> "FOLDER/decode_125M_threads=2.json"
static void point_path(const char *folder, const char *key, char *path, size_t len)
{
    snprintf(path, len, "%s/", folder);
    size_t used = strlen(path);
    for (const char *c = key; *c && used + 6 < len; c++) path[used++] = *c == '/' ? '_' : *c;
    snprintf(path + used, len - used, ".json");
}

static int field_is(const cJSON *o, const char *key, const char *want)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return s && strcmp(s, want) == 0;
}

// 1 if path holds this point's finished result for this configuration and revision.
static int already_done(const char *path, const char *hash)
{
    if (access(path, R_OK) != 0) return 0;
    char err[512];
    cJSON *doc = tb_results_read(path, err, sizeof err);
    const cJSON *pt = cJSON_GetObjectItem(doc, "point");
    int same = pt && !cJSON_GetObjectItem(doc, "failed") && field_is(pt, "config_hash", hash) &&
               field_is(pt, "revision", TB_GIT_REVISION);
    cJSON_Delete(doc);
    return same;
}

// Runs one point's runner. A point too large for this machine gets a document saying so.
static int run_point(const tb_point *pt, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    if (pt->skipped) {
        *doc = cJSON_CreateObject();
        char why[160];
        snprintf(why, sizeof why, "needs about %.1f GiB, more than this machine has available",
                 (double)pt->bytes_needed / (1u << 30));
        cJSON_AddStringToObject(*doc, "skipped", why);
        return TB_OK;
    }
    switch (pt->kind) {
    case TB_STEP_BENCH_KERNELS:
        return tb_bench_kernels_run(&pt->params.bench_kernels, obs, doc, err);
    case TB_STEP_BENCH_MODEL:
        return tb_bench_model_run(&pt->params.bench_model, obs, doc, err);
    case TB_STEP_VALIDATE_MODEL:
        return tb_validate_model_run(&pt->params.validate_model, obs, doc, err);
    case TB_STEP_PERPLEXITY:
        return tb_perplexity_run(&pt->params.perplexity, obs, doc, err);
    }
    return tb_fail(err, "unknown step kind");
}

static const char *point_kind(const tb_point *pt)
{
    static const char *const kinds[] = {"kernels", "model", "accuracy", "perplexity"};
    return kinds[pt->kind];
}

// Runs a point and writes its document. A runner that fails writes nothing (its message goes
// into the run's document), so a rerun tries the point again.
static const char *run_and_write(const tb_experiment *e, const tb_point *pt, cJSON *config,
                                 const char *hash, const char *path, const tb_observer *obs,
                                 char *why, size_t why_len)
{
    cJSON *doc = NULL;
    tb_error err = {""};
    int rc = run_point(pt, obs, &doc, &err);
    if (!doc) return snprintf(why, why_len, "%s", err.msg), "failed";
    cJSON *p = cJSON_AddObjectToObject(doc, "point");
    cJSON_AddStringToObject(p, "experiment", e->name);
    cJSON_AddStringToObject(p, "step", pt->step->name);
    cJSON_AddStringToObject(p, "key", pt->key);
    cJSON_AddStringToObject(p, "config_hash", hash);
    cJSON_AddStringToObject(p, "revision", TB_GIT_REVISION);
    cJSON_AddBoolToObject(p, "layer_sampled", pt->sampled);
    cJSON_AddItemToObject(p, "config", cJSON_Duplicate(config, 1));
    // Which kernel each symbol of the step became on this CPU: compare matches two CPUs' entries
    // by it (the best kernel of one against the best of the other).
    cJSON *roles = cJSON_AddObjectToObject(p, "kernel_roles");
    char list[sizeof pt->step->roles], *save = NULL;
    snprintf(list, sizeof list, "%s", pt->step->roles);
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (eq) *eq = '\0';
        if (eq && !cJSON_GetObjectItemCaseSensitive(roles, t)) // "best, i2": the first says
            cJSON_AddStringToObject(roles, t, eq + 1);
    }
    int wrote = tb_results_write_path(doc, path, point_kind(pt)) == 0;
    cJSON_Delete(doc);
    if (!wrote) return snprintf(why, why_len, "cannot write %s", path), "failed";
    if (rc == TB_CHECK_FAILED) return snprintf(why, why_len, "a check failed"), "check-failed";
    return pt->skipped ? "skipped" : "done";
}

// Two runs of one experiment into one folder each end by writing FOLDER/report/: every file
// of it is atomic, but report.md of one run could sit beside the figures of the other, and the
// run ending first could replace the report of the one ending last. So the report is read and
// written under an exclusive lock on FOLDER/.lock (hidden: readers of results skip it). Returns
// the descriptor holding the lock (closing it releases the lock), or -1 with err set.
static int lock_folder(const char *folder, tb_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.lock", folder);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return tb_fail(err, "%s: %s", path, strerror(errno)), -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        tb_fail(err, "%s: cannot lock: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

// The experiment's report, from every point document of its folder: FOLDER/report/report.md
// and its figures; published tables from the folder "published" beside the experiment file.
static int write_report(const tb_experiment *e, const char *folder, cJSON *doc, tb_error *err)
{
    int lock = lock_folder(folder, err);
    if (lock < 0) return TB_BAD_INPUT;
    char out[1100], published[600];
    snprintf(out, sizeof out, "%s/report", folder);
    const char *slash = strrchr(e->path, '/');
    snprintf(published, sizeof published, "%.*s/published", slash ? (int)(slash - e->path) : 1,
             slash ? e->path : ".");
    const char *inputs[] = {folder};
    tb_report_params rp;
    tb_report_defaults(&rp);
    rp.inputs = inputs, rp.ninputs = 1, rp.out_dir = out;
    rp.published = access(published, R_OK) == 0 ? published : NULL;
    cJSON *rdoc = NULL;
    int rc = tb_report_run(&rp, &rdoc, err);
    close(lock);
    if (rdoc) cJSON_AddItemToObject(doc, "report", rdoc);
    return rc;
}

// 1 if folder holds a point's result document (the run's status alone makes no report).
static int has_point_documents(const char *folder)
{
    DIR *d = opendir(folder);
    int found = 0;
    for (struct dirent *de; d && !found && (de = readdir(d));)
        found = de->d_name[0] != '.' && tb_results_is_result_name(de->d_name);
    if (d) closedir(d);
    return found;
}

// The progress line: "[point i/n, ETA 4m10s] key: what the runner says", the time left scaled
// from the estimates by how the points so far compared with theirs.
static void set_progress(tb_prefixed_progress *pp, const tb_point *pt, int i, int n,
                         double left_est, double scale)
{
    double left = left_est * scale;
    snprintf(pp->prefix, sizeof pp->prefix, "[point %d/%d, ETA %dm%02ds] %s", i + 1, n,
             (int)(left / 60), (int)left % 60, pt->key);
    tb_observe(pp->outer, pp->prefix, 0, 1);
}

static cJSON *start_doc(const tb_experiment *e, const char *folder)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "experiment", e->name);
    cJSON_AddStringToObject(doc, "file", e->path);
    cJSON_AddStringToObject(doc, "description", e->description);
    cJSON_AddStringToObject(doc, "folder", folder);
    cJSON_AddStringToObject(doc, "revision", TB_GIT_REVISION);
    cJSON_AddArrayToObject(doc, "points");
    return doc;
}

static cJSON *point_entry(const tb_point *pt, const char *status, const char *path, double seconds,
                          const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", pt->key);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddNumberToObject(o, "bytes_needed", (double)pt->bytes_needed);
    cJSON_AddNumberToObject(o, "seconds_estimate", pt->seconds_estimate);
    if (seconds >= 0) cJSON_AddNumberToObject(o, "seconds", seconds);
    cJSON_AddBoolToObject(o, "layer_sampled", pt->sampled);
    if (why[0]) cJSON_AddStringToObject(o, "reason", why);
    return o;
}

static void summarize(cJSON *doc)
{
    static const char *const statuses[] = {"done",   "kept",         "skipped",
                                           "failed", "check-failed", "planned"};
    cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
    for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
        int n = 0;
        const cJSON *pt;
        cJSON_ArrayForEach(pt, cJSON_GetObjectItem(doc, "points")) n +=
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(pt, "status")), statuses[s]) == 0;
        cJSON_AddNumberToObject(sum, statuses[s], n);
    }
}

int tb_run_experiment(const tb_run_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    tb_experiment *e = malloc(sizeof *e);
    tb_point *points = malloc(sizeof(tb_point) * TB_EXP_POINTS_MAX);
    char *folder = NULL;
    int rc = !e || !points ? tb_fail(err, "out of memory")
                           : tb_experiment_load(p->experiment, NULL, e, err);
    if (!rc && !(folder = tb_results_folder(p->results_dir, e->name)))
        rc = tb_fail(err, "out of memory");
    int n = rc ? 0 : tb_experiment_points(e, points, TB_EXP_POINTS_MAX), failed = 0;
    if (!rc) *doc = start_doc(e, folder);
    double left_est = 0, spent = 0, spent_est = 0;
    tb_prefixed_progress pp = {obs, ""};
    tb_observer inner = tb_prefixed_observer(&pp);
    // This run's points: the --only and --shard selection, known before the first runs, so the
    // run's status (run_status.h) lists what a killed run never reached.
    const char **keys = malloc(sizeof *keys * (size_t)(n > 0 ? n : 1));
    int *mine = malloc(sizeof *mine * (size_t)(n > 0 ? n : 1));
    int nsel = 0, nkeys = 0, nshards = p->nshards > 0 ? p->nshards : 1;
    for (int i = 0, nonly = 0; i < n; i++) {
        // shards deal out the points --only selected, so they stay even
        int only = selected_by_only(points[i].key, p->only);
        points[i].skip_run = !only || nonly++ % nshards != p->shard;
        if (only && keys && mine) keys[nkeys] = points[i].key, mine[nkeys++] = !points[i].skip_run;
        if (!points[i].skip_run) nsel++, left_est += points[i].seconds_estimate;
    }
    tb_run_status status_file = {0};
    if (!rc && !p->dry_run && keys && mine)
        tb_run_status_start(&status_file, folder, e->name, e->path, p->shard, nshards, keys, mine,
                            nkeys);
    free(keys), free(mine);
    for (int i = 0, k = 0; i < n; i++) {
        const tb_point *pt = &points[i];
        char path[1024], hash[17], why[800] = "";
        const char *status = "planned";
        double seconds = -1;
        if (pt->skip_run) continue;
        left_est -= pt->seconds_estimate, k++;
        cJSON *config = point_config(pt);
        config_hash(config, hash);
        point_path(folder, pt->key, path, sizeof path);
        if (!p->force && already_done(path, hash)) {
            status = "kept";
        } else if (!p->dry_run) {
            set_progress(&pp, pt, k - 1, nsel, left_est + pt->seconds_estimate,
                         spent_est > 0 ? spent / spent_est : 1);
            tb_run_status_point(&status_file, pt->key, "running", "");
            double t0 = tb_now();
            status = run_and_write(e, pt, config, hash, path, &inner, why, sizeof why);
            seconds = tb_now() - t0, spent += seconds, spent_est += pt->seconds_estimate;
            failed += strstr(status, "failed") != NULL;
        }
        if (!p->dry_run) tb_run_status_point(&status_file, pt->key, status, why);
        cJSON_Delete(config);
        cJSON_AddItemToArray(cJSON_GetObjectItem(*doc, "points"),
                             point_entry(pt, status, path, seconds, why));
    }
    if (*doc) summarize(*doc);
    // A report needs at least one point document in the folder.
    if (!rc && !p->dry_run && has_point_documents(folder)) {
        tb_error rerr;
        if (write_report(e, folder, *doc, &rerr) != TB_OK)
            cJSON_AddStringToObject(*doc, "report_error", rerr.msg), failed++;
    }
    tb_run_status_finish(&status_file);
    free(e), free(points), free(folder);
    return rc ? rc : failed ? TB_CHECK_FAILED : TB_OK;
}
