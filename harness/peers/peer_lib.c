#define _DEFAULT_SOURCE // dirent's d_type-free listing, dlfcn
#include "peer_lib.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef TB_PEER_DIR
#define TB_PEER_DIR "/usr/local/lib/tritbench/peers/llama.cpp"
#endif

void tb_peer_dir(const char *opt, char *dir, size_t len, const char **source)
{
    const char *env = getenv("TRITBENCH_GGML_DIR");
    if (opt && *opt)
        snprintf(dir, len, "%s", opt), *source = "--peer-lib";
    else if (env && *env)
        snprintf(dir, len, "%s", env), *source = "TRITBENCH_GGML_DIR";
    else
        snprintf(dir, len, "%s", TB_PEER_DIR), *source = "default";
}

static int failf(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

// dlsym into a function pointer of any type (ISO C has no cast from void * to one).
static int sym(void *h, const char *name, void *fn_ptr)
{
    void *p = dlsym(h, name);
    memcpy(fn_ptr, &p, sizeof p);
    return p ? 0 : -1;
}

// The ggml CPU library ggml's loader would pick: the highest ggml_backend_score among the
// libggml-cpu*.so of dir (a library without the function scores 0, unless it is the plain
// libggml-cpu.so of a build without variants). Returns its handle, or NULL with err set.
static void *best_cpu_variant(const char *dir, tb_ggml_lib *lib, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    if (!d) return failf(err, err_len, "%s: cannot open the directory", dir), NULL;
    void *best = NULL;
    int seen = 0;
    char last_err[400] = "";
    lib->score = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "libggml-cpu", 11) != 0 || n < 3 ||
            strcmp(e->d_name + n - 3, ".so") != 0)
            continue;
        seen++;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(last_err, sizeof last_err, "%s", dlerror());
            continue;
        }
        tb_ggml_score_fn score_fn;
        int score = sym(h, "ggml_backend_score", &score_fn) == 0 ? score_fn()
                    : strcmp(e->d_name, "libggml-cpu.so") == 0   ? 1
                                                                 : 0;
        if (score > lib->score) {
            if (best) dlclose(best);
            best = h, lib->score = score;
            snprintf(lib->cpu_path, sizeof lib->cpu_path, "%s", path);
            // "libggml-cpu-icelake.so" -> "icelake"
            snprintf(lib->variant, sizeof lib->variant, "%.*s", n > 15 ? (int)(n - 15) : 0,
                     e->d_name + 12);
        } else {
            dlclose(h);
        }
    }
    closedir(d);
    if (!best) {
        if (!seen)
            failf(err, err_len, "%s: no libggml-cpu*.so (ggml's CPU backend) there", dir);
        else if (*last_err)
            failf(err, err_len, "%s: no ggml CPU library loads here (last: %s)", dir, last_err);
        else
            failf(err, err_len, "%s: none of its %d ggml CPU libraries can run on this CPU", dir,
                  seen);
    }
    return best;
}

// Elements and bytes per block of the types the peers use (ggml_abi.h).
static const struct {
    int type;
    const char *name;
    int64_t block;
    size_t bytes;
} facts[] = {
    {TB_GGML_T_F16, "f16", 1, 2},        {TB_GGML_T_Q4_0, "q4_0", 32, 18},
    {TB_GGML_T_Q8_0, "q8_0", 32, 34},    {TB_GGML_T_Q8_K, "q8_K", 256, 292},
    {TB_GGML_T_TQ1_0, "tq1_0", 256, 54}, {TB_GGML_T_TQ2_0, "tq2_0", 256, 66},
};
// The activation type ggml's CPU backend pairs with each weight type.
static const struct {
    int type, vec_dot_type;
} pairs[] = {{TB_GGML_T_F16, TB_GGML_T_F16},
             {TB_GGML_T_Q4_0, TB_GGML_T_Q8_0},
             {TB_GGML_T_Q8_0, TB_GGML_T_Q8_0},
             {TB_GGML_T_TQ1_0, TB_GGML_T_Q8_K},
             {TB_GGML_T_TQ2_0, TB_GGML_T_Q8_K}};

// Every fact of ggml_abi.h that can be asked of the library: type names at their ids, block
// sizes, and the CPU traits (functions present, activation type, rows per call) of each type.
static int abi_check(void *base, const tb_ggml_lib *lib, char *err, size_t err_len)
{
    tb_ggml_type_size_fn type_size;
    tb_ggml_blck_size_fn blck_size;
    if (sym(base, "ggml_type_size", &type_size) || sym(base, "ggml_blck_size", &blck_size))
        return failf(err, err_len, "%s: lacks ggml_type_size / ggml_blck_size", lib->base_path);
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const char *name = lib->type_name(facts[i].type);
        if (!name || strcmp(name, facts[i].name) != 0 ||
            blck_size(facts[i].type) != facts[i].block ||
            type_size(facts[i].type) != facts[i].bytes)
            return failf(err, err_len,
                         "%s (ggml %s): ABI mismatch: type %d is '%s' with blocks of %lld / %zu "
                         "bytes, expected '%s' with %lld / %zu",
                         lib->base_path, lib->version, facts[i].type, name ? name : "(null)",
                         (long long)blck_size(facts[i].type), type_size(facts[i].type),
                         facts[i].name, (long long)facts[i].block, facts[i].bytes);
    }
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const tb_ggml_type_traits_cpu *t = lib->traits_cpu(pairs[i].type);
        const tb_ggml_type_traits_cpu *a = lib->traits_cpu(pairs[i].vec_dot_type);
        if (!t || !t->vec_dot || t->vec_dot_type != pairs[i].vec_dot_type ||
            (t->nrows != 1 && t->nrows != 2) || !a || !a->from_float)
            return failf(err, err_len,
                         "%s: ABI mismatch: the CPU traits of %s are not {from_float, vec_dot, "
                         "vec_dot_type %s, nrows 1 or 2} (got vec_dot_type %d, nrows %lld)",
                         lib->cpu_path, lib->type_name(pairs[i].type),
                         lib->type_name(pairs[i].vec_dot_type), t ? t->vec_dot_type : -1,
                         t ? (long long)t->nrows : -1LL);
    }
    return 0;
}

int tb_ggml_open(const char *dir, tb_ggml_lib *lib, char *err, size_t err_len)
{
    memset(lib, 0, sizeof *lib);
    snprintf(lib->dir, sizeof lib->dir, "%s", dir);
    snprintf(lib->base_path, sizeof lib->base_path, "%s/libggml-base.so", dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return failf(err, err_len, "%s: no such directory", dir);
    if (stat(lib->base_path, &st) != 0)
        return failf(err, err_len, "%s: missing (not a ggml library directory)", lib->base_path);
    void *base = dlopen(lib->base_path, RTLD_NOW | RTLD_LOCAL);
    if (!base) return failf(err, err_len, "%s: cannot load: %s", lib->base_path, dlerror());
    tb_ggml_str_fn version, commit;
    if (sym(base, "ggml_version", &version) || sym(base, "ggml_commit", &commit) ||
        sym(base, "ggml_type_name", &lib->type_name) ||
        sym(base, "ggml_row_size", &lib->row_size) ||
        sym(base, "ggml_quantize_chunk", &lib->quantize_chunk))
        return failf(err, err_len,
                     "%s: not the ggml interface tritbench knows (no ggml_version, ggml_commit, "
                     "ggml_type_name, ggml_row_size or ggml_quantize_chunk)",
                     lib->base_path);
    snprintf(lib->version, sizeof lib->version, "%s", version());
    snprintf(lib->commit, sizeof lib->commit, "%s", commit());
    void *cpu = best_cpu_variant(dir, lib, err, err_len);
    if (!cpu) return -1;
    tb_ggml_cpu_init_fn cpu_init;
    if (sym(cpu, "ggml_cpu_init", &cpu_init) ||
        sym(cpu, "ggml_get_type_traits_cpu", &lib->traits_cpu))
        return failf(err, err_len, "%s: lacks ggml_cpu_init / ggml_get_type_traits_cpu",
                     lib->cpu_path);
    cpu_init(); // fills ggml's f16 tables; the CPU traits need it
    return abi_check(base, lib, err, err_len);
}

int tb_ggml_cpu_variant(const char *dir, char *variant, size_t len)
{
    tb_ggml_lib lib;
    char err[600];
    memset(&lib, 0, sizeof lib);
    void *h = best_cpu_variant(dir, &lib, err, sizeof err);
    if (!h) return -1;
    snprintf(variant, len, "%s", *lib.variant ? lib.variant : "cpu");
    dlclose(h); // ggml's own loader holds the library it chose
    return 0;
}
