#include "report_internal.h"
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
static const field_spec perplexity_result[] = {
    {"kernel", 'S'},          {"perplexity", 'N'},        {"perplexity_stderr", 'N'},
    {"kl_vs_reference", 'N'}, {"top1_vs_reference", 'N'}, {"reference", 'S'}};

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
    if (strcmp(kind, "perplexity") == 0)
        return check_list(path, doc, "results", perplexity_result, TB_COUNT_OF(perplexity_result),
                          NULL, 0, err);
    return tb_fail(err,
                   "%s: field 'kind' is \"%.40s\", expected kernels, model, accuracy or perplexity",
                   path, kind);
}

// Appends every document of part to set (which takes them over); part is left empty.
static void take_all(tb_result_set *set, tb_result_set *part)
{
    tb_result_file *grown =
        realloc(set->files, sizeof *grown * (size_t)(set->nfiles + part->nfiles));
    if (!grown) abort();
    set->files = grown;
    memcpy(set->files + set->nfiles, part->files, sizeof *grown * (size_t)part->nfiles);
    set->nfiles += part->nfiles;
    free(part->files);
    part->files = NULL, part->nfiles = 0;
    if (part->nskipped) {
        char **skipped =
            realloc(set->skipped, sizeof *skipped * (size_t)(set->nskipped + part->nskipped));
        if (!skipped) abort();
        set->skipped = skipped;
        memcpy(set->skipped + set->nskipped, part->skipped,
               sizeof *skipped * (size_t)part->nskipped);
        set->nskipped += part->nskipped;
    }
    free(part->skipped);
    part->skipped = NULL, part->nskipped = 0;
}

int tb_result_set_load(tb_result_set *set, const char *const *paths, int npaths, tb_error *err)
{
    for (int i = 0; i < npaths; i++) {
        tb_result_set part;
        // A damaged document in a folder is skipped, named in the report: one bad file does not
        // cost the report of the others (compare, which gives verdicts, refuses it instead).
        int rc = tb_result_set_read(paths[i], TB_SET_SKIP_DAMAGED, &part, err);
        for (int f = 0; f < part.nfiles && !rc; f++)
            rc = check_doc(part.files[f].path, part.files[f].doc, err);
        if (rc) {
            tb_result_set_free(&part);
            return rc;
        }
        take_all(set, &part);
    }
    return TB_OK;
}
