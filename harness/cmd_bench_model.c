// tritbench bench model: end-to-end token rates of the whole transformer.
//
// The model is built once per kernel (packing takes long for large models) with a pool of the
// largest thread count; each thread count then runs on its own pool. A repetition is a prefill
// of the prompt (one GEMM call per linear layer) followed by decode steps (GEMV); the KV cache
// restarts at position 0 every repetition. Figures are medians over repetitions with their
// spread; the first repetition only warms up and is dropped.
#include "bench.h"
#include "cli.h"
#include "engine_cli.h"
#include "info.h"
#include "model.h"
#include "roofline.h"
#include "transformer.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench bench model --model CONFIG|FILE [--kernel A,B,...] [--threads T,...]\n"
    "                             [--prompt P] [--tokens N] [--reps R] [--head f16|f32]\n"
    "                             [--seed S] [--json FILE] [--save]\n"
    "\n"
    "Prefill tokens/s (the prompt in one forward call), decode tokens/s (one token a call),\n"
    "time to first token, joules per token where an energy source exists, weight bytes, bytes\n"
    "read per decoded token (weights and KV cache) against the read bandwidth, and peak RSS.\n"
    "The bandwidth probe of each entry runs before, between (every 8 decode steps, outside the\n"
    "timed and metered time) and after its repetitions; bw-limit% is against its best pass,\n"
    "med% against its median pass.\n"
    "  --model CONFIG|FILE  a configuration (2B4T, 125M ... 100B, tiny) or a GGUF file\n"
    "  --kernel LIST        kernels (default: the best this CPU runs)\n"
    "  --threads LIST       thread counts (default 1)\n"
    "  --prompt P           prompt tokens (default 128)\n"
    "  --tokens N           decoded tokens a repetition (default 128)\n"
    "  --reps R             timed repetitions after one warm-up (default 3)\n"
    "  --head f16|f32       output head precision (default f16)\n"
    "  --json FILE, --save, --roofline-mib N   as for 'bench kernels'\n";

#define MAX_LIST 16

typedef struct {
    double prefill_tps, decode_tps, ttft_s, decode_j_per_token;
    double kv_bytes_per_token; // KV cache read by a decode step, averaged over the steps
} rep_result;

// Median of one field over n repetitions; leaves the field's values in scratch.
static double median_of(const rep_result *r, int n, size_t offset, double *scratch)
{
    for (int i = 0; i < n; i++) memcpy(&scratch[i], (const char *)&r[i] + offset, sizeof(double));
    return tb_quantile(scratch, n, 0.5);
}

// One repetition: prefill, then decode steps. Every TB_PROBE_EVERY steps a pass of the
// bandwidth probe runs between two steps, outside the timed and metered decode time.
static void one_rep(tb_transformer *t, int prompt, int tokens, tb_energy *energy,
                    tb_bw_probe *probe, rep_result *r)
{
    int *ids = malloc(sizeof(int) * (size_t)(prompt + tokens));
    for (int i = 0; i < prompt; i++) ids[i] = 1 + i % (t->cfg.vocab_size - 1);
    double t0 = tb_now();
    float *lg = tb_transformer_forward(t, ids, prompt, 0, 0);
    double prefill = tb_now() - t0;
    ids[prompt] = tb_sample_argmax(lg, t->cfg.vocab_size);
    r->ttft_s = tb_now() - t0;
    r->prefill_tps = prompt / prefill;
    double dt = 0, joules = 0, kv = 0, j[8];
    const char *zones[8];
    int metered = 1;
    tb_energy_start(energy);
    double d0 = tb_now();
    for (int i = 1; i < tokens; i++) {
        if (i % TB_PROBE_EVERY == 0) {
            dt += tb_now() - d0;
            int nz = tb_energy_stop(energy, j, zones, 8);
            joules += nz > 0 ? j[0] : 0, metered &= nz > 0;
            tb_bw_probe_pass(probe, t->pool);
            tb_energy_start(energy);
            d0 = tb_now();
        }
        lg = tb_transformer_forward(t, &ids[prompt + i - 1], 1, prompt + i - 1, 0);
        ids[prompt + i] = tb_sample_argmax(lg, t->cfg.vocab_size);
        kv += (double)tb_transformer_kv_read_bytes(t, prompt + i - 1);
    }
    dt += tb_now() - d0;
    int nz = tb_energy_stop(energy, j, zones, 8);
    joules += nz > 0 ? j[0] : 0, metered &= nz > 0;
    r->decode_tps = tokens > 1 ? (tokens - 1) / dt : 0;
    r->decode_j_per_token = metered && tokens > 1 ? joules / (tokens - 1) : -1;
    r->kv_bytes_per_token = tokens > 1 ? kv / (tokens - 1) : 0;
    free(ids);
}

int cmd_bench_model(int argc, char **argv)
{
    const char *spec = NULL, *kernels = NULL, *json_path = NULL;
    int threads[MAX_LIST] = {1}, nthreads = 1, prompt = 128, tokens = 128, reps = 3;
    int head_f16 = 1, save = 0, roofline_mib = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--model"))) {
            spec = v;
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--kernel"))) {
            kernels = v;
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--threads"))) {
            nthreads = tb_parse_list("bench model", "--threads", v, threads, MAX_LIST, 1, 256);
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--prompt"))) {
            prompt = (int)tb_parse_int("bench model", "--prompt", v, 1, 1 << 16);
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--tokens"))) {
            tokens = (int)tb_parse_int("bench model", "--tokens", v, 2, 1 << 16);
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--reps"))) {
            reps = (int)tb_parse_int("bench model", "--reps", v, 1, 1000);
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--head"))) {
            if (strcmp(v, "f16") && strcmp(v, "f32"))
                tb_usage_error("bench model", "--head: '%s' must be f16 or f32", v);
            head_f16 = strcmp(v, "f16") == 0;
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--seed"))) {
            seed = tb_parse_u64("bench model", "--seed", v);
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--json"))) {
            json_path = v;
        } else if ((v = tb_opt("bench model", argc, argv, &i, "--roofline-mib"))) {
            roofline_mib = (int)tb_parse_int("bench model", "--roofline-mib", v, 1, 1 << 16);
        } else if (tb_flag(argv, i, "--save")) {
            save = 1;
        } else {
            tb_usage_error("bench model", "unknown option '%s'", argv[i]);
        }
    }
    if (!spec) tb_usage_error("bench model", "--model CONFIG|FILE is required");
    const tb_kernel *sel[64];
    int nsel = 1;
    if (kernels)
        nsel = tb_select_kernels("bench model", kernels, sel, 64);
    else
        sel[0] = tb_kernel_or_exit("bench model", NULL);
    int max_threads = 1;
    for (int i = 0; i < nthreads; i++)
        max_threads = threads[i] > max_threads ? threads[i] : max_threads;
    const int max_seq = prompt + tokens;
    tb_config pre;
    if (tb_config_find(spec, &pre) == 0) {
        if (max_seq > pre.seq_len)
            tb_usage_error("bench model", "--prompt %d + --tokens %d exceed the context %d", prompt,
                           tokens, pre.seq_len);
        for (int i = 0; i < nsel; i++)
            tb_check_memory_or_exit(
                "bench model", &pre,
                tb_transformer_bytes_needed(&pre, sel[i], max_seq, prompt, head_f16, max_threads));
    }
    tb_model model;
    tb_open_model_or_exit("bench model", spec, seed, &model);
    const tb_config *c = &model.cfg;
    if (max_seq > c->seq_len)
        tb_usage_error("bench model", "--prompt %d + --tokens %d exceed the context %d", prompt,
                       tokens, c->seq_len);

    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "model");
    cJSON_AddItemToObject(doc, "info", tb_info_collect(NULL, NULL));
    tb_energy *energy = tb_energy_open(NULL);
    tb_counters *counters = tb_counters_open();
    tb_sources_to_json(cJSON_AddObjectToObject(doc, "sources"), energy, counters);
    cJSON *par = cJSON_AddObjectToObject(doc, "parameters");
    cJSON_AddStringToObject(par, "model", spec);
    tb_config_to_json(par, c);
    cJSON_AddNumberToObject(par, "prompt", prompt);
    cJSON_AddNumberToObject(par, "tokens", tokens);
    cJSON_AddNumberToObject(par, "reps", reps);
    cJSON_AddNumberToObject(par, "seed", (double)seed);
    cJSON_AddStringToObject(par, "head", head_f16 ? "f16" : "f32");
    cJSON *roof = cJSON_AddObjectToObject(doc, "roofline");
    cJSON *entries = cJSON_AddArrayToObject(doc, "entries");
    printf("bench model %s: prompt %d, %d decoded tokens, %d repetitions (+1 warm-up), head %s; "
           "energy: %s\n",
           spec, prompt, tokens, reps, head_f16 ? "f16" : "f32",
           tb_energy_available(energy) ? "RAPL" : tb_energy_reason(energy));
    printf("%-14s %3s %10s %10s %8s %9s %8s %10s %8s %9s %8s\n", "kernel", "thr", "prefill/s",
           "decode/s", "spread%", "ttft_ms", "J/token", "MB/token", "bw GB/s", "bw-limit%", "med%");

    tb_pool **pools = calloc((size_t)nthreads, sizeof(tb_pool *));
    for (int ti = 0; ti < nthreads; ti++) pools[ti] = tb_pool_create(threads[ti]);
    tb_pool *build_pool = tb_pool_create(max_threads);
    rep_result *rr = calloc((size_t)reps + 1, sizeof(rep_result));
    double *v = calloc((size_t)reps, sizeof(double));
    for (int ki = 0; ki < nsel; ki++) {
        tb_transformer t;
        char err[600];
        if (tb_transformer_build(&t, &model, sel[ki], build_pool, max_seq, prompt, head_f16, err,
                                 sizeof err)) {
            fprintf(stderr, "tritbench bench model: %s\n", err);
            return TB_EXIT_USAGE;
        }
        head_f16 = t.head_kn != NULL; // no FP16 kernel on this CPU: the head stays f32
        uint64_t weights = tb_transformer_weight_read_bytes(&t);
        for (int ti = 0; ti < nthreads; ti++) {
            t.pool = pools[ti]; // buffers were sized for the largest pool
            // The bandwidth probe of this entry: passes before, inside (tb one_rep) and after
            // its repetitions, so that it sees the conditions the decode steps saw.
            tb_bw_probe *probe = tb_bw_probe_open(tb_roofline_bytes(roofline_mib));
            for (int r = 0; r < 2; r++) tb_bw_probe_pass(probe, t.pool);
            for (int r = 0; r <= reps; r++) one_rep(&t, prompt, tokens, energy, probe, &rr[r]);
            for (int r = 0; r < 2; r++) tb_bw_probe_pass(probe, t.pool);
            double bw = tb_bw_probe_best(probe, threads[ti]);
            double bw_median = tb_bw_probe_median(probe, threads[ti]);
            int passes = tb_bw_probe_passes(probe, threads[ti]);
            tb_bw_probe_close(probe);
            char key[16];
            snprintf(key, sizeof key, "%d", threads[ti]);
            cJSON *seen = cJSON_GetObjectItem(roof, key);
            if (!seen)
                cJSON_AddNumberToObject(roof, key, bw);
            else if (bw > seen->valuedouble)
                cJSON_SetNumberValue(seen, bw);
            rep_result *timed = rr + 1; // the warm-up is dropped
            double prefill = median_of(timed, reps, offsetof(rep_result, prefill_tps), v);
            double ttft = median_of(timed, reps, offsetof(rep_result, ttft_s), v);
            double jpt = median_of(timed, reps, offsetof(rep_result, decode_j_per_token), v);
            double kv = median_of(timed, reps, offsetof(rep_result, kv_bytes_per_token), v);
            double decode = median_of(timed, reps, offsetof(rep_result, decode_tps), v);
            double spread = tb_quantile(v, reps, 1.0) - tb_quantile(v, reps, 0.0);
            double per_token = (double)weights + kv;
            double limit = bw / per_token;
            char jbuf[32];
            snprintf(jbuf, sizeof jbuf, jpt >= 0 ? "%.3f" : "n/a", jpt);
            printf("%-14s %3d %10.2f %10.2f %8.1f %9.1f %8s %10.1f %8.1f %9.0f %8.0f\n",
                   sel[ki]->name, threads[ti], prefill, decode, 100 * spread / decode, 1e3 * ttft,
                   jbuf, per_token / 1e6, bw / 1e9, 100 * decode / limit,
                   100 * decode * per_token / bw_median);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kernel", sel[ki]->name);
            cJSON_AddNumberToObject(o, "threads", threads[ti]);
            cJSON_AddNumberToObject(o, "prefill_tokens_per_s", prefill);
            cJSON_AddNumberToObject(o, "decode_tokens_per_s", decode);
            cJSON_AddNumberToObject(o, "decode_tokens_per_s_spread", spread);
            cJSON_AddNumberToObject(o, "time_to_first_token_s", ttft);
            if (jpt >= 0)
                cJSON_AddNumberToObject(o, "energy_j_per_token", jpt);
            else {
                cJSON_AddNullToObject(o, "energy_j_per_token");
                cJSON_AddStringToObject(o, "energy_reason", tb_energy_reason(energy));
            }
            cJSON_AddNullToObject(o, "counters");
            cJSON_AddStringToObject(o, "counters_reason",
                                    tb_counters_available(counters) ? "not collected end to end"
                                                                    : tb_counters_reason(counters));
            cJSON_AddNumberToObject(o, "ternary_weight_bytes", (double)t.ternary_bytes);
            cJSON_AddNumberToObject(o, "ternary_bits_per_weight",
                                    8.0 * (double)t.ternary_bytes / (double)t.ternary_params);
            cJSON_AddNumberToObject(o, "embedding_head_bytes", (double)t.embed_bytes);
            cJSON_AddNumberToObject(o, "kv_cache_bytes", (double)t.kv_bytes);
            tb_decode_limit_to_json(o, weights, kv, bw, bw_median, passes, decode);
            cJSON_AddItemToArray(entries, o);
        }
        t.pool = build_pool;
        tb_transformer_free(&t);
    }
    cJSON_AddNumberToObject(doc, "peak_rss_bytes", (double)tb_peak_rss());
    printf("peak RSS %.1f MB. bw GB/s: best pass of the read-bandwidth probe, run before, between "
           "(every %d decode steps, untimed) and after the entry's repetitions; bw-limit%%: decode "
           "against bw / MB a token; med%%: against the median pass\n",
           tb_peak_rss() / 1e6, TB_PROBE_EVERY);
    for (int ti = 0; ti < nthreads; ti++) tb_pool_destroy(pools[ti]);
    tb_pool_destroy(build_pool);
    free(pools), free(rr), free(v);
    tb_model_free(&model);
    tb_energy_close(energy);
    tb_counters_close(counters);
    return tb_finish_results(doc, json_path, save, "model");
}
