#include "result_set.h"
#include "atomic_file.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// Appends "PATH: why" to the set's skipped files and says so on stderr: a reader of a whole
// folder leaves such a file out but never silently.
static int note_skipped(tb_result_set *set, const char *path, const char *why, tb_error *err)
{
    size_t len = strlen(path) + strlen(why) + 3;
    char *note = malloc(len);
    char **grown = realloc(set->skipped, sizeof *grown * (size_t)(set->nskipped + 1));
    if (grown) set->skipped = grown;
    if (!note || !grown) return free(note), tb_fail(err, "%s: out of memory", path);
    snprintf(note, len, "%s: %s", path, why);
    set->skipped[set->nskipped++] = note;
    fprintf(stderr, "tritbench: skipped: %s\n", note);
    return TB_OK;
}

// Adds one file's document to the set. In a folder (in_folder) with TB_SET_SKIP_DAMAGED, a file
// that is not valid JSON is noted as skipped instead.
static int add_file(tb_result_set *set, const char *path, int flags, int in_folder, tb_error *err)
{
    int damaged;
    cJSON *doc = tb_results_read_status(path, &damaged, err->msg, sizeof err->msg);
    if (!doc && damaged && in_folder && (flags & TB_SET_SKIP_DAMAGED)) {
        // err->msg names the file: keep only the reason after "PATH: ".
        char why[sizeof err->msg];
        size_t n = strlen(path);
        snprintf(why, sizeof why, "%s",
                 strncmp(err->msg, path, n) == 0 && err->msg[n] == ':' ? err->msg + n + 2
                                                                       : err->msg);
        return note_skipped(set, path, why, err);
    }
    if (!doc) return TB_BAD_INPUT;
    tb_result_file *grown = realloc(set->files, sizeof *grown * (size_t)(set->nfiles + 1));
    char *copy = strdup(path);
    if (!grown || !copy) {
        if (grown) set->files = grown;
        free(copy);
        cJSON_Delete(doc);
        return tb_fail(err, "%s: out of memory", path);
    }
    set->files = grown;
    set->files[set->nfiles++] = (tb_result_file){copy, doc};
    return TB_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// The entry names of a folder but "." and "..", malloc'd and sorted; NULL on error (err set).
static char **list_folder(const char *path, int *n, tb_error *err)
{
    DIR *d = opendir(path);
    if (!d) return tb_fail(err, "%s: %s", path, strerror(errno)), NULL;
    char **names = NULL;
    struct dirent *de;
    *n = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue; // ".", "..", hidden files and folders
        char **grown = realloc(names, sizeof *names * (size_t)(*n + 1));
        char *name = strdup(de->d_name);
        if (!grown || !name) {
            free(name);
            names = grown ? grown : names;
            for (int i = 0; i < *n; i++) free(names[i]);
            free(names);
            closedir(d);
            return tb_fail(err, "%s: out of memory", path), NULL;
        }
        names = grown;
        names[(*n)++] = name;
    }
    closedir(d);
    if (*n) qsort(names, (size_t)*n, sizeof *names, cmp_names);
    return names ? names : calloc(1, sizeof *names);
}

static int read_tree(tb_result_set *set, const char *path, int depth, int flags, tb_error *err);

// Documents a folder of results holds beside the measurements, which report and compare do not
// read: the machine's tuning (results/<cpu>/tune.json) and stand-alone roofs. Named by the
// caller, such a file is read, and refused for its kind.
static int not_a_measurement(const tb_result_file *f)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f->doc, "kind"));
    return kind && (strcmp(kind, "tune") == 0 || strcmp(kind, "roofs") == 0);
}

// 1 for the temporary file of a result being written, "NAME.json.tmp.XXXXXX" (atomic_file.h).
static int is_result_temporary(const char *name)
{
    const char *infix = strstr(name, TB_TMP_INFIX);
    return infix && infix - name > 5 && strncmp(infix - 5, ".json", 5) == 0;
}

// One entry of a folder: a sub-folder, or a file with a result's name (others are skipped; the
// temporary file of a result with a warning, as a run still writing or one killed leaves it).
static int read_child(tb_result_set *set, const char *path, const char *name, int depth, int flags,
                      tb_error *err)
{
    size_t len = strlen(path) + strlen(name) + 2;
    char *child = malloc(len);
    if (!child) return tb_fail(err, "%s: out of memory", path);
    snprintf(child, len, "%s/%s", path, name);
    struct stat st;
    int rc = TB_OK;
    if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
        rc = read_tree(set, child, depth + 1, flags, err);
    else if (is_result_temporary(name))
        rc = note_skipped(set, child,
                          "a temporary file of an unfinished write (a run still writing, or one "
                          "killed): not a result; delete it when no run is writing here",
                          err);
    else if (tb_results_is_result_name(name)) {
        int before = set->nfiles;
        rc = add_file(set, child, flags, 1, err);
        if (rc == TB_OK && set->nfiles > before &&
            not_a_measurement(&set->files[set->nfiles - 1])) {
            set->nfiles--;
            free(set->files[set->nfiles].path);
            cJSON_Delete(set->files[set->nfiles].doc);
        }
    }
    free(child);
    return rc;
}

// Reads the result documents in a folder, in name order.
static int read_folder(tb_result_set *set, const char *path, int depth, int flags, tb_error *err)
{
    if (depth > TB_RESULT_SET_MAX_DEPTH)
        return tb_fail(err, "%s: more than %d folders deep (a symbolic-link loop?)", path,
                       TB_RESULT_SET_MAX_DEPTH);
    int n, rc = TB_OK;
    char **names = list_folder(path, &n, err);
    if (!names) return TB_BAD_INPUT;
    for (int i = 0; i < n; i++) {
        if (rc == TB_OK) rc = read_child(set, path, names[i], depth, flags, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int read_tree(tb_result_set *set, const char *path, int depth, int flags, tb_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return tb_fail(err, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return read_folder(set, path, depth, flags, err);
    // A file named by the caller is read whatever its name, and never skipped.
    return add_file(set, path, flags, 0, err);
}

int tb_result_set_read(const char *path, int flags, tb_result_set *set, tb_error *err)
{
    *set = (tb_result_set){0};
    int rc = read_tree(set, path, 0, flags, err);
    if (rc == TB_OK && set->nfiles == 0)
        rc = tb_fail(err, "%s: no result documents (*.json) in this folder%s", path,
                     set->nskipped ? " (only skipped files)" : "");
    if (rc != TB_OK) tb_result_set_free(set);
    return rc;
}

void tb_result_set_free(tb_result_set *set)
{
    for (int i = 0; i < set->nfiles; i++) {
        free(set->files[i].path);
        cJSON_Delete(set->files[i].doc);
    }
    for (int i = 0; i < set->nskipped; i++) free(set->skipped[i]);
    free(set->files);
    free(set->skipped);
    *set = (tb_result_set){0};
}

const char *tb_result_kind(const cJSON *doc)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
}

const char *tb_result_cpu_slug(const cJSON *doc)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    const char *slug = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "cpu_slug"));
    return slug ? slug : "";
}

// Fields that say what a document without "point" measured: two documents agreeing on them
// measured the same thing (seeds, rounds and kernel lists may differ; entries are matched one by
// one). A NULL object name: top-level fields (accuracy documents have no "parameters").
static const struct {
    const char *kind, *object;
    const char *fields[6];
} identities[] = {
    {"kernels", "parameters", {"model", "shapes", "m", "threads", "weights", NULL}},
    {"model", "parameters", {"model", "prompt", "tokens", "head", NULL}},
    {"accuracy", NULL, {"model", "seed", "prompt_tokens", "positions", NULL}},
};

// Appends " NAME=VALUE" (VALUE as compact JSON) to id; 0, or -1 when it does not fit.
static int append_field(char *id, size_t len, const char *name, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    size_t used = strlen(id);
    int n = text ? snprintf(id + used, len - used, " %s=%s", name, text) : -1;
    cJSON_free(text);
    return n < 0 || (size_t)n >= len - used ? -1 : 0;
}

// "KIND FIELD=VALUE ...": the identity of a document without "point".
static int identity_id(const tb_result_file *f, const char *kind, char *id, size_t len,
                       tb_error *err)
{
    snprintf(id, len, "%s", kind);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(f->doc, "parameters");
    for (size_t i = 0; i < sizeof identities / sizeof identities[0]; i++) {
        if (strcmp(identities[i].kind, kind) != 0) continue;
        const cJSON *from = identities[i].object ? params : f->doc;
        for (const char *const *name = identities[i].fields; *name; name++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, *name);
            if (v && append_field(id, len, *name, v) != 0)
                return tb_fail(err, "%s: field '%s' is too long for an identity", f->path, *name);
        }
        return TB_OK;
    }
    if (params && append_field(id, len, "parameters", params) != 0)
        return tb_fail(err, "%s: field 'parameters' is too long for an identity", f->path);
    return TB_OK;
}

int tb_result_point_id(const tb_result_file *f, char *id, size_t len, tb_error *err)
{
    const cJSON *point = cJSON_GetObjectItemCaseSensitive(f->doc, "point");
    if (!point) {
        const char *kind = tb_result_kind(f->doc);
        if (!kind) return tb_fail(err, "%s: field 'kind' is missing", f->path);
        return identity_id(f, kind, id, len, err);
    }
    if (!cJSON_IsObject(point)) return tb_fail(err, "%s: field 'point' must be an object", f->path);
    const char *experiment =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(point, "experiment"));
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(point, "key"));
    if (!experiment) return tb_fail(err, "%s: field 'point.experiment' must be a string", f->path);
    if (!key) return tb_fail(err, "%s: field 'point.key' must be a string", f->path);
    int n = snprintf(id, len, "%s:%s", experiment, key);
    if (n < 0 || (size_t)n >= len)
        return tb_fail(err, "%s: field 'point.key' is too long", f->path);
    return TB_OK;
}
