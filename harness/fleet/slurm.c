// `tritbench run --slurm`: the sbatch script of a fleet run and its submission (slurm.h).
#define _GNU_SOURCE
#include "slurm.h"

#include "atomic_file.h"
#include "experiment.h"
#include "results.h"
#include "tb_kernel.h"
#include "tb_version.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void tb_slurm_defaults(tb_slurm_params *p)
{
    *p = (tb_slurm_params){.nodes_per_partition = 1, .time_limit = "2:00:00"};
}

// The parsed, checked request.
typedef struct {
    tb_experiment exp;
    char exp_file[PATH_MAX], results[PATH_MAX], cwd[PATH_MAX], binary[PATH_MAX], source[PATH_MAX];
    char partitions[TB_SLURM_PARTITIONS_MAX][64];
    int npartitions;
    char variants[TB_SLURM_VARIANTS_MAX][128]; // canonical TRITBENCH_DISABLE sets, "" = none
    int nvariants;
} request;

// 'text' with ' written as '\'' : safe in a bash script whatever the path holds.
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static int name_ok(const char *s, const char *extra)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s)) return 0;
    return 1;
}

static int parse_partitions(const char *list, request *r, tb_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!name_ok(t, "_-."))
            return tb_fail(err, "--partitions: '%s' is not a partition name ([A-Za-z0-9_.-])", t);
        if (r->npartitions == TB_SLURM_PARTITIONS_MAX)
            return tb_fail(err, "--partitions: more than %d", TB_SLURM_PARTITIONS_MAX);
        snprintf(r->partitions[r->npartitions++], sizeof r->partitions[0], "%s", t);
    }
    if (!r->npartitions) return tb_fail(err, "--partitions: empty list");
    return TB_OK;
}

// "none;avx512vnni,avx512f" -> {"", "avx512vnni,avx512f"}; every feature must be one tritbench
// knows (tb_isa_names), or TRITBENCH_DISABLE would ignore it and two variants be one CPU.
static int parse_variants(const char *list, request *r, tb_error *err)
{
    if (!list) {
        r->nvariants = 1, r->variants[0][0] = '\0';
        return TB_OK;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL, *v = buf;
    for (char *end; v; v = end) {
        end = strchr(v, ';');
        if (end) *end++ = '\0';
        if (r->nvariants == TB_SLURM_VARIANTS_MAX)
            return tb_fail(err, "--variants: more than %d", TB_SLURM_VARIANTS_MAX);
        char *out = r->variants[r->nvariants++];
        out[0] = '\0';
        for (char *t = strtok_r(v, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (strcmp(t, "none") == 0) continue;
            if (!tb_isa_bit(t)) {
                char known[256];
                tb_isa_names(~0u, known, sizeof known);
                return tb_fail(err, "--variants: unknown feature '%s' (known: %s)", t, known);
            }
            size_t n = strlen(out);
            snprintf(out + n, sizeof r->variants[0] - n, "%s%s", n ? "," : "", t);
        }
    }
    for (int i = 0; i < r->nvariants; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(r->variants[i], r->variants[j]) == 0)
                return tb_fail(err, "--variants: '%s' given twice",
                               r->variants[i][0] ? r->variants[i] : "none");
    return TB_OK;
}

static int check_request(const tb_slurm_params *p, request *r, tb_error *err)
{
    int rc = tb_experiment_load(p->experiment, NULL, &r->exp, err);
    if (rc) return rc;
    if (!realpath(r->exp.path, r->exp_file))
        return tb_fail(err, "%s: %s", r->exp.path, strerror(errno));
    if (!p->results_dir)
        return tb_fail(err, "--slurm needs --results DIR: the results folder every node shares "
                            "(e.g. on the cluster's shared file system)");
    if (tb_mkdir_p(p->results_dir) != 0 || !realpath(p->results_dir, r->results))
        return tb_fail(err, "--results %s: cannot create or resolve it", p->results_dir);
    if (!getcwd(r->cwd, sizeof r->cwd)) return tb_fail(err, "getcwd: %s", strerror(errno));
    if (p->partitions && (rc = parse_partitions(p->partitions, r, err))) return rc;
    if ((rc = parse_variants(p->variants, r, err))) return rc;
    if (p->nodes_per_partition < 1)
        return tb_fail(err, "--nodes-per-partition: %d, expected at least 1",
                       p->nodes_per_partition);
    if (!name_ok(p->time_limit, ":-"))
        return tb_fail(err, "--time: '%s' is not a SLURM time (MINUTES, H:MM:SS, D-HH:MM:SS)",
                       p->time_limit);
    if (p->only && !name_ok(p->only, ",/=_-."))
        return tb_fail(err, "--only: '%s': expected point key prefixes", p->only);
    if (p->binary && p->build) return tb_fail(err, "--binary and --build: give one");
    if (p->build) {
        char mb[PATH_MAX + 16];
        if (!realpath(p->build, r->source))
            return tb_fail(err, "--build %s: %s", p->build, strerror(errno));
        snprintf(mb, sizeof mb, "%s/meson.build", r->source);
        if (access(mb, R_OK) != 0)
            return tb_fail(err, "--build %s: no meson.build there (expected tritbench's sources)",
                           r->source);
    } else {
        const char *b = p->binary ? p->binary : "/proc/self/exe";
        if (!realpath(b, r->binary) || access(r->binary, X_OK) != 0)
            return tb_fail(err, "--binary %s: not an executable file", b);
    }
    return TB_OK;
}

static char *script_text(const tb_slurm_params *p, const request *r, const char *script)
{
    char *text = NULL, date[32];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    int tasks = p->nodes_per_partition * r->nvariants;
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "# tritbench fleet run of the experiment '%s', written by `tritbench run --slurm`\n",
            r->exp.name);
    fprintf(f, "# on %s (tritbench %s). Submitted once per partition (one node kind each):\n", date,
            TB_GIT_REVISION);
    for (int i = 0; i < (r->npartitions ? r->npartitions : 1); i++) {
        fprintf(f, "#     sbatch ");
        if (r->npartitions) fprintf(f, "--partition=%s ", r->partitions[i]);
        fprintf(f, "%s\n", script);
    }
    fprintf(f,
            "# Follow with squeue -j JOB and sacct -j JOB; see what came back with\n"
            "#     tritbench fleet status %s\n",
            r->results);
    fprintf(
        f,
        "#\n"
        "# Each array task takes a whole node (--exclusive: nothing else runs beside the\n"
        "# measurement) and runs `tritbench run` there, its threads pinned one per physical\n"
        "# core (TRITBENCH_PIN=cores). The node's results go to RESULTS/<cpu>/%s/, one file\n"
        "# per point, written atomically, so tasks writing at once never clash. A task that\n"
        "# dies keeps the points it finished; submitting this script again resumes the rest.\n"
        "#\n"
        "# Array task t: shard t / %d of the points (nodes of one partition share them),\n"
        "# variant t %% %d (VARIANTS below: features hidden, the node measured as another CPU).\n",
        r->exp.name, r->nvariants, r->nvariants);
    fprintf(f, "#SBATCH --job-name=tritbench-%s\n", r->exp.name);
    fprintf(f, "#SBATCH --array=0-%d\n", tasks - 1);
    fprintf(f, "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --exclusive\n");
    fprintf(f, "#SBATCH --time=%s\n", p->time_limit);
    fprintf(f, "#SBATCH --chdir=%s\n", r->cwd);
    fprintf(f, "#SBATCH --output=%s/slurm-jobs/%s-%%A_%%a.out\n", r->results, r->exp.name);
    fprintf(f, "set -euo pipefail\n\n");
    fprintf(f, "RESULTS=");
    put_quoted(f, r->results);
    fprintf(f, "\nEXPERIMENT=");
    put_quoted(f, r->exp_file);
    fprintf(f, "\nSHARDS=%d\n", p->nodes_per_partition);
    fprintf(f, "# TRITBENCH_DISABLE of each variant ('': the whole CPU).\nVARIANTS=(");
    for (int i = 0; i < r->nvariants; i++) {
        if (i) fputc(' ', f);
        put_quoted(f, r->variants[i]);
    }
    fprintf(f, ")\n\n");
    fprintf(f, "task=${SLURM_ARRAY_TASK_ID:-0}\n"
               "variant=${VARIANTS[task %% ${#VARIANTS[@]}]}\n"
               "shard=$((task / ${#VARIANTS[@]}))\n\n");
    if (r->source[0]) {
        fprintf(f,
                "# Built on the node (its compiler, its dependencies: meson, ninja, cJSON, inih).\n"
                "SOURCE=");
        put_quoted(f, r->source);
        fprintf(f, "\nBUILD=\"${TMPDIR:-/tmp}/tritbench-build-${SLURM_ARRAY_JOB_ID:-$$}-$task\"\n"
                   "[ -d \"$BUILD\" ] || meson setup --buildtype=release \"$BUILD\" \"$SOURCE\"\n"
                   "meson compile -C \"$BUILD\" tritbench\n"
                   "TRITBENCH=\"$BUILD/tritbench\"\n\n");
    } else {
        fprintf(f, "# Prebuilt: the same binary on every node (kernels are picked at run time).\n"
                   "TRITBENCH=");
        put_quoted(f, r->binary);
        fprintf(f, "\n\n");
    }
    fprintf(f, "echo \"tritbench: task $task on $(hostname): shard $shard of $SHARDS, "
               "features hidden: ${variant:-none}\"\n");
    fprintf(f, "export TRITBENCH_PIN=cores\n");
    fprintf(f, "TRITBENCH_DISABLE=\"$variant\" \"$TRITBENCH\" run \"$EXPERIMENT\" "
               "--results \"$RESULTS\" --shard \"$shard/$SHARDS\"");
    if (p->only) {
        fprintf(f, " --only ");
        put_quoted(f, p->only);
    }
    if (p->force) fprintf(f, " --force");
    fprintf(f, "\n");
    fclose(f);
    return text;
}

// Runs argv, its standard output into out (at most len - 1 bytes) and its standard error into
// errout. Returns the exit status, or -1 when it could not start (errno set).
static int run_capture(char *const argv[], char *out, size_t len, char *errout, size_t errlen)
{
    int po[2], pe[2];
    if (pipe(po) != 0) return -1;
    if (pipe(pe) != 0) return close(po[0]), close(po[1]), -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]), close(pe[1]);
    char *bufs[2] = {out, errout};
    size_t lens[2] = {len, errlen};
    int fds[2] = {po[0], pe[0]};
    for (int i = 0; i < 2; i++) { // small outputs: a pipe's buffer holds either whole
        size_t used = 0;
        for (ssize_t got; rc == 0 && (got = read(fds[i], bufs[i] + used, lens[i] - 1 - used)) > 0;)
            used += (size_t)got;
        bufs[i][used] = '\0';
        close(fds[i]);
    }
    if (rc != 0) return errno = rc, -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void strip(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
}

// 1 if program (a path, or a name looked up on PATH as execvp would) can be run. Checked before
// spawning: where the spawn cannot report a failed exec (qemu-user), the child exits 127.
static int runnable(const char *program)
{
    if (strchr(program, '/')) return access(program, X_OK) == 0;
    const char *path = getenv("PATH");
    char dir[PATH_MAX + 64];
    for (const char *c = path ? path : ""; *c;) {
        size_t len = strcspn(c, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)(len < PATH_MAX ? len : PATH_MAX), c, program);
        if (len && access(dir, X_OK) == 0) return 1;
        c += len + (c[len] == ':');
    }
    return 0;
}

// sbatch --parsable [--partition=P] SCRIPT -> the job id ("123" or "123;cluster").
static int submit(const tb_slurm_params *p, const char *script, const char *partition, char *job,
                  size_t joblen, tb_error *err)
{
    char part_arg[96], out[256], errout[2048];
    const char *sbatch = p->sbatch ? p->sbatch : "sbatch";
    char *argv[5] = {(char *)sbatch, "--parsable", NULL, NULL, NULL};
    int a = 2;
    if (partition) {
        snprintf(part_arg, sizeof part_arg, "--partition=%s", partition);
        argv[a++] = part_arg;
    }
    argv[a] = (char *)script;
    errno = ENOENT;
    int rc = runnable(sbatch) ? run_capture(argv, out, sizeof out, errout, sizeof errout) : -1;
    strip(out), strip(errout);
    if (rc < 0)
        return tb_fail(err,
                       "cannot run %s: %s (--slurm submits with SLURM's sbatch: install "
                       "it, or give --dry-run to write the script only)",
                       sbatch, strerror(errno));
    if (rc != 0 || !isdigit((unsigned char)out[0]))
        return tb_fail(err, "%s%s%s refused the job (exit %d): %s", sbatch,
                       partition ? " --partition=" : "", partition ? partition : "", rc,
                       errout[0] ? errout : out);
    out[strcspn(out, ";")] = '\0';
    snprintf(job, joblen, "%s", out);
    return TB_OK;
}

int tb_slurm_submit(const tb_slurm_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    request *r = calloc(1, sizeof *r);
    if (!r) return tb_fail(err, "out of memory");
    int rc = check_request(p, r, err);
    // SLURM writes the tasks' logs into RESULTS/slurm-jobs (the script's --output), which must
    // exist before a task starts; the script goes there too unless --script says otherwise.
    char logs[PATH_MAX + 16], script[PATH_MAX + 200], stamp[32];
    snprintf(logs, sizeof logs, "%s/slurm-jobs", r->results);
    if (!rc && tb_mkdir_p(logs) != 0) rc = tb_fail(err, "%s: cannot create it", logs);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    if (p->script)
        snprintf(script, sizeof script, "%s", p->script);
    else
        snprintf(script, sizeof script, "%s/%s-%s.sbatch", logs, r->exp.name, stamp);
    char *text = rc ? NULL : script_text(p, r, script);
    if (!rc && !text) rc = tb_fail(err, "out of memory");
    if (!rc && tb_write_file_atomic(script, text) != 0)
        rc = tb_fail(err, "%s: cannot write the script", script);
    if (!rc) chmod(script, 0755);
    if (rc) {
        free(text), free(r);
        return rc;
    }
    cJSON *d = *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", "slurm-submission");
    cJSON_AddStringToObject(d, "experiment", r->exp.name);
    cJSON_AddStringToObject(d, "experiment_file", r->exp_file);
    cJSON_AddStringToObject(d, "results", r->results);
    cJSON_AddStringToObject(d, "script", script);
    cJSON_AddStringToObject(d, "script_text", text);
    cJSON_AddBoolToObject(d, "dry_run", p->dry_run);
    cJSON_AddNumberToObject(d, "tasks_per_job", p->nodes_per_partition * r->nvariants);
    cJSON *vs = cJSON_AddArrayToObject(d, "variants");
    for (int i = 0; i < r->nvariants; i++)
        cJSON_AddItemToArray(vs, cJSON_CreateString(r->variants[i][0] ? r->variants[i] : "none"));
    cJSON *jobs = cJSON_AddArrayToObject(d, "jobs");
    cJSON *follow = cJSON_AddArrayToObject(d, "follow");
    for (int i = 0; !p->dry_run && i < (r->npartitions ? r->npartitions : 1); i++) {
        const char *part = r->npartitions ? r->partitions[i] : NULL;
        char job[256], line[300];
        if ((rc = submit(p, script, part, job, sizeof job, err))) {
            rc = TB_CHECK_FAILED; // what went through stays listed
            break;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "partition", part ? part : "(default)");
        cJSON_AddStringToObject(j, "job_id", job);
        cJSON_AddItemToArray(jobs, j);
        snprintf(line, sizeof line, "squeue -j %s", job);
        cJSON_AddItemToArray(follow, cJSON_CreateString(line));
        snprintf(line, sizeof line, "sacct -j %s", job);
        cJSON_AddItemToArray(follow, cJSON_CreateString(line));
    }
    char status[PATH_MAX + 40];
    snprintf(status, sizeof status, "tritbench fleet status %s", r->results);
    cJSON_AddItemToArray(follow, cJSON_CreateString(status));
    if (rc == TB_CHECK_FAILED && cJSON_GetArraySize(jobs) == 0) {
        cJSON_Delete(*doc), *doc = NULL; // nothing was submitted: the error says why
        rc = TB_BAD_INPUT;
    }
    free(text), free(r);
    return rc;
}
