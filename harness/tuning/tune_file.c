// Tune files read back, checked, matched to this CPU and turned into the engine's kernels.
#include "tune_file.h"
#include "info.h"
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// Largest thread count a tune file may name.
#define MAX_THREADS 4096
// Room for a field's name in a message ("regimes[12].kernels[3].layer_s").
#define FIELD_BYTES 96

void tb_tune_regime_name(int m, int cold, char *buf, size_t len)
{
    if (m == 1)
        snprintf(buf, len, "gemv_%s", cold ? "cold" : "hot");
    else
        snprintf(buf, len, "gemm_m%d", m);
}

// ---------------------------------------------------------------------------------------------
// Checking: every problem is reported as "PATH: field 'NAME': what is wrong".

typedef struct {
    const char *path;
    char *err;
    size_t len;
} checker;

static int bad(checker *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(checker *c, const char *field, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->len, "%s: field '%s' %s", c->path, field, what);
    return -1;
}

// A field name too long for its buffer ends in "..." (it still names the place).
static void mark_cut(char *out, int written)
{
    if (written >= FIELD_BYTES) memcpy(out + FIELD_BYTES - 4, "...", 4);
}

// "parent.key" (or "key" at the top).
static void member(char *out, const char *parent, const char *key)
{
    mark_cut(out, snprintf(out, FIELD_BYTES, "%s%s%s", parent, parent[0] ? "." : "", key));
}

static void element(char *out, const char *parent, int i)
{
    mark_cut(out, snprintf(out, FIELD_BYTES, "%s[%d]", parent, i));
}

// The value of o[key], which must be present and pass is(); NULL after reporting.
static const cJSON *need(checker *c, const cJSON *o, const char *parent, const char *key,
                         cJSON_bool (*is)(const cJSON *), const char *what)
{
    char f[FIELD_BYTES];
    member(f, parent, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return bad(c, f, "is missing"), NULL;
    if (!is(v)) return bad(c, f, "must be %s", what), NULL;
    return v;
}

// o[key] as a whole number in [lo, hi]; -1 after reporting.
static int need_int(checker *c, const cJSON *o, const char *parent, const char *key, int lo, int hi,
                    int *out)
{
    char f[FIELD_BYTES];
    member(f, parent, key);
    const cJSON *v = need(c, o, parent, key, cJSON_IsNumber, "a number");
    if (!v) return -1;
    double d = v->valuedouble;
    if (d != floor(d) || d < lo || d > hi)
        return bad(c, f, "is %g, expected a whole number in [%d, %d]", d, lo, hi);
    *out = (int)d;
    return 0;
}

// o[key] as the name of a kernel built here; NULL after reporting.
static const tb_kernel *need_kernel(checker *c, const cJSON *o, const char *parent, const char *key)
{
    char f[FIELD_BYTES];
    member(f, parent, key);
    const cJSON *v = need(c, o, parent, key, cJSON_IsString, "a kernel name");
    if (!v) return NULL;
    const tb_kernel *kn = tb_kernel_find(v->valuestring);
    if (!kn) return bad(c, f, "is \"%.40s\": no kernel of that name here", v->valuestring), NULL;
    return kn;
}

static cJSON_bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v);
}

static int check_fingerprint(checker *c, const cJSON *doc, cJSON **out)
{
    const cJSON *fp = need(c, doc, "", "fingerprint", cJSON_IsObject, "an object");
    if (!fp) return -1;
    static const char *const strings[] = {"cpu_slug", "model_name", "arch", "isa"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!need(c, fp, "fingerprint", strings[i], cJSON_IsString, "a string")) return -1;
    int v;
    if (need_int(c, fp, "fingerprint", "isa_mask", 0, 0x7fffffff, &v) ||
        need_int(c, fp, "fingerprint", "logical_cpus", 1, 1 << 20, &v))
        return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, fp)
    {
        char f[FIELD_BYTES];
        member(f, "fingerprint", e->string);
        if (!is_scalar(e)) return bad(c, f, "must be a string or a number");
    }
    *out = cJSON_Duplicate(fp, 1);
    return 0;
}

static int check_parameters(checker *c, const cJSON *doc)
{
    const cJSON *par = need(c, doc, "", "parameters", cJSON_IsObject, "an object");
    if (!par || !need(c, par, "parameters", "model", cJSON_IsString, "a string") ||
        !need(c, par, "parameters", "block_ms", cJSON_IsNumber, "a number") ||
        !need(c, par, "parameters", "seed", cJSON_IsNumber, "a number"))
        return -1;
    int v;
    if (need_int(c, par, "parameters", "rounds", 1, 1000000, &v)) return -1;
    const cJSON *list = need(c, par, "parameters", "kernels", cJSON_IsArray, "an array of names");
    if (!list) return -1;
    for (int i = 0; i < cJSON_GetArraySize(list); i++) {
        char f[FIELD_BYTES];
        element(f, "parameters.kernels", i);
        const cJSON *k = cJSON_GetArrayItem(list, i);
        if (!cJSON_IsString(k)) return bad(c, f, "must be a kernel name");
        if (!tb_kernel_find(k->valuestring))
            return bad(c, f, "is \"%.40s\": no kernel of that name here", k->valuestring);
    }
    static const char *const int_lists[] = {"threads", "m"};
    for (size_t l = 0; l < 2; l++) {
        char f[FIELD_BYTES];
        member(f, "parameters", int_lists[l]);
        const cJSON *a = need(c, par, "parameters", int_lists[l], cJSON_IsArray, "an array");
        if (!a) return -1;
        for (int i = 0; i < cJSON_GetArraySize(a); i++) {
            const cJSON *x = cJSON_GetArrayItem(a, i);
            if (!cJSON_IsNumber(x) || x->valuedouble < 1 || x->valuedouble != floor(x->valuedouble))
                return bad(c, f, "must hold whole numbers >= 1");
        }
    }
    const cJSON *shapes = need(c, par, "parameters", "shapes", cJSON_IsArray, "an array");
    if (!shapes) return -1;
    for (int i = 0; i < cJSON_GetArraySize(shapes); i++) {
        char f[FIELD_BYTES];
        element(f, "parameters.shapes", i);
        const cJSON *s = cJSON_GetArrayItem(shapes, i);
        int ok = cJSON_IsArray(s) && cJSON_GetArraySize(s) == 3;
        for (int j = 0; ok && j < 3; j++)
            ok = cJSON_IsNumber(cJSON_GetArrayItem(s, j)) &&
                 cJSON_GetArrayItem(s, j)->valuedouble >= 1;
        if (!ok) return bad(c, f, "must be [n, k, count] with every value >= 1");
    }
    return 0;
}

// One entry of a regime's kernel list: {kernel, format, layer_s} with layer_s a positive
// number, or null beside a reason.
static int check_time(checker *c, const cJSON *e, const char *f, tb_tune_time *t)
{
    char g[FIELD_BYTES];
    if (!cJSON_IsObject(e)) return bad(c, f, "must be an object");
    if (!(t->kernel = need_kernel(c, e, f, "kernel"))) return -1;
    const cJSON *fmt = need(c, e, f, "format", cJSON_IsString, "a string");
    if (!fmt) return -1;
    member(g, f, "format");
    if (strcmp(fmt->valuestring, tb_kernel_format(t->kernel)) != 0)
        return bad(c, g, "is \"%.20s\" but %s has format \"%s\" here", fmt->valuestring,
                   t->kernel->name, tb_kernel_format(t->kernel));
    if (t->kernel->baseline != TB_FLOAT_NONE)
        return bad(c, f, "names %s, a %s, not a ternary kernel", t->kernel->name,
                   tb_float_format_is_baseline(t->kernel->baseline)
                       ? "float baseline"
                       : "kernel for quantized float matrices");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "layer_s");
    member(g, f, "layer_s");
    if (cJSON_IsNull(s)) {
        t->layer_s = -1;
        return need(c, e, f, "reason", cJSON_IsString, "a string (why it was not timed)") ? 0 : -1;
    }
    if (!cJSON_IsNumber(s) || !(s->valuedouble > 0) || !isfinite(s->valuedouble))
        return bad(c, g, "must be a positive number of seconds, or null");
    t->layer_s = s->valuedouble;
    return 0;
}

// The fastest timed kernel of the list with format fmt (NULL: any); NULL if none was timed.
static const tb_kernel *fastest(const tb_tune_regime *r, const char *fmt)
{
    const tb_tune_time *best = NULL;
    for (int i = 0; i < r->ntimes; i++) {
        const tb_tune_time *t = &r->times[i];
        if (t->layer_s < 0 || (fmt && strcmp(tb_kernel_format(t->kernel), fmt) != 0)) continue;
        if (!best || t->layer_s < best->layer_s) best = t;
    }
    return best ? best->kernel : NULL;
}

static double time_of(const tb_tune_regime *r, const tb_kernel *kn)
{
    for (int i = 0; i < r->ntimes; i++)
        if (r->times[i].kernel == kn) return r->times[i].layer_s;
    return -1;
}

// A choice must be a timed kernel of the list no slower than the fastest (ties allowed).
static int check_choice(checker *c, const tb_tune_regime *r, const char *f, const tb_kernel *kn,
                        const char *fmt)
{
    double t = time_of(r, kn);
    const tb_kernel *want = fastest(r, fmt);
    if (t < 0) return bad(c, f, "is %s, which has no layer time in this regime", kn->name);
    if (t > time_of(r, want))
        return bad(c, f, "is %s (%.4g s) but %s is faster (%.4g s)", kn->name, t, want->name,
                   time_of(r, want));
    return 0;
}

static int check_best_by_format(checker *c, const cJSON *e, const char *parent, tb_tune_regime *r)
{
    char f[FIELD_BYTES], g[FIELD_BYTES];
    member(f, parent, "best_by_format");
    const cJSON *bf = need(c, e, parent, "best_by_format", cJSON_IsObject, "an object");
    if (!bf) return -1;
    const cJSON *m;
    cJSON_ArrayForEach(m, bf)
    {
        const tb_kernel *kn = need_kernel(c, bf, f, m->string);
        member(g, f, m->string);
        if (!kn) return -1;
        if (strcmp(tb_kernel_format(kn), m->string) != 0)
            return bad(c, g, "is %s, of format \"%s\"", kn->name, tb_kernel_format(kn));
        if (check_choice(c, r, g, kn, m->string)) return -1;
        if (r->nformats == TB_TUNE_KERNELS) return bad(c, f, "has too many members");
        r->format_best[r->nformats++] = kn;
    }
    // Every format with a timed kernel has its choice.
    for (int i = 0; i < r->ntimes; i++) {
        const char *fmt = tb_kernel_format(r->times[i].kernel);
        if (r->times[i].layer_s >= 0 && !cJSON_GetObjectItemCaseSensitive(bf, fmt))
            return bad(c, f, "has no choice for format \"%s\", which %s was timed in", fmt,
                       r->times[i].kernel->name);
    }
    return 0;
}

static int check_regime(checker *c, const cJSON *e, int index, tb_tune_regime *r)
{
    char p[FIELD_BYTES], f[FIELD_BYTES];
    element(p, "regimes", index);
    if (!cJSON_IsObject(e)) return bad(c, p, "must be an object");
    const cJSON *name = need(c, e, p, "regime", cJSON_IsString, "a string");
    const cJSON *w = name ? need(c, e, p, "weights", cJSON_IsString, "\"hot\" or \"cold\"") : NULL;
    if (!w || need_int(c, e, p, "m", 1, 1 << 20, &r->m) ||
        need_int(c, e, p, "threads", 1, MAX_THREADS, &r->threads))
        return -1;
    member(f, p, "weights");
    if (strcmp(w->valuestring, "hot") != 0 && strcmp(w->valuestring, "cold") != 0)
        return bad(c, f, "is \"%.20s\", expected \"hot\" or \"cold\"", w->valuestring);
    r->cold = strcmp(w->valuestring, "cold") == 0;
    tb_tune_regime_name(r->m, r->cold, r->name, sizeof r->name);
    if (r->cold && r->m != 1)
        return bad(c, f, "is \"cold\" with m %d: only GEMV (m = 1) is timed cold", r->m);
    member(f, p, "regime");
    if (strcmp(name->valuestring, r->name) != 0)
        return bad(c, f, "is \"%.30s\" but m %d with %s weights is \"%s\"", name->valuestring, r->m,
                   w->valuestring, r->name);
    const cJSON *list = need(c, e, p, "kernels", cJSON_IsArray, "an array");
    if (!list) return -1;
    member(f, p, "kernels");
    if (cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > TB_TUNE_KERNELS)
        return bad(c, f, "must list 1 to %d kernels", TB_TUNE_KERNELS);
    for (int i = 0; i < cJSON_GetArraySize(list); i++) {
        char g[FIELD_BYTES];
        member(f, p, "kernels");
        element(g, f, i);
        if (check_time(c, cJSON_GetArrayItem(list, i), g, &r->times[r->ntimes])) return -1;
        for (int j = 0; j < r->ntimes; j++)
            if (r->times[j].kernel == r->times[r->ntimes].kernel)
                return bad(c, g, "lists %s a second time", r->times[j].kernel->name);
        r->ntimes++;
    }
    member(f, p, "best");
    if (!fastest(r, NULL)) return bad(c, f, "cannot be: no kernel of this regime was timed");
    if (!(r->best = need_kernel(c, e, p, "best")) || check_choice(c, r, f, r->best, NULL))
        return -1;
    return check_best_by_format(c, e, p, r);
}

static int check_regimes(checker *c, const cJSON *doc, tb_tune *t)
{
    const cJSON *list = need(c, doc, "", "regimes", cJSON_IsArray, "an array");
    if (!list) return -1;
    int n = cJSON_GetArraySize(list);
    if (n < 1) return bad(c, "regimes", "is empty");
    t->regimes = calloc((size_t)n, sizeof *t->regimes);
    if (!t->regimes) return bad(c, "regimes", "does not fit in memory");
    for (int i = 0; i < n; i++) {
        tb_tune_regime *r = &t->regimes[i];
        if (check_regime(c, cJSON_GetArrayItem(list, i), i, r)) return -1;
        t->nregimes++;
        for (int j = 0; j < i; j++)
            if (t->regimes[j].m == r->m && t->regimes[j].cold == r->cold &&
                t->regimes[j].threads == r->threads) {
                char f[FIELD_BYTES];
                element(f, "regimes", i);
                return bad(c, f, "repeats %s at %d threads (regimes[%d])", r->name, r->threads, j);
            }
    }
    return 0;
}

// One sweep of driver.threads[i] (tune.h): candidates with values in [lo, hi] and positive
// times, a default and a choice among them (the choice is the default or the fastest); the
// choice into *choice.
static int check_sweep(checker *c, const cJSON *e, const char *parent, const char *key, int lo,
                       int hi, int *choice)
{
    char p[FIELD_BYTES], f[FIELD_BYTES];
    member(p, parent, key);
    const cJSON *sw = need(c, e, parent, key, cJSON_IsObject, "an object"), *cands;
    int dflt, fastest, v;
    if (!sw || need_int(c, sw, p, "default", lo, hi, &dflt) ||
        need_int(c, sw, p, "fastest", lo, hi, &fastest) ||
        need_int(c, sw, p, "choice", lo, hi, choice) ||
        !(cands = need(c, sw, p, "candidates", cJSON_IsArray, "an array")))
        return -1;
    int has_default = 0, has_fastest = 0;
    for (int j = 0; j < cJSON_GetArraySize(cands); j++) {
        char g[FIELD_BYTES];
        member(f, p, "candidates");
        element(g, f, j);
        const cJSON *x = cJSON_GetArrayItem(cands, j);
        if (!cJSON_IsObject(x)) return bad(c, g, "must be an object");
        if (need_int(c, x, g, "value", lo, hi, &v)) return -1;
        if (!(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "layer_s")) > 0))
            return bad(c, g, "needs a positive layer_s");
        has_default |= v == dflt, has_fastest |= v == fastest;
    }
    member(f, p, has_default ? "fastest" : "default");
    if (!has_default || !has_fastest) return bad(c, f, "is not one of the candidates");
    member(f, p, "choice");
    if (*choice != dflt && *choice != fastest)
        return bad(c, f, "is %d, neither the default (%d) nor the fastest (%d)", *choice, dflt,
                   fastest);
    return 0;
}

// driver (optional): the decode path's runtime parameters per thread count (tune.h).
static int check_driver(checker *c, const cJSON *doc, tb_tune *t)
{
    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(doc, "driver");
    if (!dr) return 0;
    int v;
    if (!cJSON_IsObject(dr)) return bad(c, "driver", "must be an object");
    const cJSON *def = need(c, dr, "driver", "defaults", cJSON_IsObject, "an object");
    const cJSON *per = need(c, dr, "driver", "threads", cJSON_IsArray, "an array");
    int guided;
    if (!def || !per || need_int(c, def, "driver.defaults", "guided_div", 1, 1 << 20, &guided))
        return -1;
    t->drivers = calloc((size_t)cJSON_GetArraySize(per) + 1, sizeof *t->drivers);
    if (!t->drivers) abort();
    for (int i = 0; i < cJSON_GetArraySize(per); i++) {
        char p[FIELD_BYTES], f[FIELD_BYTES];
        element(p, "driver.threads", i);
        const cJSON *e = cJSON_GetArrayItem(per, i), *ch;
        tb_tune_driver_choice *d = &t->drivers[i];
        int pf, cw;
        if (!cJSON_IsObject(e)) return bad(c, p, "must be an object");
        if (need_int(c, e, p, "threads", 1, MAX_THREADS, &d->threads) ||
            !(d->kernel = need_kernel(c, e, p, "kernel")) ||
            check_sweep(c, e, p, "prefetch_bytes", 0, TB_PREFETCH_MAX, &pf) ||
            check_sweep(c, e, p, "chunk_work", 1, 1 << 30, &cw) ||
            !(ch = need(c, e, p, "choice", cJSON_IsObject, "an object")))
            return -1;
        member(f, p, "choice");
        if (need_int(c, ch, f, "prefetch_bytes", 0, TB_PREFETCH_MAX, &v)) return -1;
        if (v != pf) return bad(c, f, "prefetch_bytes %d is not its sweep's choice (%d)", v, pf);
        if (need_int(c, ch, f, "chunk_work", 1, 1 << 30, &v)) return -1;
        if (v != cw) return bad(c, f, "chunk_work %d is not its sweep's choice (%d)", v, cw);
        for (int j = 0; j < i; j++)
            if (t->drivers[j].threads == d->threads)
                return bad(c, p, "repeats %d threads (driver.threads[%d])", d->threads, j);
        d->params = (tb_driver_params){pf, cw, guided};
        t->ndrivers++;
    }
    return 0;
}

int tb_tune_load(const char *path, tb_tune *t, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    cJSON *doc = tb_results_read(path, err, err_len);
    if (!doc) return -1;
    checker c = {path, err, err_len};
    const cJSON *kind = need(&c, doc, "", "kind", cJSON_IsString, "a string"), *tb = NULL;
    int rc = -1;
    if (kind && strcmp(kind->valuestring, TB_TUNE_KIND) != 0)
        bad(&c, "kind", "is \"%.40s\", expected \"%s\" (not a tune file)", kind->valuestring,
            TB_TUNE_KIND);
    else if (kind && (tb = need(&c, doc, "", "tritbench", cJSON_IsObject, "an object")) &&
             need(&c, tb, "tritbench", "git_revision", cJSON_IsString, "a string"))
        rc = check_fingerprint(&c, doc, &t->fingerprint) || check_parameters(&c, doc) ||
                     check_regimes(&c, doc, t) || check_driver(&c, doc, t)
                 ? -1
                 : 0;
    cJSON_Delete(doc);
    if (rc) tb_tune_free(t);
    return rc;
}

void tb_tune_free(tb_tune *t)
{
    free(t->regimes);
    free(t->drivers);
    cJSON_Delete(t->fingerprint);
    memset(t, 0, sizeof *t);
}

// ---------------------------------------------------------------------------------------------
// Fingerprint

cJSON *tb_tune_fingerprint(const cJSON *info)
{
    cJSON *own = info ? NULL : tb_info_collect(NULL, NULL);
    if (!info) info = own;
    cJSON *fp = cJSON_CreateObject();
    static const char *const copied[] = {"cpu_slug", "model_name",  "arch", "vendor",      "family",
                                         "model",    "implementer", "part", "logical_cpus"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, copied[i]);
        if (is_scalar(v)) cJSON_AddItemToObject(fp, copied[i], cJSON_Duplicate(v, 0));
    }
    // The raw features: TRITBENCH_DISABLE hides features from dispatch, not from the CPU.
    char names[256];
    tb_isa_names(tb_cpu_features_raw(), names, sizeof names);
    cJSON_AddNumberToObject(fp, "isa_mask", tb_cpu_features_raw());
    cJSON_AddStringToObject(fp, "isa", names);
    cJSON_Delete(own);
    return fp;
}

static void shown(const cJSON *v, char *buf, size_t len)
{
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, len, "%.80s", text ? text : "absent");
    cJSON_free(text);
}

// The first field of a that b lacks or holds otherwise; 1 if there is none.
static int same_fields(const cJSON *a, const cJSON *b, const char *a_is, const char *b_is,
                       char *why, size_t len)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, e->string);
        if (o && cJSON_Compare(e, o, 1)) continue;
        char x[100], y[100];
        shown(e, x, sizeof x), shown(o, y, sizeof y);
        snprintf(why, len, "fingerprint field '%s' is %s %s, %s %s", e->string, x, a_is, y, b_is);
        return 0;
    }
    return 1;
}

int tb_tune_matches(const cJSON *f, char *why, size_t len)
{
    cJSON *here = tb_tune_fingerprint(NULL);
    int ok = same_fields(f, here, "there", "here", why, len) &&
             same_fields(here, f, "here", "there", why, len);
    cJSON_Delete(here);
    return ok;
}

// ---------------------------------------------------------------------------------------------
// The engine's kernels

static const tb_tune_regime *find_regime(const tb_tune *t, int m, int cold, int threads)
{
    for (int i = 0; i < t->nregimes; i++) {
        const tb_tune_regime *r = &t->regimes[i];
        if (r->m == m && r->cold == cold && r->threads == threads) return r;
    }
    return NULL;
}

static int nearest_threads(const tb_tune *t, int threads)
{
    int best = t->regimes[0].threads;
    for (int i = 1; i < t->nregimes; i++) {
        int c = t->regimes[i].threads, d = abs(c - threads), bd = abs(best - threads);
        if (d < bd || (d == bd && c < best)) best = c;
    }
    return best;
}

static const tb_kernel *format_choice(const tb_tune_regime *r, const char *fmt)
{
    for (int i = 0; i < r->nformats; i++)
        if (strcmp(tb_kernel_format(r->format_best[i]), fmt) == 0) return r->format_best[i];
    return NULL;
}

// The GEMM regime at `threads` nearest to a prefill of `prompt` rows (on a log scale) that timed
// a kernel of format fmt; NULL if none.
static const tb_tune_regime *prefill_regime(const tb_tune *t, int threads, int prompt,
                                            const char *fmt)
{
    const tb_tune_regime *best = NULL;
    double want = log(prompt > 1 ? prompt : 2), bd = 0;
    for (int i = 0; i < t->nregimes; i++) {
        const tb_tune_regime *r = &t->regimes[i];
        if (r->m == 1 || r->threads != threads || !format_choice(r, fmt)) continue;
        double d = fabs(log(r->m) - want);
        if (!best || d < bd || (d == bd && r->m > best->m)) best = r, bd = d;
    }
    return best;
}

int tb_tune_pick_engine(const tb_tune *t, int threads, int prompt, tb_tune_pick *pick, char *why,
                        size_t len)
{
    memset(pick, 0, sizeof *pick);
    pick->threads = nearest_threads(t, threads);
    const tb_tune_regime *dr = find_regime(t, 1, 1, pick->threads);
    if (!dr) dr = find_regime(t, 1, 0, pick->threads);
    char whynot[200];
    if (!dr) return snprintf(why, len, "no GEMV regime tuned at %d threads", pick->threads), -1;
    if (!tb_kernel_supported(dr->best, whynot, sizeof whynot))
        return snprintf(why, len, "tuned decode kernel %s cannot run: %s", dr->best->name, whynot),
               -1;
    pick->decode = pick->prefill = dr->best;
    const tb_tune_regime *pr = prefill_regime(t, pick->threads, prompt, tb_kernel_format(dr->best));
    char prefill_from[80] = "no GEMM regime: prefill on the decode kernel";
    if (pr && tb_kernel_supported(format_choice(pr, tb_kernel_format(dr->best)), NULL, 0)) {
        pick->prefill = format_choice(pr, tb_kernel_format(dr->best));
        snprintf(prefill_from, sizeof prefill_from, "%s", pr->name);
    }
    char nearest[80] = "";
    if (pick->threads != threads)
        snprintf(nearest, sizeof nearest, " (%d threads not tuned: the nearest)", threads);
    snprintf(pick->note, sizeof pick->note, "%s and %s at %d thread%s%s", dr->name, prefill_from,
             pick->threads, pick->threads > 1 ? "s" : "", nearest);
    return 0;
}

int tb_tune_pick_driver(const tb_tune *t, const tb_kernel *kn, int threads, tb_driver_params *p,
                        char *why, size_t len)
{
    for (int i = 0; i < t->ndrivers; i++)
        if (t->drivers[i].threads == threads) {
            if (t->drivers[i].kernel != kn)
                return snprintf(why, len, "tuned on %s, not %s", t->drivers[i].kernel->name,
                                kn->name),
                       -1;
            *p = t->drivers[i].params;
            return 0;
        }
    return snprintf(why, len, "not tuned at %d thread%s", threads, threads > 1 ? "s" : ""), -1;
}

// ---------------------------------------------------------------------------------------------
// Dispatch's tune file

static tb_tune_state state;
static char state_key[600]; // the TRITBENCH_TUNE value (or "") the state was loaded for
static int state_loaded;

// "results/<cpu-slug>/tune.json", where `tritbench tune` writes by default.
static void default_path(char *buf, size_t len)
{
    char *path = tb_results_folder(NULL, "tune.json");
    snprintf(buf, len, "%s", path ? path : "results/tune.json");
    free(path);
}

static void load_state(const char *env)
{
    tb_tune_free(&state.tune);
    memset(&state, 0, sizeof state);
    if (env && strcmp(env, "off") == 0) {
        state.status = TB_TUNE_OFF;
        snprintf(state.why, sizeof state.why, "TRITBENCH_TUNE=off");
        return;
    }
    if (env && *env)
        snprintf(state.path, sizeof state.path, "%s", env);
    else
        default_path(state.path, sizeof state.path);
    struct stat st;
    if (stat(state.path, &st) != 0 && errno == ENOENT && !(env && *env)) {
        state.status = TB_TUNE_NONE;
        snprintf(state.why, sizeof state.why, "no tune file %s (run 'tritbench tune')", state.path);
        return;
    }
    char err[700];
    // A file named by TRITBENCH_TUNE that cannot be read is refused aloud, like a bad one.
    if (tb_tune_load(state.path, &state.tune, err, sizeof err)) {
        state.status = TB_TUNE_REFUSED;
        snprintf(state.why, sizeof state.why, "%s", err);
        fprintf(stderr, "tritbench: tune file refused: %s; kernels chosen by rank\n", err);
        return;
    }
    char why[400];
    if (!tb_tune_matches(state.tune.fingerprint, why, sizeof why)) {
        state.status = TB_TUNE_MISMATCH;
        snprintf(state.why, sizeof state.why, "%.400s was tuned on another CPU: %.400s", state.path,
                 why);
        tb_tune_free(&state.tune);
        return;
    }
    state.status = TB_TUNE_USED;
}

const tb_tune_state *tb_tune_dispatch(void)
{
    const char *env = getenv("TRITBENCH_TUNE");
    if (!state_loaded || strcmp(state_key, env ? env : "") != 0) {
        snprintf(state_key, sizeof state_key, "%s", env ? env : "");
        load_state(env);
        state_loaded = 1;
    }
    return &state;
}
