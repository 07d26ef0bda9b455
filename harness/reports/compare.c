#include "compare.h"
#include "compare_entries.h"
#include "result_set.h"

#include <stdlib.h>
#include <string.h>

// Room for a point id ("EXPERIMENT:KEY", or a kind and its identifying parameters).
#define POINT_ID_LEN 512

void tb_compare_defaults(tb_compare_params *p)
{
    *p = (tb_compare_params){NULL, NULL, TB_COMPARE_ALPHA, -1};
}

typedef struct {
    char id[POINT_ID_LEN];
    const tb_result_file *f;
    int matched;
} point_ref;

// A document's kind, which compare must know.
static int check_kind(const tb_result_file *f, tb_error *err)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(f->doc, "kind");
    if (!kind) return tb_fail(err, "%s: field 'kind' is missing", f->path);
    if (!tb_compare_known_kind(kind->valuestring))
        return tb_fail(err,
                       "%s: field 'kind' is \"%.40s\", expected kernels, model, accuracy or "
                       "perplexity",
                       f->path, kind->valuestring);
    return TB_OK;
}

// The points of a set, each once.
static point_ref *index_points(const tb_result_set *set, tb_error *err)
{
    point_ref *refs = calloc((size_t)set->nfiles, sizeof *refs);
    if (!refs) return tb_fail(err, "out of memory"), NULL;
    for (int i = 0; i < set->nfiles; i++) {
        refs[i].f = &set->files[i];
        int rc = check_kind(refs[i].f, err);
        if (rc == TB_OK) rc = tb_result_point_id(refs[i].f, refs[i].id, POINT_ID_LEN, err);
        for (int j = 0; j < i && rc == TB_OK; j++)
            if (strcmp(refs[j].id, refs[i].id) == 0)
                rc = tb_fail(err,
                             "%s: field 'point' repeats the point of %s (%s): a set holds one "
                             "run of each point",
                             refs[i].f->path, refs[j].f->path, refs[i].id);
        if (rc != TB_OK) return free(refs), NULL;
    }
    return refs;
}

static point_ref *find_point(point_ref *refs, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(refs[i].id, id) == 0) return &refs[i];
    return NULL;
}

// Compares every point of BASE with its partner in NEW, then lists what has none.
static int match_points(tb_compare_rows *rows, point_ref *b, int nb, point_ref *n, int nn,
                        tb_error *err)
{
    for (int i = 0; i < nb; i++) {
        point_ref *partner = find_point(n, nn, b[i].id);
        if (!partner) {
            tb_compare_unmatched(rows, "base", b[i].id, NULL);
            continue;
        }
        partner->matched = 1;
        const char *bk = tb_result_kind(b[i].f->doc), *nk = tb_result_kind(partner->f->doc);
        if (strcmp(bk, nk) != 0)
            return tb_fail(err, "%s: field 'kind' is \"%s\" but %s has \"%s\" for point %s",
                           partner->f->path, nk, b[i].f->path, bk, b[i].id);
        if (strcmp(tb_result_cpu_slug(b[i].f->doc), tb_result_cpu_slug(partner->f->doc)) != 0)
            rows->cross_cpu = 1;
        if (tb_compare_point(rows, b[i].id, b[i].f, partner->f, err) != TB_OK) return TB_BAD_INPUT;
    }
    for (int j = 0; j < nn; j++)
        if (!n[j].matched) tb_compare_unmatched(rows, "new", n[j].id, NULL);
    return TB_OK;
}

// {path, files, cpu_slugs}: where a set came from.
static cJSON *side_doc(const char *path, const tb_result_set *set)
{
    cJSON *side = cJSON_CreateObject();
    cJSON_AddStringToObject(side, "path", path);
    cJSON_AddNumberToObject(side, "files", set->nfiles);
    cJSON *slugs = cJSON_AddArrayToObject(side, "cpu_slugs");
    for (int i = 0; i < set->nfiles; i++) {
        const char *slug = tb_result_cpu_slug(set->files[i].doc);
        int seen = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, slugs) seen |= strcmp(s->valuestring, slug) == 0;
        if (!seen) cJSON_AddItemToArray(slugs, cJSON_CreateString(slug));
    }
    return side;
}

// Rows of an array whose string field starts with prefix (NULL: whose bool field is true).
static int count_rows(const cJSON *rows, const char *field, const char *prefix)
{
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, field);
        n += prefix ? cJSON_IsString(v) && strncmp(v->valuestring, prefix, strlen(prefix)) == 0
                    : cJSON_IsTrue(v);
    }
    return n;
}

// The summary counts; returns the status: TB_CHECK_FAILED on an accuracy regression or a
// failing slowdown. Across CPUs speed gives ratios only, and only the accuracy checks that hold
// on every CPU (any_cpu: an exact kernel's bit-identical logits, derived bounds) fail.
static int summarize(cJSON *doc, const tb_compare_rows *rows)
{
    cJSON *r;
    if (rows->cross_cpu)
        cJSON_ArrayForEach(r, rows->speed) cJSON_ReplaceItemInObjectCaseSensitive(
            r, "fails", cJSON_CreateFalse()); // no slowdown fails across CPUs
    cJSON *s = cJSON_AddObjectToObject(doc, "summary");
    // Verdicts are counted by their first word: "same (noise)" is a "same".
    static const char *const verdicts[] = {"faster", "slower", "same", "untested"};
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
        cJSON_AddNumberToObject(s, verdicts[i], count_rows(rows->speed, "verdict", verdicts[i]));
    cJSON_AddNumberToObject(s, "too_few_samples", count_rows(rows->speed, "too_few_samples", NULL));
    int failing = count_rows(rows->speed, "fails", NULL);
    int regressions = rows->cross_cpu ? count_rows(rows->accuracy, "any_cpu", NULL)
                                      : cJSON_GetArraySize(rows->accuracy);
    cJSON_AddNumberToObject(s, "failing_slowdowns", failing);
    cJSON_AddNumberToObject(s, "accuracy_regressions", regressions);
    cJSON_AddNumberToObject(s, "unmatched", cJSON_GetArraySize(rows->unmatched));
    int status = (failing && !rows->cross_cpu) || regressions ? TB_CHECK_FAILED : TB_OK;
    cJSON_AddStringToObject(s, "status", status == TB_OK ? "pass" : "fail");
    return status;
}

// The compare document's header and its (empty) row arrays.
static cJSON *start_doc(const tb_compare_params *p, const tb_result_set *base,
                        const tb_result_set *nw, tb_compare_rows *rows)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "compare");
    cJSON_AddItemToObject(doc, "base", side_doc(p->base_path, base));
    cJSON_AddItemToObject(doc, "new", side_doc(p->new_path, nw));
    cJSON_AddNumberToObject(doc, "alpha", p->alpha);
    cJSON_AddNumberToObject(doc, "min_effect", TB_COMPARE_MIN_EFFECT);
    cJSON_AddNumberToObject(doc, "kl_factor", TB_COMPARE_KL_FACTOR);
    if (p->fail_on_slowdown_pct >= 0)
        cJSON_AddNumberToObject(doc, "fail_on_slowdown_pct", p->fail_on_slowdown_pct);
    else
        cJSON_AddNullToObject(doc, "fail_on_slowdown_pct");
    *rows = (tb_compare_rows){p, cJSON_AddArrayToObject(doc, "speed"),
                              cJSON_AddArrayToObject(doc, "accuracy"),
                              cJSON_AddArrayToObject(doc, "unmatched"), 0};
    return doc;
}

static int compare_sets(const tb_compare_params *p, const tb_result_set *base,
                        const tb_result_set *nw, cJSON **doc, tb_error *err)
{
    point_ref *b = index_points(base, err), *n = b ? index_points(nw, err) : NULL;
    tb_compare_rows rows;
    *doc = n ? start_doc(p, base, nw, &rows) : NULL;
    int rc = n ? match_points(&rows, b, base->nfiles, n, nw->nfiles, err) : TB_BAD_INPUT;
    free(b);
    free(n);
    if (rc != TB_OK) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return rc;
    }
    cJSON_AddBoolToObject(*doc, "cross_cpu", rows.cross_cpu);
    if (rows.cross_cpu)
        cJSON_AddStringToObject(*doc, "note",
                                "BASE and NEW come from different CPUs "
                                "(info.cpu_slug): speed gives ratios only; accuracy fails only "
                                "on checks that hold on every CPU (exact kernels' logits, "
                                "derived bounds)");
    return summarize(*doc, &rows);
}

int tb_compare_run(const tb_compare_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (!p->base_path || !p->new_path) return tb_fail(err, "BASE and NEW result sets are needed");
    if (!(p->alpha > 0 && p->alpha < 1)) return tb_fail(err, "--alpha must be in (0, 1)");
    tb_result_set base, nw;
    // A damaged document is refused, not skipped: its point would drop out of the verdict (a
    // point in one set only fails nothing), and --fail-on-slowdown would pass on part of the data.
    if (tb_result_set_read(p->base_path, 0, &base, err) != TB_OK) return TB_BAD_INPUT;
    if (tb_result_set_read(p->new_path, 0, &nw, err) != TB_OK) {
        tb_result_set_free(&base);
        return TB_BAD_INPUT;
    }
    int rc = compare_sets(p, &base, &nw, doc, err);
    tb_result_set_free(&base);
    tb_result_set_free(&nw);
    return rc;
}
