#include "result_set.h"
#include "results.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TB_COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

// A field a document of some kind must carry: name and type ('S' string, 'N' number, 'n' number
// or null, 'A' array, 'O' object).
typedef struct {
    const char *name;
    char type;
} field_spec;

static const field_spec kernels_entry[] = {{"kernel", 'S'}, {"n", 'N'},       {"k", 'N'},
                                           {"m", 'N'},      {"threads", 'N'}, {"weights", 'S'}};
static const field_spec kernels_timed[] = {
    {"gmacs", 'N'}, {"roofline_fraction", 'N'}, {"bits_per_weight", 'N'}, {"median_s", 'N'}};
static const field_spec model_entry[] = {
    {"kernel", 'S'}, {"threads", 'N'}, {"decode_tokens_per_s", 'N'}, {"energy_j_per_token", 'n'}};
static const field_spec accuracy_result[] = {{"kernel", 'S'}, {"status", 'S'}};

static int has_type(const cJSON *v, char type)
{
    switch (type) {
    case 'S':
        return cJSON_IsString(v);
    case 'N':
        return cJSON_IsNumber(v);
    case 'n':
        return cJSON_IsNumber(v) || cJSON_IsNull(v);
    case 'A':
        return cJSON_IsArray(v);
    default:
        return cJSON_IsObject(v);
    }
}

static const char *type_name(char type)
{
    switch (type) {
    case 'S':
        return "a string";
    case 'N':
        return "a number";
    case 'n':
        return "a number or null";
    case 'A':
        return "an array";
    default:
        return "an object";
    }
}

static int check_fields(const char *path, const char *where, const cJSON *obj,
                        const field_spec *spec, int nspec, tb_error *err)
{
    for (int i = 0; i < nspec; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, spec[i].name);
        if (!v) return tb_fail(err, "%s: field '%s%s' is missing", path, where, spec[i].name);
        if (!has_type(v, spec[i].type))
            return tb_fail(err, "%s: field '%s%s' must be %s", path, where, spec[i].name,
                           type_name(spec[i].type));
    }
    return TB_OK;
}

// Every element of doc[list] (which must be a non-empty array) has the fields of spec, and
// the timed fields too unless it carries an "error".
static int check_list(const char *path, const cJSON *doc, const char *list, const field_spec *spec,
                      int nspec, const field_spec *timed, int ntimed, tb_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, list);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return tb_fail(err, "%s: field '%s' must be a non-empty array", path, list);
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        char where[64];
        snprintf(where, sizeof where, "%s[%d].", list, i);
        if (!cJSON_IsObject(e))
            return tb_fail(err, "%s: field '%s[%d]' must be an object", path, list, i);
        if (check_fields(path, where, e, spec, nspec, err)) return TB_BAD_INPUT;
        if (timed && !cJSON_GetObjectItemCaseSensitive(e, "error") &&
            check_fields(path, where, e, timed, ntimed, err))
            return TB_BAD_INPUT;
    }
    return TB_OK;
}

static int check_model(const char *path, const cJSON *doc, tb_error *err)
{
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(doc, "skipped");
    if (skipped)
        return cJSON_IsString(skipped)
                   ? TB_OK
                   : tb_fail(err, "%s: field 'skipped' must be a string (the reason)", path);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(params, "config");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(config, "name")))
        return tb_fail(err, "%s: field 'parameters.config.name' must be a string", path);
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(params, "layer_sampled");
    static const field_spec sampled[] = {{"layers_timed", 'A'}, {"layers", 'N'}};
    if (ls && check_fields(path, "parameters.layer_sampled.", ls, sampled, 2, err))
        return TB_BAD_INPUT;
    const cJSON *point = cJSON_GetObjectItemCaseSensitive(doc, "point");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(point, "layer_sampled")) && !ls)
        return tb_fail(err,
                       "%s: field 'parameters.layer_sampled' is missing, but point.layer_sampled "
                       "is true",
                       path);
    return check_list(path, doc, "entries", model_entry, TB_COUNT_OF(model_entry), NULL, 0, err);
}

static int check_doc(const char *path, const cJSON *doc, tb_error *err)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
    if (!kind) return tb_fail(err, "%s: field 'kind' is missing", path);
    const cJSON *slug =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "info"), "cpu_slug");
    if (!cJSON_IsString(slug) || !slug->valuestring[0])
        return tb_fail(err, "%s: field 'info.cpu_slug' must be a non-empty string", path);
    const cJSON *point = cJSON_GetObjectItemCaseSensitive(doc, "point");
    if (point && !cJSON_IsObject(point))
        return tb_fail(err, "%s: field 'point' must be an object", path);
    if (strcmp(kind, "kernels") == 0)
        return check_list(path, doc, "entries", kernels_entry, TB_COUNT_OF(kernels_entry),
                          kernels_timed, TB_COUNT_OF(kernels_timed), err);
    if (strcmp(kind, "model") == 0) return check_model(path, doc, err);
    if (strcmp(kind, "accuracy") == 0)
        return check_list(path, doc, "results", accuracy_result, TB_COUNT_OF(accuracy_result), NULL,
                          0, err);
    return tb_fail(err, "%s: field 'kind' is \"%.40s\", expected kernels, model or accuracy", path,
                   kind);
}

static int add_file(tb_result_set *set, const char *path, tb_error *err)
{
    cJSON *doc = tb_results_read(path, err->msg, sizeof err->msg);
    if (!doc) return TB_BAD_INPUT;
    if (check_doc(path, doc, err)) {
        cJSON_Delete(doc);
        return TB_BAD_INPUT;
    }
    if (set->n == set->cap) {
        int cap = set->cap ? 2 * set->cap : 16;
        tb_result_doc *d = realloc(set->docs, (size_t)cap * sizeof *d);
        if (!d) return cJSON_Delete(doc), tb_fail(err, "out of memory reading %s", path);
        set->docs = d, set->cap = cap;
    }
    char *copy = strdup(path);
    if (!copy) return cJSON_Delete(doc), tb_fail(err, "out of memory reading %s", path);
    set->docs[set->n++] = (tb_result_doc){copy, doc};
    return TB_OK;
}

static int add_path(tb_result_set *set, const char *path, int top, tb_error *err);

static int add_folder(tb_result_set *set, const char *path, tb_error *err)
{
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) return tb_fail(err, "%s: cannot read the folder", path);
    int rc = TB_OK;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (rc == TB_OK && name[0] != '.') {
            size_t len = strlen(path) + strlen(name) + 2;
            char *child = malloc(len);
            if (!child)
                rc = tb_fail(err, "out of memory reading %s", path);
            else {
                snprintf(child, len, "%s/%s", path, name);
                rc = add_path(set, child, 0, err);
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int add_path(tb_result_set *set, const char *path, int top, tb_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return tb_fail(err, "%s: no such file or folder", path);
    if (S_ISDIR(st.st_mode)) return add_folder(set, path, err);
    const char *base = strrchr(path, '/');
    if (!top && !tb_results_is_result_name(base ? base + 1 : path)) return TB_OK;
    return add_file(set, path, err);
}

int tb_result_set_load(tb_result_set *set, const char *const *paths, int npaths, tb_error *err)
{
    for (int i = 0; i < npaths; i++) {
        int before = set->n;
        if (add_path(set, paths[i], 1, err)) return TB_BAD_INPUT;
        if (set->n == before)
            return tb_fail(err, "%s: no result documents (*.json) in it", paths[i]);
    }
    if (set->n == 0) return tb_fail(err, "no result documents given");
    return TB_OK;
}

void tb_result_set_free(tb_result_set *set)
{
    for (int i = 0; i < set->n; i++) free(set->docs[i].path), cJSON_Delete(set->docs[i].doc);
    free(set->docs);
    *set = (tb_result_set){0};
}

const char *tb_result_cpu(const cJSON *doc)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "cpu_slug"));
}

const char *tb_result_kind(const cJSON *doc)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
}
