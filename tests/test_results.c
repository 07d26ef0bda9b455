// Result files: round trip, no clobbering within one second, clear errors for bad files, and
// crash safety: a writer killed before its rename, or at a random point of a large write,
// leaves the previous file intact and no partial file under a result name.
#define _DEFAULT_SOURCE // usleep
#include "atomic_file.h"
#include "measure_util.h"
#include "results.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static char *tmp;

static cJSON *sample(const char *model, int entries)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "model_name", model);
    cJSON *p = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddNumberToObject(p, "seed", 42);
    cJSON *list = cJSON_AddArrayToObject(doc, "entries");
    for (int i = 0; i < entries; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kernel", "i2_scalar");
        cJSON_AddNumberToObject(e, "n", 2560);
        cJSON_AddNumberToObject(e, "median_s", 1.25e-4 + i * 1e-9);
        cJSON_AddNullToObject(e, "energy_j");
        cJSON_AddStringToObject(e, "energy_reason", "no /sys/class/powercap (virtual machine?)");
        cJSON_AddItemToArray(list, e);
    }
    return doc;
}

// Files in folder that count as results.
static int count_results(const char *folder, int *temporaries)
{
    DIR *d = opendir(folder);
    struct dirent *de;
    int n = 0;
    *temporaries = 0;
    while (d && (de = readdir(d)) != NULL) {
        if (tb_results_is_result_name(de->d_name))
            n++;
        else if (strstr(de->d_name, ".tmp."))
            (*temporaries)++;
    }
    if (d) closedir(d);
    return n;
}

static void test_round_trip(void)
{
    cJSON *doc = sample("Test CPU 1", 3);
    char *path = tb_results_write(doc, tmp, "kernels");
    CHECK(path != NULL, "write failed");
    if (!path) return;
    char want_prefix[4096];
    snprintf(want_prefix, sizeof want_prefix, "%s/test-cpu-1/kernels-", tmp);
    CHECK(strncmp(path, want_prefix, strlen(want_prefix)) == 0, "path %s", path);
    CHECK(contains(path, "Z.json"), "path %s", path);
    char err[512] = "";
    cJSON *back = tb_results_read(path, err, sizeof err);
    CHECK(back != NULL, "read back: %s", err);
    CHECK(back && cJSON_Compare(doc, back, 1), "round trip differs");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(back, "schema");
    CHECK(cJSON_IsString(schema) && strcmp(schema->valuestring, TB_RESULTS_SCHEMA) == 0, "schema");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(back, "created");
    CHECK(cJSON_IsString(created) && strlen(created->valuestring) == 20 &&
              created->valuestring[10] == 'T' && created->valuestring[19] == 'Z',
          "created '%s'", cJSON_IsString(created) ? created->valuestring : "?");
    CHECK(strcmp(back->child->string, "schema") == 0, "schema is not the first field");

    // A second write in the same second never replaces the first.
    char *again = tb_results_write(doc, tmp, "kernels");
    CHECK(again && strcmp(again, path) != 0, "second write: %s", again ? again : "NULL");
    int temporaries;
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/test-cpu-1", tmp);
    CHECK(count_results(folder, &temporaries) == 2 && temporaries == 0, "results in %s", folder);
    free(again);
    cJSON_Delete(back);
    cJSON_Delete(doc);
    free(path);
}

static void test_bad_calls(void)
{
    cJSON *doc = sample("Test CPU 1", 1);
    CHECK(tb_results_write(doc, tmp, "Bad/Kind") == NULL, "bad kind accepted");
    CHECK(tb_results_write(doc, tmp, "") == NULL, "empty kind accepted");
    // The CPU folder's name is taken by a file.
    char dir[4096 + 32], blocker[4096 + 64];
    snprintf(dir, sizeof dir, "%s/blocked", tmp);
    make_dir(dir);
    snprintf(blocker, sizeof blocker, "%s/test-cpu-1", dir);
    put_file(blocker, "x");
    CHECK(tb_results_write(doc, dir, "kernels") == NULL, "wrote through a file");
    cJSON_Delete(doc);
    CHECK(tb_results_write(NULL, tmp, "kernels") == NULL, "NULL doc accepted");
}

static void expect_read_error(const char *name, const char *text, const char *part)
{
    char path[4096 + 64], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    if (text) put_file(path, text);
    cJSON *doc = tb_results_read(path, err, sizeof err);
    CHECK(doc == NULL, "%s accepted", name);
    CHECK(contains(err, path) && contains(err, part), "error '%s' lacks '%s' or the path", err,
          part);
    cJSON_Delete(doc);
}

static void test_read_errors(void)
{
    expect_read_error("missing.json", NULL, strerror(ENOENT));
    expect_read_error("empty.json", "", "not valid JSON");
    expect_read_error("truncated.json", "{\"schema\": \"tritbench-results/1\", \"entr", "byte");
    expect_read_error("array.json", "[1, 2]", "not a JSON object");
    expect_read_error("noschema.json", "{\"kind\": \"kernels\"}", "field 'schema' is missing");
    expect_read_error("oldschema.json", "{\"schema\": \"tritbench-results/0\"}",
                      "field 'schema' is \"tritbench-results/0\"");
    expect_read_error("numschema.json", "{\"schema\": 1}", "field 'schema'");
    expect_read_error("entries.json", "{\"schema\": \"tritbench-results/1\", \"entries\": {}}",
                      "field 'entries' must be an array");
    expect_read_error("x.json.tmp.AbC123", "{\"schema\": \"tritbench-results/1\"}", "temporary");
    expect_read_error(".", NULL, "not a regular file");
}

static char *big_text(int entries)
{
    cJSON *doc = sample("Test CPU 1", entries);
    cJSON_AddStringToObject(doc, "schema", TB_RESULTS_SCHEMA);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    return text;
}

// waitpid with a deadline: a child still running after it is killed (and reported).
static int wait_child(pid_t pid, double seconds, const char *what)
{
    int status = 0;
    for (int i = 0; i < (int)(seconds * 1000); i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    CHECK(0, "%s: child still running after %.0f s", what, seconds);
    return status;
}

static void die_now(const char *tmp_path)
{
    (void)tmp_path;
    kill(getpid(), SIGKILL);
}

// The previous result at path is intact, and the folder has exactly one result.
static void check_intact(const char *path, const cJSON *before, int allow_new, const char *what)
{
    char err[512] = "";
    cJSON *now = tb_results_read(path, err, sizeof err);
    CHECK(now != NULL, "%s: previous file broken: %s", what, err);
    int same = now && cJSON_Compare(before, now, 1);
    int entries = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(now, "entries"));
    CHECK(same || (allow_new && entries > 1000), "%s: file is neither old nor new", what);
    cJSON_Delete(now);
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", path);
    *strrchr(folder, '/') = '\0';
    int temporaries;
    CHECK(count_results(folder, &temporaries) == 1, "%s: extra files named as results", what);
    // A leftover temporary file is refused by the reader.
    DIR *d = opendir(folder);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!strstr(de->d_name, ".tmp.")) continue;
        char *t = path_join(folder, de->d_name);
        cJSON *doc = tb_results_read(t, err, sizeof err);
        CHECK(doc == NULL && contains(err, "temporary"), "%s: read a temporary file", what);
        cJSON_Delete(doc);
        unlink(t);
        free(t);
    }
    if (d) closedir(d);
}

static jmp_buf abandon;

static void abandon_now(const char *tmp_path)
{
    (void)tmp_path;
    longjmp(abandon, 1);
}

// Under qemu-user a forked child hangs: the writer is abandoned in-process instead, right
// before its rename (the temporary file's name string leaks; there is no sanitizer there).
static void test_crash_emulated(void)
{
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/crash-emulated", tmp);
    cJSON *doc = sample("Test CPU 1", 2);
    char *path = tb_results_write(doc, dir, "kernels");
    CHECK(path != NULL, "write failed");
    if (!path) return;
    char *text = big_text(500);
    tb_write_atomic_test_hook = abandon_now;
    if (setjmp(abandon) == 0) {
        tb_write_file_atomic(path, text);
        CHECK(0, "the hook did not run");
    }
    tb_write_atomic_test_hook = NULL;
    check_intact(path, doc, 0, "abandoned before rename");
    printf("crash tests: writer abandoned before its rename (fork-based kills skipped under "
           "emulation)\n");
    free(text);
    free(path);
    cJSON_Delete(doc);
}

static void test_crash(void)
{
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/crash", tmp);
    cJSON *doc = sample("Test CPU 1", 2);
    char *path = tb_results_write(doc, dir, "kernels");
    CHECK(path != NULL, "write failed");
    if (!path) return;
    fflush(NULL);

    // 1. Killed after writing the temporary file, before the rename.
    char *text = big_text(2000);
    pid_t pid = fork();
    if (pid == 0) {
        tb_write_atomic_test_hook = die_now;
        tb_write_file_atomic(path, text);
        _exit(0); // not reached
    }
    int status = wait_child(pid, 10, "killed before rename");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    check_intact(path, doc, 0, "killed before rename");

    // 2. Killed in the middle of writing: a file size limit makes the kernel send SIGXFSZ once
    // the temporary file reaches 64 KiB of a larger document.
    pid = fork();
    if (pid == 0) {
        struct rlimit lim = {64 * 1024, 64 * 1024}, none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        setrlimit(RLIMIT_FSIZE, &lim);
        tb_write_file_atomic(path, text);
        _exit(0); // not reached
    }
    if (pid > 0) {
        status = wait_child(pid, 10, "size limit");
        CHECK(WIFSIGNALED(status), "child not killed by the size limit: status %d", status);
        char folder[4096];
        snprintf(folder, sizeof folder, "%s", path);
        *strrchr(folder, '/') = '\0';
        DIR *d = opendir(folder);
        struct dirent *de;
        long long partial = -1;
        while (d && (de = readdir(d)) != NULL) {
            if (!strstr(de->d_name, ".tmp.")) continue;
            char *t = path_join(folder, de->d_name);
            struct stat st;
            if (stat(t, &st) == 0) partial = (long long)st.st_size;
            free(t);
        }
        if (d) closedir(d);
        CHECK(partial > 0 && partial < (long long)strlen(text),
              "partial temporary file: %lld bytes", partial);
    }
    check_intact(path, doc, 0, "killed mid-write");

    // 3. Killed at whatever point a large write has reached once its temporary file exists.
    free(text);
    text = big_text(60000); // several megabytes
    pid = fork();
    if (pid == 0) {
        tb_write_file_atomic(path, text);
        _exit(0);
    }
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", path);
    *strrchr(folder, '/') = '\0';
    int seen = 0, finished = 0;
    for (int i = 0; i < 20000 && !seen && !finished; i++) { // up to ~2 s
        count_results(folder, &seen);
        finished = waitpid(pid, &status, WNOHANG) == pid;
        if (!seen && !finished) usleep(100);
    }
    if (!finished) {
        kill(pid, SIGKILL);
        wait_child(pid, 10, "random kill");
    }
    printf("large write: %s\n", finished ? "finished before the kill (new file checked)"
                                         : "killed while its temporary file existed");
    check_intact(path, doc, 1, "killed at a random point");
    free(text);
    free(path);
    cJSON_Delete(doc);
}

static void test_live_info(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddArrayToObject(doc, "entries");
    char *path = tb_results_write(doc, tmp, "model");
    CHECK(path != NULL, "write with live info failed");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    const cJSON *slug = cJSON_GetObjectItemCaseSensitive(info, "cpu_slug");
    CHECK(cJSON_IsString(slug) && contains(path, slug->valuestring), "path %s",
          path ? path : "NULL");
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "sources")), "no sources");
    char err[512] = "";
    cJSON *back = path ? tb_results_read(path, err, sizeof err) : NULL;
    CHECK(back && cJSON_Compare(doc, back, 1), "live round trip: %s", err);
    cJSON_Delete(back);
    cJSON_Delete(doc);
    free(path);
}

int main(void)
{
    tmp = temp_dir("results");
    test_round_trip();
    test_bad_calls();
    test_read_errors();
    const char *emulated = getenv("TB_EMULATED");
    if (emulated && *emulated == '1')
        test_crash_emulated();
    else
        test_crash();
    test_live_info();
    remove_tree(tmp);
    free(tmp);
    if (failures)
        fprintf(stderr, "%d results checks failed\n", failures);
    else
        printf("results tests passed\n");
    return failures ? 1 : 0;
}
