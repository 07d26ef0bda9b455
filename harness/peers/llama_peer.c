// llama.cpp's engine through its C API (llama.h), declared here from the facts of the interface:
// the functions bench model calls and the layout of the structs passed by value. Checked against
// the library before use (open_symbols, check_defaults, the values read back after
// llama_init_from_model, the batch llama_batch_get_one returns), never copied from it.
#define _DEFAULT_SOURCE // dirent, dlfcn
#include "llama_peer.h"

#include "peer_lib.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// struct llama_model_params (80 bytes in llama.cpp 0ad4a86) and struct llama_context_params
// (160 bytes): passed by value, which for structs over 16 bytes goes through memory on x86-64
// and aarch64, so only their size and alignment must match; the library's defaults are passed
// back unchanged but for the context's sizes, at the offsets below.
typedef struct {
    _Alignas(8) unsigned char b[80];
} tb_llama_model_params;
typedef struct {
    _Alignas(8) unsigned char b[160];
} tb_llama_context_params;
// uint32 fields of llama_context_params and their defaults (checked before we write them).
enum { CP_N_CTX = 0, CP_N_BATCH = 4, CP_N_UBATCH = 8, CP_N_SEQ_MAX = 12 };
static const uint32_t cp_defaults[4] = {512, 2048, 512, 1};

// struct llama_batch, returned by llama_batch_get_one and passed to llama_decode by value.
typedef struct {
    int32_t n_tokens;
    int32_t *token; // llama_token
    float *embd;
    int32_t *pos;      // llama_pos
    int32_t *n_seq_id; //
    int32_t **seq_id;  // llama_seq_id
    int8_t *logits;
} tb_llama_batch;
_Static_assert(sizeof(void *) != 8 || sizeof(tb_llama_batch) == 56, "llama_batch is 56 bytes");

// ggml_log_level: errors and their continuation lines are kept (the reason a load failed).
enum { LOG_ERROR = 4, LOG_CONT = 5 };
typedef void (*log_cb)(int level, const char *text, void *user);

typedef struct {
    void (*backend_init)(void);
    void (*load_all_from_path)(const char *dir); // ggml_backend_load_all_from_path
    void (*log_set)(log_cb cb, void *user);
    tb_llama_model_params (*model_default_params)(void);
    tb_llama_context_params (*context_default_params)(void);
    void *(*model_load_from_file)(const char *path, tb_llama_model_params params);
    void *(*init_from_model)(void *model, tb_llama_context_params params);
    const void *(*model_get_vocab)(const void *model);
    int32_t (*vocab_n_tokens)(const void *vocab);
    tb_llama_batch (*batch_get_one)(int32_t *tokens, int32_t n_tokens);
    int32_t (*decode)(void *ctx, tb_llama_batch batch);
    float *(*get_logits_ith)(void *ctx, int32_t i);
    void *(*get_memory)(void *ctx);
    void (*memory_clear)(void *mem, _Bool data);
    void (*set_n_threads)(void *ctx, int32_t n_threads, int32_t n_threads_batch);
    uint32_t (*n_ctx)(const void *ctx), (*n_batch)(const void *ctx), (*n_ubatch)(const void *ctx);
    void (*free_ctx)(void *ctx);
    void (*model_free)(void *model);
    const char *(*print_system_info)(void);
    const char *(*ggml_version)(void), *(*ggml_commit)(void);
} llama_api;

struct tb_llama_peer {
    void *handle;
    llama_api f;
    tb_llama_identity id;
    void *model, *ctx;
    int n_vocab;
    char log_err[600]; // the first error line since the last reset
    int log_in_error;  // the last line logged was an error (continuations belong to it)
};

static int failf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
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

// llama.cpp's log, silenced: the first error line (with its continuations) is kept, since the
// first says why (e.g. "error loading model: unknown model architecture: '...'"), the later
// ones only that something failed.
static void on_log(int level, const char *text, void *user)
{
    tb_llama_peer *p = user;
    if (level == LOG_ERROR && !*p->log_err) {
        snprintf(p->log_err, sizeof p->log_err, "%s", text);
        p->log_in_error = 1;
    } else if (level == LOG_CONT && p->log_in_error) {
        size_t n = strlen(p->log_err);
        snprintf(p->log_err + n, sizeof p->log_err - n, "%s", text);
    } else if (level != LOG_CONT) {
        p->log_in_error = 0;
    }
    size_t n = strlen(p->log_err);
    while (n && (p->log_err[n - 1] == '\n' || p->log_err[n - 1] == ' ')) p->log_err[--n] = '\0';
}

static void log_reset(tb_llama_peer *p)
{
    p->log_err[0] = '\0';
    p->log_in_error = 0;
}

// The libllama of dir: libllama.so, else the versioned libllama.v*.so of the npm builds (not
// libllama-common.so, a helper library of theirs).
static int find_libllama(const char *dir, char *path, size_t len)
{
    struct stat st;
    snprintf(path, len, "%s/libllama.so", dir);
    if (stat(path, &st) == 0) return 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d)) && found) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "libllama.", 9) == 0 && n > 3 &&
            strcmp(e->d_name + n - 3, ".so") == 0)
            snprintf(path, len, "%s/%s", dir, e->d_name), found = 0;
    }
    closedir(d);
    return found;
}

static int open_symbols(void *h, llama_api *f)
{
    return sym(h, "llama_backend_init", &f->backend_init) ||
           sym(h, "ggml_backend_load_all_from_path", &f->load_all_from_path) ||
           sym(h, "llama_log_set", &f->log_set) ||
           sym(h, "llama_model_default_params", &f->model_default_params) ||
           sym(h, "llama_context_default_params", &f->context_default_params) ||
           sym(h, "llama_model_load_from_file", &f->model_load_from_file) ||
           sym(h, "llama_init_from_model", &f->init_from_model) ||
           sym(h, "llama_model_get_vocab", &f->model_get_vocab) ||
           sym(h, "llama_vocab_n_tokens", &f->vocab_n_tokens) ||
           sym(h, "llama_batch_get_one", &f->batch_get_one) || sym(h, "llama_decode", &f->decode) ||
           sym(h, "llama_get_logits_ith", &f->get_logits_ith) ||
           sym(h, "llama_get_memory", &f->get_memory) ||
           sym(h, "llama_memory_clear", &f->memory_clear) ||
           sym(h, "llama_set_n_threads", &f->set_n_threads) || sym(h, "llama_n_ctx", &f->n_ctx) ||
           sym(h, "llama_n_batch", &f->n_batch) || sym(h, "llama_n_ubatch", &f->n_ubatch) ||
           sym(h, "llama_free", &f->free_ctx) || sym(h, "llama_model_free", &f->model_free) ||
           sym(h, "llama_print_system_info", &f->print_system_info) ||
           sym(h, "ggml_version", &f->ggml_version) || sym(h, "ggml_commit", &f->ggml_commit);
}

// The context defaults at the offsets we write: a library whose struct moved fails here
// rather than being handed sizes in the wrong fields.
static int check_defaults(const tb_llama_peer *p, char *err, size_t err_len)
{
    tb_llama_context_params cp = p->f.context_default_params();
    static const char *const names[4] = {"n_ctx", "n_batch", "n_ubatch", "n_seq_max"};
    for (int i = 0; i < 4; i++) {
        uint32_t v;
        memcpy(&v, cp.b + 4 * i, 4);
        if (v != cp_defaults[i])
            return failf(err, err_len,
                         "%s (ggml %s): ABI mismatch: llama_context_default_params has %u at "
                         "offset %d, expected %s = %u",
                         p->id.lib_path, p->id.ggml_version, v, 4 * i, names[i], cp_defaults[i]);
    }
    return 0;
}

int tb_llama_open(const char *dir_opt, tb_llama_peer **out, char *err, size_t err_len)
{
    static tb_llama_peer *opened; // libllama's backends and log are per process
    *out = NULL;
    if (opened) {
        *out = opened;
        return 0;
    }
    tb_llama_peer *p = calloc(1, sizeof *p);
    if (!p) abort();
    const char *source;
    tb_peer_dir(dir_opt, p->id.dir, sizeof p->id.dir, &source);
    snprintf(p->id.dir_source, sizeof p->id.dir_source, "%s", source);
    struct stat st;
    int rc = -1;
    if (stat(p->id.dir, &st) != 0 || !S_ISDIR(st.st_mode))
        failf(err, err_len, "%s (%s): no such directory", p->id.dir, source);
    else if (find_libllama(p->id.dir, p->id.lib_path, sizeof p->id.lib_path))
        failf(err, err_len, "%s (%s): no libllama.so or libllama.v*.so (not a llama.cpp build)",
              p->id.dir, source);
    else if (!(p->handle = dlopen(p->id.lib_path, RTLD_NOW | RTLD_LOCAL)))
        failf(err, err_len, "%s: cannot load: %s", p->id.lib_path, dlerror());
    else if (open_symbols(p->handle, &p->f))
        failf(err, err_len,
              "%s: not the llama.cpp C API tritbench knows (a function of llama.h or "
              "ggml_backend_load_all_from_path / ggml_version is missing: too old a build?)",
              p->id.lib_path);
    else
        rc = 0;
    if (!rc) {
        snprintf(p->id.ggml_version, sizeof p->id.ggml_version, "%s", p->f.ggml_version());
        snprintf(p->id.ggml_commit, sizeof p->id.ggml_commit, "%s", p->f.ggml_commit());
        rc = check_defaults(p, err, err_len);
    }
    if (rc) {
        if (p->handle) dlclose(p->handle);
        free(p);
        return -1;
    }
    p->f.log_set(on_log, p);
    p->f.backend_init();
    // A GGML_BACKEND_DL build has no CPU device until its backends are loaded.
    p->f.load_all_from_path(p->id.dir);
    tb_ggml_cpu_variant(p->id.dir, p->id.cpu_variant, sizeof p->id.cpu_variant);
    snprintf(p->id.system_info, sizeof p->id.system_info, "%s", p->f.print_system_info());
    size_t n = strlen(p->id.system_info);
    while (n && strchr(" |\n", p->id.system_info[n - 1])) p->id.system_info[--n] = '\0';
    *out = opened = p;
    return 0;
}

const tb_llama_identity *tb_llama_identity_of(const tb_llama_peer *p)
{
    return &p->id;
}

void tb_llama_close(tb_llama_peer *p)
{
    if (p->ctx) p->f.free_ctx(p->ctx);
    if (p->model) p->f.model_free(p->model);
    p->ctx = p->model = NULL;
}

int tb_llama_load(tb_llama_peer *p, const char *path, int n_ctx, int n_batch, char *err,
                  size_t err_len)
{
    tb_llama_close(p);
    log_reset(p);
    p->model = p->f.model_load_from_file(path, p->f.model_default_params());
    if (!p->model)
        return failf(err, err_len, "%s", *p->log_err ? p->log_err : "failed to load the model");
    p->n_vocab = p->f.vocab_n_tokens(p->f.model_get_vocab(p->model));
    tb_llama_context_params cp = p->f.context_default_params();
    const uint32_t want[3] = {(uint32_t)n_ctx, (uint32_t)n_batch, (uint32_t)n_batch};
    memcpy(cp.b + CP_N_CTX, &want[0], 4);
    memcpy(cp.b + CP_N_BATCH, &want[1], 4);
    memcpy(cp.b + CP_N_UBATCH, &want[2], 4);
    log_reset(p);
    p->ctx = p->f.init_from_model(p->model, cp);
    if (!p->ctx) {
        failf(err, err_len, "%s", *p->log_err ? p->log_err : "failed to create a context");
        tb_llama_close(p);
        return -1;
    }
    // The ABI check of the writes above: llama.cpp rounds n_ctx up (to 256), keeps the batches.
    uint32_t got[3] = {p->f.n_ctx(p->ctx), p->f.n_batch(p->ctx), p->f.n_ubatch(p->ctx)};
    if (got[0] < want[0] || got[1] != want[1] || got[2] != want[2]) {
        failf(err, err_len,
              "%s: ABI mismatch: asked n_ctx %u, n_batch %u, n_ubatch %u, the context has %u, %u, "
              "%u",
              p->id.lib_path, want[0], want[1], want[2], got[0], got[1], got[2]);
        tb_llama_close(p);
        return -2;
    }
    return 0;
}

int tb_llama_n_vocab(const tb_llama_peer *p)
{
    return p->n_vocab;
}

void tb_llama_set_threads(tb_llama_peer *p, int threads)
{
    p->f.set_n_threads(p->ctx, threads, threads);
}

// Decodes n tokens at the next positions and picks the greedy next token from the last logits.
static int run(tb_llama_peer *p, int32_t *ids, int n, int32_t *next, char *err, size_t err_len)
{
    tb_llama_batch b = p->f.batch_get_one(ids, n);
    if (b.n_tokens != n || b.token != ids)
        return failf(err, err_len, "%s: ABI mismatch: llama_batch_get_one(%p, %d) gave {%d, %p}",
                     p->id.lib_path, (void *)ids, n, b.n_tokens, (void *)b.token);
    log_reset(p);
    int32_t rc = p->f.decode(p->ctx, b);
    if (rc != 0)
        return failf(err, err_len, "llama_decode returned %d%s%s", rc, *p->log_err ? ": " : "",
                     p->log_err);
    const float *logits = p->f.get_logits_ith(p->ctx, -1);
    if (!logits) return failf(err, err_len, "llama_get_logits_ith(-1): no logits");
    int32_t best = 0;
    for (int32_t i = 1; i < p->n_vocab; i++)
        if (logits[i] > logits[best]) best = i;
    *next = best;
    return 0;
}

int tb_llama_prefill(tb_llama_peer *p, int32_t *ids, int n, int32_t *next, char *err,
                     size_t err_len)
{
    p->f.memory_clear(p->f.get_memory(p->ctx), 1); // the KV cache restarts at position 0
    return run(p, ids, n, next, err, err_len);
}

int tb_llama_step(tb_llama_peer *p, int32_t token, int32_t *next, char *err, size_t err_len)
{
    return run(p, &token, 1, next, err, err_len);
}
