// An experiment's steps expanded into points: one runner call each, with the memory it needs and
// a rough time estimate (for --dry-run; the estimates assume ~10 GB/s of read bandwidth).
#include "experiment.h"

#include "bench_case.h"
#include "model.h"
#include "roofline.h"
#include "select.h"
#include "transformer.h"

#include <stdio.h>
#include <string.h>

// Assumed read bandwidth and per-parameter build cost of the estimates.
#define EST_BYTES_PER_S   10e9
#define EST_BUILD_S_PER_P 4e-9
#define EST_VALIDATE_S    0.5 // validation of one kernel on one shape
// Keep a tenth of MemAvailable in reserve, as the runners do.
#define MEMORY_RESERVE(avail) ((avail) / 10 * 9)

static tb_point *next(tb_point *points, int *n, int max, const tb_step *s, tb_step_kind kind)
{
    if (*n == max) return NULL;
    tb_point *p = &points[(*n)++];
    memset(p, 0, sizeof *p);
    p->step = s, p->kind = kind;
    return p;
}

// Memory of a kernels point: every kernel's weight copies are set up at once (they are timed
// interleaved), plus the bandwidth probe on the largest working set.
static uint64_t kernels_need(const tb_step *s, int n, int k, int cold)
{
    uint64_t sum = 0, most = 0;
    const int all = strcmp(s->kernels, "all") == 0;
    char list[sizeof s->kernels], *save = NULL, *name = NULL;
    snprintf(list, sizeof list, "%s", s->kernels);
    for (int i = 0;; i++) {
        const tb_kernel *kn;
        if (all) {
            if (i == tb_kernel_count()) break;
            kn = tb_kernel_at(i);
            if (!tb_kernel_supported(kn, NULL, 0)) continue;
        } else {
            name = strtok_r(i ? NULL : list, ",", &save);
            if (!name) break;
            if (!(kn = tb_kernel_find(name))) continue;
        }
        uint64_t b = (uint64_t)kn->packed_size(n, k) * (uint64_t)tb_bench_copies(kn, n, k, cold);
        sum += b, most = b > most ? b : most;
    }
    return sum + tb_roof_buffer_bytes(most, (size_t)s->roofline_mib << 20);
}

static int bench_kernels_points(const tb_step *s, tb_point *points, int n, int max)
{
    int shapes[TB_SHAPES_MAX][2], nshapes = 0;
    tb_error err;
    if (s->shape[0]) shapes[0][0] = s->shape[0], shapes[0][1] = s->shape[1], nshapes = 1;
    for (int i = 0; i < s->nmodels; i++) {
        int more[TB_SHAPES_MAX][2], nmore;
        if (tb_config_shapes(s->models[i], more, TB_SHAPES_MAX, &nmore, &err)) continue;
        for (int j = 0; j < nmore; j++) {
            int seen = 0;
            for (int q = 0; q < nshapes; q++)
                seen |= shapes[q][0] == more[j][0] && shapes[q][1] == more[j][1];
            if (!seen && nshapes < TB_SHAPES_MAX)
                memcpy(shapes[nshapes++], more[j], sizeof more[j]);
        }
    }
    int nkernels = 1;
    for (const char *c = s->kernels; *c; c++) nkernels += *c == ',';
    for (int w = 0; w < 2; w++) {
        if (!(w ? s->weights_cold : s->weights_hot)) continue;
        for (int t = 0; t < s->nthreads; t++)
            for (int sh = 0; sh < nshapes; sh++)
                for (int q = 0; q < s->nm; q++) {
                    tb_point *p = next(points, &n, max, s, TB_STEP_BENCH_KERNELS);
                    if (!p) return n;
                    tb_bench_kernels_params *b = &p->params.bench_kernels;
                    tb_bench_kernels_defaults(b);
                    *b = (tb_bench_kernels_params){.kernels = s->kernels,
                                                   .shapes = {{shapes[sh][0], shapes[sh][1]}},
                                                   .nshapes = 1,
                                                   .m = {s->m[q]},
                                                   .nm = 1,
                                                   .threads = {s->threads[t]},
                                                   .nthreads = 1,
                                                   .rounds = s->rounds,
                                                   .block_ms = s->block_ms,
                                                   .baseline = s->baseline[0] ? s->baseline : NULL,
                                                   .cold = w,
                                                   .seed = s->seed,
                                                   .roofline_mib = s->roofline_mib};
                    p->bytes_needed = kernels_need(s, shapes[sh][0], shapes[sh][1], w);
                    snprintf(p->key, sizeof p->key, "%s/%dx%d/m=%d/threads=%d/%s", s->name,
                             shapes[sh][0], shapes[sh][1], s->m[q], s->threads[t],
                             w ? "cold" : "hot");
                    p->seconds_estimate = 1 + nkernels * (EST_VALIDATE_S + (w ? 2.0 : 0.2) +
                                                          s->rounds * 1.2e-3 * s->block_ms);
                }
    }
    return n;
}

// Memory of a whole bench-model run of every kernel of the step on a configuration (0 for a
// file: its header tells, once opened), and a time estimate.
static uint64_t model_need(const tb_step *s, const char *model, int threads, double *seconds)
{
    tb_config c;
    *seconds = 5;
    if (tb_config_find(model, &c) != 0) return 0;
    uint64_t need = 0;
    char list[sizeof s->kernels], *save = NULL;
    snprintf(list, sizeof list, "%s", s->kernels);
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const tb_kernel *kn = tb_kernel_find(name);
        if (!kn) continue;
        uint64_t b =
            tb_transformer_bytes_needed(&c, kn, s->prompt + s->tokens, s->prompt, s->head, threads);
        b += b < tb_roof_plateau_bytes() ? b : tb_roof_plateau_bytes(); // the bandwidth probe
        need = b > need ? b : need;
        double params = (double)tb_model_ternary_params(&c);
        double bytes_per_token = params * 8.0 * (double)kn->packed_size(256, 256) / (256 * 256 * 8);
        *seconds += params * EST_BUILD_S_PER_P +
                    (s->reps + 1) * (s->tokens + s->prompt) * bytes_per_token / EST_BYTES_PER_S;
    }
    return need;
}

static int max_threads(const tb_step *s)
{
    int m = s->threads[0];
    for (int k = 1; k < s->nthreads; k++) m = s->threads[k] > m ? s->threads[k] : m;
    return m;
}

// One point per model. A bench-model point runs every thread count on one build of the model
// (building is the slow part of large models).
static int model_points(const tb_step *s, tb_point *points, int n, int max)
{
    uint64_t avail = tb_mem_available();
    for (int i = 0; i < s->nmodels; i++) {
        tb_point *p = next(points, &n, max, s, s->kind);
        if (!p) return n;
        p->bytes_needed = model_need(s, s->models[i], max_threads(s), &p->seconds_estimate);
        int too_big = avail && p->bytes_needed > MEMORY_RESERVE(avail);
        if (s->kind == TB_STEP_PERPLEXITY) {
            tb_perplexity_params *q = &p->params.perplexity;
            tb_perplexity_defaults(q);
            q->model = s->models[i], q->kernels = s->kernels, q->ctx = s->ctx;
            q->chunks = s->chunks, q->threads = s->threads[0], q->seed = s->seed;
            if (s->text_is_tokens)
                q->tokens_path = s->text;
            else
                q->text_path = s->text;
            snprintf(p->key, sizeof p->key, "%s/%s/ctx=%d", s->name, s->models[i], s->ctx);
            p->skipped = too_big;
            continue;
        }
        if (s->kind == TB_STEP_VALIDATE_MODEL) {
            tb_validate_model_params *v = &p->params.validate_model;
            tb_validate_model_defaults(v);
            v->model = s->models[i], v->kernel = s->kernels, v->tokens = s->tokens;
            v->threads = s->threads[0], v->seed = s->seed;
            snprintf(p->key, sizeof p->key, "%s/%s", s->name, s->models[i]);
            p->skipped = too_big;
            continue;
        }
        tb_bench_model_params *b = &p->params.bench_model;
        tb_bench_model_defaults(b);
        b->model = s->models[i], b->kernels = s->kernels, b->nthreads = s->nthreads;
        memcpy(b->threads, s->threads, sizeof b->threads);
        b->prompt = s->prompt, b->tokens = s->tokens, b->reps = s->reps;
        b->heads[0] = s->head, b->nheads = 1, b->seed = s->seed, b->roofline_mib = s->roofline_mib;
        p->sampled = s->sampling == TB_SAMPLE_ALWAYS || (too_big && s->sampling == TB_SAMPLE_AUTO);
        // The peer runs the whole model file: a model too big for this machine is skipped.
        if (s->peer[0])
            p->sampled = 0, p->skipped = too_big, b->peer = s->peer;
        else
            p->skipped = too_big && s->sampling == TB_SAMPLE_NEVER;
        b->sample_layers = p->sampled;
        // Layer-sampled: the model is built and run at 2 and 6 layers instead of all of them.
        tb_config c;
        if (p->sampled && tb_config_find(s->models[i], &c) == 0)
            p->seconds_estimate *= 8.0 / c.n_layers;
        snprintf(p->key, sizeof p->key, "%s/%s%s", s->name, s->models[i],
                 p->sampled ? "/layer-sampled" : "");
    }
    return n;
}

int tb_experiment_points(const tb_experiment *e, tb_point *points, int max)
{
    int n = 0;
    for (int i = 0; i < e->nsteps; i++) {
        const tb_step *s = &e->steps[i];
        n = s->kind == TB_STEP_BENCH_KERNELS ? bench_kernels_points(s, points, n, max)
                                             : model_points(s, points, n, max);
    }
    return n;
}
