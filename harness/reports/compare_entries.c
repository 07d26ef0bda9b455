#include "compare_entries.h"
#include "significance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Room for an entry's identity ("i2_avx512vnni n=2560 k=6912 m=128 threads=2 cold").
#define KEY_LEN 256

// A speed figure of an entry: its value, its repetitions, and which way is better.
typedef struct {
    const char *label, *value, *samples;
    int lower_is_better;
} metric;

// A field that identifies an entry: strings are shown bare, numbers as name=value.
typedef struct {
    const char *name;
    int is_string;
    // A string field that older documents lack: absent or equal to this, it adds nothing to
    // the key, so an entry matches its counterpart from before the field existed.
    const char *dflt;
} id_field;

// What compare reads of a kind: the list of entries, the fields that identify an entry, and
// its speed figures (none: accuracy results, which have their own checks).
typedef struct {
    const char *kind, *list;
    id_field ids[7];
    metric metrics[2];
} kind_desc;

static const kind_desc kinds[] = {
    {"kernels",
     "entries",
     {{"kernel", 1, NULL},
      {"n", 0, NULL},
      {"k", 0, NULL},
      {"m", 0, NULL},
      {"threads", 0, NULL},
      {"weights", 1, NULL},
      {NULL, 0, NULL}},
     {{"time", "median_s", "round_median_s", 1}, {NULL, NULL, NULL, 0}}},
    {"model",
     "entries",
     {{"kernel", 1, NULL}, {"threads", 0, NULL}, {"head", 1, "f16"}, {NULL, 0, NULL}},
     {{"decode", "decode_tokens_per_s", "decode_tokens_per_s_reps", 0},
      {"prefill", "prefill_tokens_per_s", "prefill_tokens_per_s_reps", 0}}},
    {"accuracy", "results", {{"kernel", 1, NULL}, {NULL, 0, NULL}}, {{NULL, NULL, NULL, 0}}},
    {"perplexity", "results", {{"kernel", 1, NULL}, {NULL, 0, NULL}}, {{NULL, NULL, NULL, 0}}},
};

static const kind_desc *find_kind(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0) return &kinds[i];
    return NULL;
}

int tb_compare_known_kind(const char *kind)
{
    return find_kind(kind) != NULL;
}

// The entries of one document, with their identities.
typedef struct {
    const tb_result_file *f;
    const kind_desc *kd;
    const cJSON **items;
    char (*keys)[KEY_LEN];
    int n;
    const cJSON *roles; // across CPUs: point.kernel_roles, kernels named by their symbol
} entry_list;

static void free_list(entry_list *l)
{
    free(l->items);
    free(l->keys);
}

// Field FIELD of entry i as a number or string, or an error naming "LIST[i].FIELD".
static int field_error(const entry_list *l, int i, const char *field, const char *what,
                       tb_error *err)
{
    return tb_fail(err, "%s: field '%s[%d].%s' %s", l->f->path, l->kd->list, i, field, what);
}

// Builds entry i's identity from its identifying fields, checking their types.
static int entry_key(entry_list *l, int i, tb_error *err)
{
    const cJSON *e = l->items[i];
    char *key = l->keys[i];
    size_t used = 0;
    key[0] = '\0';
    if (!cJSON_IsObject(e))
        return tb_fail(err, "%s: field '%s[%d]' must be an object", l->f->path, l->kd->list, i);
    for (const id_field *f = l->kd->ids; f->name; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, f->name);
        if (f->dflt && (!v || (cJSON_IsString(v) && strcmp(v->valuestring, f->dflt) == 0)))
            continue;
        if (f->is_string ? !cJSON_IsString(v) : !cJSON_IsNumber(v))
            return field_error(l, i, f->name,
                               f->is_string ? "must be a string" : "must be a number", err);
        const char *s = v && cJSON_IsString(v) ? v->valuestring : NULL;
        const cJSON *role = l->roles && strcmp(f->name, "kernel") == 0
                                ? cJSON_GetObjectItemCaseSensitive(l->roles, s)
                                : NULL;
        if (cJSON_IsString(role)) s = role->valuestring; // "best", not this CPU's best kernel
        if (f->is_string)
            used += snprintf(key + used, KEY_LEN - used, "%s%s", used ? " " : "", s);
        else
            used += snprintf(key + used, KEY_LEN - used, " %s=%g", f->name, v->valuedouble);
        if (used >= KEY_LEN) return field_error(l, i, f->name, "is too long", err);
    }
    for (int j = 0; j < i; j++)
        if (strcmp(l->keys[j], key) == 0)
            return tb_fail(err, "%s: field '%s[%d]' repeats %s[%d] (%s)", l->f->path, l->kd->list,
                           i, l->kd->list, j, key);
    return TB_OK;
}

// Reads the entry list of a document ("skipped" points have none).
static int read_list(entry_list *l, const tb_result_file *f, const kind_desc *kd, int by_role,
                     tb_error *err)
{
    *l = (entry_list){f, kd, NULL, NULL, 0, NULL};
    if (by_role)
        l->roles = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(f->doc, "point"), "kernel_roles");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(f->doc, kd->list);
    if (!list && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f->doc, "skipped"))) return TB_OK;
    if (!cJSON_IsArray(list))
        return tb_fail(err, "%s: field '%s' %s", f->path, kd->list,
                       list ? "must be an array" : "is missing");
    int n = cJSON_GetArraySize(list);
    l->items = calloc((size_t)n + 1, sizeof *l->items);
    l->keys = calloc((size_t)n + 1, sizeof *l->keys);
    if (!l->items || !l->keys) return free_list(l), tb_fail(err, "%s: out of memory", f->path);
    const cJSON *e;
    cJSON_ArrayForEach(e, list) l->items[l->n++] = e;
    for (int i = 0; i < n; i++)
        if (entry_key(l, i, err) != TB_OK) return free_list(l), TB_BAD_INPUT;
    return TB_OK;
}

static int find_key(const entry_list *l, const char *key)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0) return i;
    return -1;
}

void tb_compare_unmatched(tb_compare_rows *rows, const char *side, const char *point,
                          const char *entry)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "only_in", side);
    cJSON_AddStringToObject(u, "point", point);
    if (entry) cJSON_AddStringToObject(u, "entry", entry);
    cJSON_AddItemToArray(rows->unmatched, u);
}

// One side's figure of a metric: the value and its repetitions (samples NULL when the document
// has none); value NAN when the entry failed validation and got no time ("error").
typedef struct {
    double value, *samples;
    int n;
} figure;

static int read_figure(const entry_list *l, int i, const metric *m, figure *fig, tb_error *err)
{
    const cJSON *e = l->items[i];
    *fig = (figure){NAN, NULL, 0};
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "error"))) return TB_OK;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, m->value);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))
        return field_error(l, i, m->value, v ? "must be a positive number" : "is missing", err);
    fig->value = v->valuedouble;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, m->samples), *x;
    if (!s) return TB_OK;
    if (!cJSON_IsArray(s)) return field_error(l, i, m->samples, "must be an array", err);
    fig->samples = malloc(sizeof(double) * ((size_t)cJSON_GetArraySize(s) + 1));
    if (!fig->samples) return tb_fail(err, "%s: out of memory", l->f->path);
    cJSON_ArrayForEach(x, s)
    {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
            return field_error(l, i, m->samples, "must hold only numbers", err);
        fig->samples[fig->n++] = x->valuedouble;
    }
    return TB_OK;
}

// The verdict on a speed ratio (NEW speed / BASE speed, > 1 faster) given the test.
static const char *verdict(const tb_compare_params *p, double ratio, const tb_mw_result *mw)
{
    if (mw->p < p->alpha && fabs(ratio - 1) > TB_COMPARE_MIN_EFFECT)
        return ratio > 1 ? "faster" : "slower";
    return "same (noise)";
}

// The test's part of a speed row: p, the smallest p these samples allow, the verdict, and
// whether it is a slowdown that fails the comparison.
static void add_test(cJSON *row, const tb_compare_params *p, double ratio, const figure *b,
                     const figure *n)
{
    tb_mw_result mw;
    if (!b->n || !n->n || tb_mann_whitney(n->samples, n->n, b->samples, b->n, &mw) != 0) {
        cJSON_AddNullToObject(row, "p");
        cJSON_AddStringToObject(row, "verdict",
                                isnan(ratio) ? "untested (no time)" : "untested (no samples)");
        return;
    }
    const char *v = verdict(p, ratio, &mw);
    double slowdown_pct = (1 / ratio - 1) * 100;
    cJSON_AddNumberToObject(row, "p", mw.p);
    cJSON_AddNumberToObject(row, "min_p", mw.min_p);
    cJSON_AddStringToObject(row, "test", mw.method == TB_MW_EXACT ? "exact" : "normal");
    cJSON_AddBoolToObject(row, "too_few_samples", mw.min_p >= p->alpha);
    cJSON_AddStringToObject(row, "verdict", v);
    cJSON_AddBoolToObject(row, "fails",
                          strcmp(v, "slower") == 0 && p->fail_on_slowdown_pct >= 0 &&
                              slowdown_pct > p->fail_on_slowdown_pct);
}

static void add_speed_row(tb_compare_rows *rows, const char *point, const char *entry,
                          const metric *m, const figure *b, const figure *n)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "point", point);
    cJSON_AddStringToObject(row, "entry", entry);
    cJSON_AddStringToObject(row, "metric", m->label);
    cJSON_AddStringToObject(row, "field", m->value);
    cJSON_AddStringToObject(row, "better", m->lower_is_better ? "lower" : "higher");
    double ratio = m->lower_is_better ? b->value / n->value : n->value / b->value;
    // cJSON writes NAN as null: a side without a time has no ratio.
    cJSON_AddNumberToObject(row, "base", b->value);
    cJSON_AddNumberToObject(row, "new", n->value);
    cJSON_AddNumberToObject(row, "ratio", ratio);
    cJSON_AddNumberToObject(row, "base_reps", b->n);
    cJSON_AddNumberToObject(row, "new_reps", n->n);
    add_test(row, rows->p, ratio, b, n);
    cJSON_AddItemToArray(rows->speed, row);
}

// Speed rows of one matched entry pair: one per metric of the kind.
static int speed_rows(tb_compare_rows *rows, const char *point, const entry_list *base, int i,
                      const entry_list *nw, int j, tb_error *err)
{
    for (int k = 0; k < 2 && base->kd->metrics[k].label; k++) {
        const metric *m = &base->kd->metrics[k];
        figure b, n;
        int rc = read_figure(base, i, m, &b, err);
        if (rc == TB_OK)
            rc = read_figure(nw, j, m, &n, err);
        else
            n = (figure){NAN, NULL, 0};
        if (rc == TB_OK) add_speed_row(rows, point, base->keys[i], m, &b, &n);
        free(b.samples);
        free(n.samples);
        if (rc != TB_OK) return rc;
    }
    return TB_OK;
}

// Fields of an accuracy result that compare reads, and their types where present (status
// is required).
static const struct {
    const char *name;
    cJSON_bool (*is)(const cJSON *);
    const char *what;
} accuracy_fields[] = {
    {"status", cJSON_IsString, "must be a string"},
    {"exact", cJSON_IsBool, "must be true or false"},
    {"logits_fnv1a", cJSON_IsString, "must be a string"},
    {"nmse", cJSON_IsNumber, "must be a number"},
    {"nmse_bound", cJSON_IsNumber, "must be a number"},
    {"kl_vs_float", cJSON_IsNumber, "must be a number"},
    {"argmax_tokens", cJSON_IsArray, "must be an array"},
};

static int check_accuracy_fields(const entry_list *l, int i, tb_error *err)
{
    for (size_t k = 0; k < sizeof accuracy_fields / sizeof accuracy_fields[0]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(l->items[i], accuracy_fields[k].name);
        if (!v && k == 0) return field_error(l, i, accuracy_fields[k].name, "is missing", err);
        if (v && !accuracy_fields[k].is(v))
            return field_error(l, i, accuracy_fields[k].name, accuracy_fields[k].what, err);
    }
    return TB_OK;
}

// A regression row. any_cpu: the check holds on every CPU, so it fails a comparison across CPUs
// too: an exact kernel's logits are the same floats everywhere (exact integer dots, the same
// float operations in the same order), and every kernel's NMSE bound and status are derived from
// arithmetic; a float baseline's logits, KL and greedy tokens follow its CPU's float units.
static void add_regression(tb_compare_rows *rows, const char *point, const char *kernel,
                           const char *field, const cJSON *b, const cJSON *n, const char *why,
                           int any_cpu)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddBoolToObject(row, "any_cpu", any_cpu);
    cJSON_AddStringToObject(row, "point", point);
    cJSON_AddStringToObject(row, "kernel", kernel);
    cJSON_AddStringToObject(row, "field", field);
    cJSON_AddItemToObject(row, "base", b ? cJSON_Duplicate(b, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(row, "new", n ? cJSON_Duplicate(n, 1) : cJSON_CreateNull());
    cJSON_AddStringToObject(row, "why", why);
    cJSON_AddItemToArray(rows->accuracy, row);
}

static double num_or_nan(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

// The accuracy checks of one kernel present in both sets.
static void accuracy_checks(tb_compare_rows *rows, const char *point, const char *kernel,
                            const cJSON *b, const cJSON *n)
{
#define F(o, name) cJSON_GetObjectItemCaseSensitive(o, name)
    const char *bs = F(b, "status")->valuestring, *ns = F(n, "status")->valuestring;
    if (strcmp(bs, "PASS") == 0 && strcmp(ns, "FAIL") == 0)
        add_regression(rows, point, kernel, "status", F(b, "status"), F(n, "status"),
                       "PASS became FAIL", 1);
    if (strcmp(bs, "SKIP") == 0 || strcmp(ns, "SKIP") == 0) return; // no figures to compare
    const int exact = cJSON_IsTrue(F(b, "exact"));
    const cJSON *bh = F(b, "logits_fnv1a"), *nh = F(n, "logits_fnv1a");
    // Any change of the logits is a change of the numbers: on the same CPU every kernel is
    // deterministic, across CPUs only the exact ones are.
    if (bh && nh && strcmp(bh->valuestring, nh->valuestring) != 0)
        add_regression(rows, point, kernel, "logits_fnv1a", bh, nh,
                       exact ? "exact kernel: logits no longer bit-identical to BASE's"
                             : "logits changed (float kernel, same CPU)",
                       exact);
    double nmse = num_or_nan(F(n, "nmse")), bound = num_or_nan(F(n, "nmse_bound"));
    double bnmse = num_or_nan(F(b, "nmse")), bbound = num_or_nan(F(b, "nmse_bound"));
    if (nmse > bound && !(bnmse > bbound))
        add_regression(rows, point, kernel, "nmse", F(b, "nmse"), F(n, "nmse"),
                       "nmse above nmse_bound", 1);
    if (num_or_nan(F(n, "kl_vs_float")) > TB_COMPARE_KL_FACTOR * num_or_nan(F(b, "kl_vs_float")))
        add_regression(rows, point, kernel, "kl_vs_float", F(b, "kl_vs_float"), F(n, "kl_vs_float"),
                       "kl_vs_float more than 3x BASE's (TB_COMPARE_KL_FACTOR)", exact);
    const cJSON *bt = F(b, "argmax_tokens"), *nt = F(n, "argmax_tokens");
    if (bt && nt && !cJSON_Compare(bt, nt, 1))
        add_regression(rows, point, kernel, "argmax_tokens", bt, nt, "greedy tokens changed",
                       exact);
#undef F
}

// A row matched by symbol names the two kernels: "kernels": "i2_avx2 -> i2_avx512vnni".
static void kernels_of_row(tb_compare_rows *rows, const entry_list *b, int i, const entry_list *n,
                           int j)
{
    const char *bk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b->items[i], "kernel"));
    const char *nk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(n->items[j], "kernel"));
    if (!bk || !nk || strcmp(bk, nk) == 0) return;
    char both[160];
    snprintf(both, sizeof both, "%s -> %s", bk, nk);
    for (int k = 0; k < 2 && b->kd->metrics[k].label; k++) { // the rows speed_rows just added
        cJSON *row = cJSON_GetArrayItem(rows->speed, cJSON_GetArraySize(rows->speed) - 1 - k);
        if (row) cJSON_AddStringToObject(row, "kernels", both);
    }
}

// The checks of one kernel's perplexity in both sets: an exact kernel computes the same logits
// on every CPU and revision, so its perplexity is the same double; any kernel's KL against the
// reference may not grow beyond TB_COMPARE_KL_FACTOR x BASE's (compare.h says why).
static void perplexity_checks(tb_compare_rows *rows, const char *point, const char *kernel,
                              const cJSON *b, const cJSON *n)
{
#define F(o, name) cJSON_GetObjectItemCaseSensitive(o, name)
    int exact = cJSON_IsTrue(F(b, "exact"));
    double bp = num_or_nan(F(b, "perplexity")), np = num_or_nan(F(n, "perplexity"));
    if (exact && bp != np)
        add_regression(rows, point, kernel, "perplexity", F(b, "perplexity"), F(n, "perplexity"),
                       "exact kernel: perplexity no longer bit-identical to BASE's", 1);
    if (num_or_nan(F(n, "kl_vs_reference")) >
        TB_COMPARE_KL_FACTOR * num_or_nan(F(b, "kl_vs_reference")))
        add_regression(rows, point, kernel, "kl_vs_reference", F(b, "kl_vs_reference"),
                       F(n, "kl_vs_reference"),
                       "kl_vs_reference more than 3x BASE's (TB_COMPARE_KL_FACTOR)", exact);
#undef F
}

int tb_compare_point(tb_compare_rows *rows, const char *point, const tb_result_file *base,
                     const tb_result_file *new_file, tb_error *err)
{
    const kind_desc *kd = find_kind(tb_result_kind(base->doc));
    // Across CPUs a symbol of the experiment (best, fp16, i2, ...) is another kernel on each:
    // entries are matched by symbol, so the best of one CPU is set against the best of the
    // other. On one CPU by kernel, so a change of dispatch never hides behind a symbol.
    int by_role = strcmp(tb_result_cpu_slug(base->doc), tb_result_cpu_slug(new_file->doc)) != 0;
    entry_list b, n;
    if (read_list(&b, base, kd, by_role, err) != TB_OK) return TB_BAD_INPUT;
    if (read_list(&n, new_file, kd, by_role, err) != TB_OK) return free_list(&b), TB_BAD_INPUT;
    int rc = TB_OK, accuracy = kd->metrics[0].label == NULL;
    for (int i = 0; i < b.n && rc == TB_OK; i++) {
        int j = find_key(&n, b.keys[i]);
        if (j < 0) {
            tb_compare_unmatched(rows, "base", point, b.keys[i]);
        } else if (!accuracy) {
            if ((rc = speed_rows(rows, point, &b, i, &n, j, err)) == TB_OK)
                kernels_of_row(rows, &b, i, &n, j);
        } else if (strcmp(kd->kind, "perplexity") == 0) {
            perplexity_checks(rows, point, b.keys[i], b.items[i], n.items[j]);
        } else if ((rc = check_accuracy_fields(&b, i, err)) == TB_OK &&
                   (rc = check_accuracy_fields(&n, j, err)) == TB_OK) {
            accuracy_checks(rows, point, b.keys[i], b.items[i], n.items[j]);
        }
    }
    for (int j = 0; j < n.n && rc == TB_OK; j++)
        if (find_key(&b, n.keys[j]) < 0) tb_compare_unmatched(rows, "new", point, n.keys[j]);
    free_list(&b);
    free_list(&n);
    return rc;
}
