#include "experiment.h"

#include "model.h"
#include "peers.h"
#include "select.h"
#include "tb_kernel.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// The parser's state: the experiment being filled, the first error, and which keys each step
// set (with their lines), so that keys that do not apply to a step's runner are refused.
typedef struct {
    tb_experiment *e;
    tb_error *err;
    int failed, line;
    char dir[512];                  // the file's folder: published tables are relative to it
    unsigned set[TB_EXP_STEPS_MAX]; // bit per key of keys[]
    int key_line[TB_EXP_STEPS_MAX][32];
    char section[64];
    int section_line;
} parser;

// Every key a step may have, and the runners it applies to (bits of tb_step_kind).
#define K_BK (1u << TB_STEP_BENCH_KERNELS)
#define K_BM (1u << TB_STEP_BENCH_MODEL)
#define K_VM (1u << TB_STEP_VALIDATE_MODEL)
#define K_PP (1u << TB_STEP_PERPLEXITY)
static const struct {
    const char *name;
    unsigned applies;
} keys[] = {
    {"run", K_BK | K_BM | K_VM | K_PP},
    {"kernels", K_BK | K_BM | K_VM | K_PP},
    {"model", K_BK | K_BM | K_VM | K_PP},
    {"shape", K_BK},
    {"m", K_BK},
    {"threads", K_BK | K_BM | K_VM | K_PP},
    {"weights", K_BK},
    {"rounds", K_BK},
    {"block-ms", K_BK},
    {"baseline", K_BK},
    {"prompt", K_BM | K_VM},
    {"tokens", K_BM | K_VM},
    {"reps", K_BM},
    {"head", K_BM},
    {"seed", K_BK | K_BM | K_VM | K_PP},
    {"roofline-mib", K_BK | K_BM},
    {"sampling", K_BM},
    {"peer", K_BM},
    {"text", K_PP},
    {"tokens-file", K_PP},
    {"ctx", K_PP},
    {"chunks", K_PP},
};
enum { KEY_RUN, KEY_KERNELS, KEY_MODEL, KEY_SHAPE, KEY_M, KEY_THREADS, KEY_WEIGHTS };
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

static const char *const kind_names[] = {"bench-kernels", "bench-model", "validate-model",
                                         "perplexity"};
#define NKINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

static int bad(parser *ps, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(parser *ps, const char *key, const char *fmt, ...)
{
    if (ps->failed) return 0;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tb_fail(ps->err, "%s:%d: [%s] %s: %s", ps->e->path, ps->line, ps->section, key, msg);
    ps->failed = 1;
    return 0; // inih: an error on this line
}

// Splits a comma list into trimmed items; returns the count (at most max), -1 if empty items.
static int split(const char *value, char items[][64], int max)
{
    int n = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0 || len >= 64 || n == max) return -1;
        memcpy(items[n], p, len);
        items[n++][len] = '\0';
        p += strcspn(p, ",");
        if (!*p) return n;
        p++;
    }
}

static int whole(parser *ps, const char *key, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ') end++;
    if (*s == '\0' || *end || errno) return bad(ps, key, "'%s' is not a whole number", s);
    if (v < lo || v > hi) return bad(ps, key, "%ld is out of range [%ld, %ld]", v, lo, hi);
    *out = (int)v;
    return 1;
}

static int whole_list(parser *ps, const char *key, const char *value, long lo, long hi, int *out,
                      int *n, int max)
{
    char items[TB_LIST_MAX][64];
    int k = split(value, items, max < TB_LIST_MAX ? max : TB_LIST_MAX);
    if (k < 0) return bad(ps, key, "'%s' must be 1 to %d comma-separated values", value, max);
    for (int i = 0; i < k; i++)
        if (!whole(ps, key, items[i], lo, hi, &out[i])) return 0;
    *n = k;
    return 1;
}

// Appends a kernel name to the step's list, once.
static void add_kernel(tb_step *s, const char *name)
{
    char padded[80];
    snprintf(padded, sizeof padded, ",%s,", name);
    char current[520];
    snprintf(current, sizeof current, ",%s,", s->kernels);
    if (strstr(current, padded)) return;
    size_t used = strlen(s->kernels);
    snprintf(s->kernels + used, sizeof s->kernels - used, "%s%s", used ? "," : "", name);
}

// The best kernel of a family ("lut3": lut3_scalar, lut3_avx2, ...) that this CPU runs: the
// highest rank, then the most specific ISA (most feature bits). NULL if none.
static const tb_kernel *best_of_family(const char *family)
{
    const tb_kernel *best = NULL;
    size_t len = strlen(family);
    for (int k = 0; k < tb_kernel_count(); k++) {
        const tb_kernel *kn = tb_kernel_at(k);
        if (strncmp(kn->name, family, len) != 0 || kn->name[len] != '_' ||
            !tb_kernel_supported(kn, NULL, 0))
            continue;
        if (!best || kn->rank > best->rank ||
            (kn->rank == best->rank && __builtin_popcount(kn->isa) > __builtin_popcount(best->isa)))
            best = kn;
    }
    return best;
}

// Removes a name from the step's list (an item "-name").
static void remove_kernel(tb_step *s, const char *name)
{
    char out[sizeof s->kernels] = "", *save = NULL;
    for (char *t = strtok_r(s->kernels, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, name) != 0)
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "," : "", t);
    memcpy(s->kernels, out, sizeof out);
}

// Records that kernel stands for the symbol role here ("i2_avx2=best"), so that results of
// two CPUs, where "best" is another kernel, can be compared role by role.
static void add_role(tb_step *s, const char *kernel, const char *role)
{
    size_t used = strlen(s->roles);
    if (strcmp(kernel, role) != 0)
        snprintf(s->roles + used, sizeof s->roles - used, "%s%s=%s", used ? "," : "", kernel, role);
}

static int set_kernels(parser *ps, tb_step *s, const char *value)
{
    s->roles[0] = '\0';
    char items[TB_KERNELS_MAX][64];
    int n = split(value, items, TB_KERNELS_MAX);
    if (n < 0) return bad(ps, "kernels", "'%s' must be comma-separated kernel names", value);
    s->kernels[0] = '\0';
    s->all_kernels = n == 1 && strcmp(items[0], "all") == 0;
    for (int i = 0; i < n; i++) {
        const tb_kernel *kn = NULL;
        if (tb_is_peer(items[i]) || strcmp(items[i], "peers") == 0) {
            // Another project's kernels (peers.h): loaded from the default library directory
            // (TRITBENCH_GGML_DIR, else where .ci/setup installs them); named one by one or
            // all of them as `peers`.
            tb_error err;
            if (tb_select_peers(TB_PEER_PREFIX, NULL, &err))
                return bad(ps, "kernels", "%s", err.msg);
            for (int k = tb_kernel_static_count(); k < tb_kernel_count(); k++)
                if (strcmp(items[i], "peers") == 0 || strcmp(items[i], tb_kernel_at(k)->name) == 0)
                    add_kernel(s, tb_kernel_at(k)->name), kn = tb_kernel_at(k);
            if (!kn)
                return bad(ps, "kernels", "no peer named '%s' (see 'tritbench kernels')", items[i]);
            s->has_peers = 1;
            continue;
        }
        if (strcmp(items[i], "all") == 0) {
            for (int k = 0; k < tb_kernel_static_count(); k++)
                if (tb_kernel_supported(tb_kernel_at(k), NULL, 0))
                    add_kernel(s, tb_kernel_at(k)->name);
            continue;
        }
        if (items[i][0] == '-') {
            if (!tb_kernel_find(items[i] + 1))
                return bad(ps, "kernels", "no kernel named '%s' here", items[i] + 1);
            remove_kernel(s, items[i] + 1);
            continue;
        }
        if (strcmp(items[i], "best") == 0)
            kn = tb_select_best();
        else if (strcmp(items[i], "i2") == 0 || strcmp(items[i], "lut2") == 0 ||
                 strcmp(items[i], "lut3") == 0)
            kn = best_of_family(items[i]);
        else if (strcmp(items[i], "fp16") == 0)
            kn = tb_kernel_best_baseline(TB_FLOAT_FP16);
        else if (strcmp(items[i], "fp32") == 0)
            kn = tb_kernel_best_baseline(TB_FLOAT_FP32);
        else if (strcmp(items[i], "q8") == 0)
            kn = tb_kernel_best_baseline(TB_FLOAT_Q8);
        else if (strcmp(items[i], "q4") == 0)
            kn = tb_kernel_best_baseline(TB_FLOAT_Q4);
        else if (!(kn = tb_kernel_find(items[i])))
            return bad(ps, "kernels", "no kernel named '%s' here (see 'tritbench kernels')",
                       items[i]);
        if (!kn) return bad(ps, "kernels", "this CPU runs no '%s' kernel", items[i]);
        add_kernel(s, kn->name);
        add_role(s, kn->name, items[i]);
    }
    return 1;
}

static int set_models(parser *ps, tb_step *s, const char *value)
{
    s->nmodels = split(value, s->models, TB_EXP_MODELS_MAX);
    if (s->nmodels < 0)
        return bad(ps, "model", "'%s' must be 1 to %d comma-separated configurations or files",
                   value, TB_EXP_MODELS_MAX);
    for (int i = 0; i < s->nmodels; i++) {
        tb_config c;
        if (tb_config_find(s->models[i], &c) != 0 && access(s->models[i], R_OK) != 0)
            return bad(ps, "model", "'%s' is neither a configuration (%s) nor a readable file",
                       s->models[i], tb_config_list());
    }
    return 1;
}

static int choice(parser *ps, const char *key, const char *value, const char *const *names, int n,
                  int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(value, names[i]) == 0) return *out = i, 1;
    char list[200] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
    return bad(ps, key, "'%s' must be one of %s", value, list);
}

static int set_weights(parser *ps, tb_step *s, const char *value)
{
    char items[2][64];
    int n = split(value, items, 2);
    s->weights_hot = s->weights_cold = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i], "hot") == 0)
            s->weights_hot = 1;
        else if (strcmp(items[i], "cold") == 0)
            s->weights_cold = 1;
        else
            n = -1;
    }
    return n > 0 ? 1 : bad(ps, "weights", "'%s' must be hot, cold or hot, cold", value);
}

// One key of a step; the runner-specific checks come once the whole section is read.
static int step_key(parser *ps, tb_step *s, int key, const char *value)
{
    static const char *const samplings[] = {"auto", "never", "always"};
    int v, n;
    switch (key) {
    case KEY_RUN:
        return choice(ps, "run", value, kind_names, NKINDS, &v) ? (s->kind = v, 1) : 0;
    case KEY_KERNELS:
        return set_kernels(ps, s, value);
    case KEY_MODEL:
        return set_models(ps, s, value);
    case KEY_SHAPE:
        return whole_list(ps, "shape", value, 1, 1 << 30, s->shape, &n, 2) && n == 2
                   ? 1
                   : bad(ps, "shape", "'%s' must be N,K", value);
    case KEY_M:
        return whole_list(ps, "m", value, 1, TB_M_MAX, s->m, &s->nm, TB_LIST_MAX);
    case KEY_THREADS:
        return whole_list(ps, "threads", value, 1, TB_THREADS_MAX, s->threads, &s->nthreads,
                          TB_LIST_MAX);
    case KEY_WEIGHTS:
        return set_weights(ps, s, value);
    }
    const char *name = keys[key].name;
    if (strcmp(name, "rounds") == 0) return whole(ps, name, value, 3, 1000, &s->rounds);
    if (strcmp(name, "block-ms") == 0)
        return whole(ps, name, value, 1, 10000, &v) ? (s->block_ms = v, 1) : 0;
    if (strcmp(name, "peer") == 0) {
        static const char *const peers[] = {"llama.cpp"};
        return choice(ps, name, value, peers, 1, &v)
                   ? (snprintf(s->peer, sizeof s->peer, "%s", peers[v]), 1)
                   : 0;
    }
    if (strcmp(name, "baseline") == 0) {
        // One kernel of the step's list (checked once the list is known: finish_step).
        if (strlen(value) >= sizeof s->baseline) return bad(ps, name, "'%s' is too long", value);
        snprintf(s->baseline, sizeof s->baseline, "%s", value);
        return 1;
    }
    if (strcmp(name, "prompt") == 0) return whole(ps, name, value, 1, TB_PROMPT_MAX, &s->prompt);
    if (strcmp(name, "tokens") == 0) return whole(ps, name, value, 2, TB_TOKENS_MAX, &s->tokens);
    if (strcmp(name, "reps") == 0) return whole(ps, name, value, 1, 1000, &s->reps);
    if (strcmp(name, "head") == 0)
        return choice(ps, name, value, tb_head_names, TB_HEAD_COUNT, &v) ? (s->head = v, 1) : 0;
    if (strcmp(name, "seed") == 0)
        return whole(ps, name, value, 0, 1L << 30, &v) ? (s->seed = (uint64_t)v, 1) : 0;
    if (strcmp(name, "text") == 0 || strcmp(name, "tokens-file") == 0) {
        if (s->text[0]) return bad(ps, name, "give text or tokens-file, not both");
        // Relative to the experiment's folder, as the published tables are.
        int n = value[0] == '/' ? snprintf(s->text, sizeof s->text, "%s", value)
                                : snprintf(s->text, sizeof s->text, "%s/%s", ps->dir, value);
        if (n >= (int)sizeof s->text) return bad(ps, name, "path too long");
        if (access(s->text, R_OK) != 0) return bad(ps, name, "%s: %s", s->text, strerror(errno));
        s->text_is_tokens = name[0] == 't' && name[1] == 'o';
        return 1;
    }
    if (strcmp(name, "ctx") == 0) return whole(ps, name, value, 4, 1 << 20, &s->ctx);
    if (strcmp(name, "chunks") == 0) return whole(ps, name, value, 1, 1 << 20, &s->chunks);
    if (strcmp(name, "roofline-mib") == 0)
        return whole(ps, name, value, 1, 1 << 16, &s->roofline_mib);
    return choice(ps, name, value, samplings, 3, &v) ? (s->sampling = (tb_sample_mode)v, 1) : 0;
}

// Defaults of a new step: the commands' defaults, best kernel, one thread.
static void step_defaults(tb_step *s, const char *name, int line)
{
    *s = (tb_step){.line = line,
                   .kind = -1,
                   .m = {1},
                   .nm = 1,
                   .threads = {1},
                   .nthreads = 1,
                   .weights_hot = 1,
                   .rounds = 7,
                   .block_ms = 10,
                   .prompt = 16,
                   .tokens = 32,
                   .reps = 3,
                   .head = TB_HEAD_F16,
                   .seed = 1,
                   .ctx = 512,
                   .sampling = TB_SAMPLE_AUTO};
    snprintf(s->name, sizeof s->name, "%s", name);
}

static int experiment_key(parser *ps, const char *name, const char *value)
{
    tb_experiment *e = ps->e;
    if (strcmp(name, "description") == 0) {
        snprintf(e->description, sizeof e->description, "%s", value);
        return 1;
    }
    if (strcmp(name, "published") != 0)
        return bad(ps, name, "unknown key (known: description, published)");
    if (e->npublished == 4) return bad(ps, name, "at most 4 published tables");
    char *path = e->published[e->npublished];
    if (snprintf(path, sizeof e->published[0], "%s/%s", ps->dir, value) >=
        (int)sizeof e->published[0])
        return bad(ps, name, "path too long");
    if (access(path, R_OK) != 0) return bad(ps, name, "%s: %s", path, strerror(errno));
    e->npublished++;
    return 1;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    parser *ps = user;
    tb_experiment *e = ps->e;
    snprintf(ps->section, sizeof ps->section, "%s", section);
    if (ps->failed) return 1; // report the first error only
    if (strcmp(section, "experiment") == 0) return experiment_key(ps, name, value);
    tb_step *s = e->nsteps ? &e->steps[e->nsteps - 1] : NULL;
    if (!s || strcmp(s->name, section) != 0) {
        for (int i = 0; i < e->nsteps; i++)
            if (strcmp(e->steps[i].name, section) == 0)
                return bad(ps, name, "section [%s] appears twice", section);
        if (e->nsteps == TB_EXP_STEPS_MAX)
            return bad(ps, name, "more than %d steps", TB_EXP_STEPS_MAX);
        s = &e->steps[e->nsteps++];
        step_defaults(s, section, ps->section_line);
    }
    int key = 0;
    while (key < NKEYS && strcmp(keys[key].name, name) != 0) key++;
    if (key == NKEYS) return bad(ps, name, "unknown key");
    int si = (int)(s - e->steps);
    if (ps->set[si] & (1u << key)) return bad(ps, name, "given twice");
    ps->set[si] |= 1u << key;
    ps->key_line[si][key] = ps->line;
    return step_key(ps, s, key, value);
}

// inih reads through this, so the handler knows the line it is on.
typedef struct {
    parser *ps;
    FILE *f;
} line_reader;

static char *read_line(char *str, int num, void *stream)
{
    line_reader *lr = stream;
    char *r = fgets(str, num, lr->f);
    if (!r) return r;
    lr->ps->line++;
    const char *c = r + strspn(r, " \t");
    if (*c == '[') lr->ps->section_line = lr->ps->line; // where a step's messages point
    return r;
}

// Once a section is read: the fields its runner needs, and no key it does not take.
static int check_step(parser *ps, int si)
{
    tb_step *s = &ps->e->steps[si];
    snprintf(ps->section, sizeof ps->section, "%s", s->name);
    ps->line = s->line;
    if (!(ps->set[si] & (1u << KEY_RUN)))
        return bad(ps, "run", "missing (bench-kernels, bench-model, validate-model or perplexity)");
    for (int k = 0; k < NKEYS; k++)
        if ((ps->set[si] & (1u << k)) && !(keys[k].applies & (1u << s->kind))) {
            ps->line = ps->key_line[si][k];
            return bad(ps, keys[k].name, "does not apply to run = %s", kind_names[s->kind]);
        }
    int has_model = ps->set[si] & (1u << KEY_MODEL), has_shape = ps->set[si] & (1u << KEY_SHAPE);
    if (s->kind == TB_STEP_BENCH_KERNELS && has_model == has_shape)
        return bad(ps, "model", "give either model (its linear shapes) or shape N,K");
    if (s->kind != TB_STEP_BENCH_KERNELS && !has_model)
        return bad(ps, "model", "missing (a configuration or GGUF file)");
    int has_kernels = ps->set[si] & (1u << KEY_KERNELS);
    if (s->baseline[0]) {
        char list[sizeof s->kernels + 2], want[sizeof s->baseline + 2];
        snprintf(list, sizeof list, ",%s,", s->kernels);
        snprintf(want, sizeof want, ",%s,", s->baseline);
        if (!strstr(list, want)) {
            ps->line = s->line;
            return bad(ps, "baseline", "'%s' is not among the step's kernels (%s)", s->baseline,
                       s->kernels);
        }
    }
    if (s->peer[0] && s->sampling == TB_SAMPLE_ALWAYS) {
        ps->line = s->line;
        return bad(ps, "peer", "the peer runs whole models; not with sampling = always");
    }
    if (s->has_peers && s->kind != TB_STEP_BENCH_KERNELS) {
        ps->line = ps->key_line[si][KEY_KERNELS];
        return bad(ps, "kernels", "peers are kernels of bench-kernels steps only, not of %s",
                   kind_names[s->kind]);
    }
    if (s->kind == TB_STEP_PERPLEXITY) {
        ps->line = s->line;
        if (!s->text[0]) return bad(ps, "text", "missing (the text file, or tokens-file)");
        if (s->ctx % 2) return bad(ps, "ctx", "%d: expected an even number", s->ctx);
        if (!has_kernels) snprintf(s->kernels, sizeof s->kernels, "all");
    } else if (s->kind == TB_STEP_VALIDATE_MODEL) {
        // The engine on every kernel built here (skipping what this CPU cannot run), or on one.
        if (!has_kernels) s->all_kernels = 1;
        ps->line = has_kernels ? ps->key_line[si][KEY_KERNELS] : s->line;
        if (!s->all_kernels && strchr(s->kernels, ','))
            return bad(ps, "kernels", "validate-model takes all or one kernel");
        if (s->all_kernels) snprintf(s->kernels, sizeof s->kernels, "all");
    } else if (!has_kernels) {
        const tb_kernel *best = tb_select_best();
        if (!best) return bad(ps, "kernels", "this CPU runs no kernel");
        add_kernel(s, best->name);
        add_role(s, best->name, "best");
    }
    return 1;
}

static void find_file(const char *spec, const char *dir, char *path, size_t len)
{
    struct stat st;
    if (strchr(spec, '/') || (stat(spec, &st) == 0 && S_ISREG(st.st_mode)))
        snprintf(path, len, "%s", spec);
    else
        snprintf(path, len, "%s/%s.ini", dir ? dir : "experiments", spec);
}

int tb_experiment_load(const char *spec, const char *dir, tb_experiment *e, tb_error *err)
{
    memset(e, 0, sizeof *e);
    find_file(spec, dir, e->path, sizeof e->path);
    FILE *f = fopen(e->path, "r");
    if (!f)
        return tb_fail(err, "experiment %s: cannot read %s: %s", spec, e->path, strerror(errno));
    const char *base = strrchr(e->path, '/');
    snprintf(e->name, sizeof e->name, "%.63s", base ? base + 1 : e->path);
    char *dot = strrchr(e->name, '.');
    if (dot) *dot = '\0';
    parser *ps = calloc(1, sizeof *ps);
    if (!ps) abort();
    ps->e = e, ps->err = err;
    snprintf(ps->dir, sizeof ps->dir, "%.*s", base ? (int)(base - e->path) : 1,
             base ? e->path : ".");
    line_reader lr = {ps, f};
    int line = ini_parse_stream(read_line, &lr, on_value, ps);
    fclose(f);
    if (line != 0 && !ps->failed) {
        ps->line = line;
        bad(ps, "syntax", "not a section header or key = value");
    }
    for (int i = 0; i < e->nsteps && !ps->failed; i++) check_step(ps, i);
    if (!ps->failed && e->nsteps == 0)
        tb_fail(err, "%s: no steps (sections with run = ...)", e->path), ps->failed = 1;
    int failed = ps->failed;
    free(ps);
    return failed ? TB_BAD_INPUT : TB_OK;
}
