// tritbench generate: run the engine on a model with one kernel, print the token ids, the
// prefill and decode speeds, and where the bytes went.
#include "cli.h"
#include "engine_cli.h"
#include "roofline.h"
#include "model.h"
#include "transformer.h"

#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench generate --model FILE|CONFIG [--kernel NAME] [--prompt-tokens 1,2,3]\n"
    "                          [--tokens N] [--threads T] [--seed S] [--temperature X]\n"
    "                          [--head f16|f32] [--profile] [--json]\n"
    "\n"
    "Runs the BitNet b1.58 engine: the prompt as one prefill (the kernel's GEMM path), then N\n"
    "tokens one at a time (GEMV path), greedy unless --temperature > 0. Prints the ids, prefill\n"
    "tokens/s, time to first token, decode tokens/s (first decode step timed apart), weight\n"
    "bytes by kind, bits per ternary weight, KV cache bytes, peak RSS, and decode speed as a\n"
    "fraction of the memory-bandwidth limit: bytes read per token (weights and KV cache) over\n"
    "the read bandwidth of a probe whose passes run before, between (every 8 steps, untimed)\n"
    "and after the decode steps; against its best pass (conservative) and its median.\n"
    "\n"
    "  --model FILE|CONFIG  a GGUF file, or a configuration (2B4T, 125M ... 100B, tiny,\n"
    "                       tiny256) built synthetically from --seed\n"
    "  --kernel NAME        default: the best kernel this CPU runs\n"
    "  --prompt-tokens L    comma-separated token ids (default 1)\n"
    "  --tokens N           tokens to generate (default 16)\n"
    "  --threads T          threads (default 1)\n"
    "  --seed S             seed of a synthetic model and of sampling (default 1)\n"
    "  --temperature X      0 = greedy (default)\n"
    "  --head f16|f32       precision of the output head (default f16; the embedding stays f32)\n"
    "  --profile            also time each phase of the steady decode steps (norms and\n"
    "                       quantization, qkv, attention, o, gate+up, down, head, sampling)\n"
    "  --json               machine-readable report\n"
    "Exit status: 0 success, 2 bad usage or input (or a model too big for this machine).\n";

int tb_parse_tokens(const char *cmd, const char *s, int *out, int max)
{
    int n = 0;
    const char *p = s;
    if (!*s) tb_usage_error(cmd, "--prompt-tokens: empty list");
    for (;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > (1 << 24) || (*end != ',' && *end != '\0'))
            tb_usage_error(cmd, "--prompt-tokens: '%s' must be comma-separated token ids >= 0", s);
        if (n == max) tb_usage_error(cmd, "--prompt-tokens: more than %d tokens", max);
        out[n++] = (int)v;
        if (*end == '\0') break;
        p = end + 1;
    }
    return n;
}

int cmd_generate(int argc, char **argv)
{
    const char *spec = NULL, *kname = NULL;
    int prompt[4096], n_prompt = 1, n_tokens = 16, threads = 1, json = 0, head_f16 = 1;
    int profile = 0;
    prompt[0] = 1;
    uint64_t seed = 1;
    double temperature = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (tb_flag(argv, i, "--json")) {
            json = 1;
        } else if (tb_flag(argv, i, "--profile")) {
            profile = 1;
        } else if ((v = tb_opt("generate", argc, argv, &i, "--model"))) {
            spec = v;
        } else if ((v = tb_opt("generate", argc, argv, &i, "--kernel"))) {
            kname = v;
        } else if ((v = tb_opt("generate", argc, argv, &i, "--prompt-tokens"))) {
            n_prompt = tb_parse_tokens("generate", v, prompt, 4096);
        } else if ((v = tb_opt("generate", argc, argv, &i, "--tokens"))) {
            n_tokens = (int)tb_parse_int("generate", "--tokens", v, 1, 1 << 20);
        } else if ((v = tb_opt("generate", argc, argv, &i, "--threads"))) {
            threads = (int)tb_parse_int("generate", "--threads", v, 1, 64);
        } else if ((v = tb_opt("generate", argc, argv, &i, "--seed"))) {
            seed = tb_parse_u64("generate", "--seed", v);
        } else if ((v = tb_opt("generate", argc, argv, &i, "--temperature"))) {
            char *end;
            temperature = strtod(v, &end);
            if (*end || !(temperature >= 0 && temperature <= 100))
                tb_usage_error("generate", "--temperature: '%s' must be a number in [0, 100]", v);
        } else if ((v = tb_opt("generate", argc, argv, &i, "--head"))) {
            if (strcmp(v, "f16") && strcmp(v, "f32"))
                tb_usage_error("generate", "--head: '%s' must be f16 or f32", v);
            head_f16 = strcmp(v, "f16") == 0;
        } else {
            tb_usage_error("generate", "unknown option '%s'", argv[i]);
        }
    }
    if (!spec) tb_usage_error("generate", "--model FILE|CONFIG is required");
    const tb_kernel *kn = tb_kernel_or_exit("generate", kname);
    // A configuration is checked against the memory before anything is allocated.
    tb_config pre;
    int max_seq = n_prompt + n_tokens;
    if (tb_config_find(spec, &pre) == 0)
        tb_check_memory_or_exit(
            "generate", &pre,
            tb_transformer_bytes_needed(&pre, kn, max_seq < pre.seq_len ? max_seq : pre.seq_len,
                                        n_prompt, head_f16, threads));
    tb_model m;
    tb_open_model_or_exit("generate", spec, seed, &m);
    const tb_config *c = &m.cfg;
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] >= c->vocab_size)
            tb_usage_error("generate", "--prompt-tokens: token %d is outside the vocabulary (%d)",
                           prompt[i], c->vocab_size);
    if (max_seq > c->seq_len)
        tb_usage_error("generate", "--tokens: %d prompt + %d tokens exceed the context %d",
                       n_prompt, n_tokens, c->seq_len);
    tb_check_memory_or_exit(
        "generate", c, tb_transformer_bytes_needed(c, kn, max_seq, n_prompt, head_f16, threads));

    tb_pool *pool = tb_pool_create(threads);
    tb_transformer t;
    char err[600];
    double t0 = tb_now();
    if (tb_transformer_build(&t, &m, kn, pool, max_seq, n_prompt, head_f16, err, sizeof err)) {
        fprintf(stderr, "tritbench generate: %s\n", err);
        return TB_EXIT_USAGE;
    }
    head_f16 = t.head_kn != NULL; // no FP16 kernel on this CPU: the head stays f32
    double load_s = tb_now() - t0;
    int *out = malloc((size_t)n_tokens * sizeof(int));
    uint64_t rng = seed ^ 0x5eed5eed5eedull;

    // Prefill: the whole prompt in one forward call; its last logits give the first token.
    t0 = tb_now();
    float *lg = tb_transformer_forward(&t, prompt, n_prompt, 0, 0);
    double prefill_s = tb_now() - t0;
    int V = c->vocab_size;
    out[0] = temperature > 0 ? tb_sample_temperature(lg, V, (float)temperature, &rng)
                             : tb_sample_argmax(lg, V);
    double ttft_s = tb_now() - t0;
    // Decode: one token per call. The first call (cold caches, page faults of the KV cache)
    // is timed apart from the steady state. The read-bandwidth probe runs before, between
    // (every TB_PROBE_EVERY steps, untimed) and after the decode steps, so that the roofline is
    // measured under the same conditions as the steps it bounds.
    tb_bw_probe *probe = tb_bw_probe_open(tb_roofline_bytes(0));
    for (int r = 0; r < 4; r++) tb_bw_probe_pass(probe, pool);
    double first_decode_s = 0, decode_s = 0, kv_read = 0;
    tb_profile prof = {{0}};
    for (int i = 1; i < n_tokens; i++) {
        if (i > 1 && i % TB_PROBE_EVERY == 0) tb_bw_probe_pass(probe, pool);
        t.prof = profile && i > 1 ? &prof : NULL;
        double s0 = tb_now();
        lg = tb_transformer_forward(&t, &out[i - 1], 1, n_prompt + i - 1, 0);
        out[i] = temperature > 0 ? tb_sample_temperature(lg, V, (float)temperature, &rng)
                                 : tb_sample_argmax(lg, V);
        double dt = tb_now() - s0;
        if (i == 1)
            first_decode_s = dt;
        else
            decode_s += dt, kv_read += (double)tb_transformer_kv_read_bytes(&t, n_prompt + i - 1);
    }
    for (int r = 0; r < 4; r++) tb_bw_probe_pass(probe, pool);
    int steady = n_tokens - 2;
    // Whatever the forward pass's phases do not cover: sampling (argmax or a softmax draw).
    double sampling_s = decode_s;
    for (int p = 0; p < TB_PHASE_COUNT; p++) sampling_s -= prof.seconds[p];
    double decode_tps = steady > 0 ? steady / decode_s : (n_tokens > 1 ? 1 / first_decode_s : 0);
    int nthr = tb_pool_threads(pool), passes = tb_bw_probe_passes(probe, nthr);
    double bw = tb_bw_probe_best(probe, nthr), bw_median = tb_bw_probe_median(probe, nthr);
    tb_bw_probe_close(probe);
    // Bytes a decode step reads: the weights, and the KV cache up to its position (averaged over
    // the steady steps).
    uint64_t weight_bytes = tb_transformer_weight_read_bytes(&t);
    double kv_per_token = steady > 0 ? kv_read / steady : 0;
    double per_token = (double)weight_bytes + kv_per_token;
    double limit_tps = bw / per_token;
    double bpw = 8.0 * (double)t.ternary_bytes / (double)t.ternary_params;

    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "model", spec);
        tb_config_to_json(doc, c);
        cJSON_AddStringToObject(doc, "kernel", kn->name);
        cJSON_AddNumberToObject(doc, "threads", tb_pool_threads(pool));
        cJSON_AddNumberToObject(doc, "seed", (double)seed);
        cJSON_AddNumberToObject(doc, "temperature", temperature);
        cJSON_AddStringToObject(doc, "head", head_f16 ? "f16" : "f32");
        cJSON *ids = cJSON_AddArrayToObject(doc, "tokens");
        for (int i = 0; i < n_tokens; i++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(out[i]));
        cJSON_AddNumberToObject(doc, "prompt_tokens", n_prompt);
        cJSON_AddNumberToObject(doc, "load_seconds", load_s);
        cJSON_AddNumberToObject(doc, "prefill_tokens_per_s", n_prompt / prefill_s);
        cJSON_AddNumberToObject(doc, "time_to_first_token_s", ttft_s);
        cJSON_AddNumberToObject(doc, "first_decode_s", first_decode_s);
        cJSON_AddNumberToObject(doc, "decode_tokens_per_s", decode_tps);
        cJSON_AddNumberToObject(doc, "ternary_bytes", (double)t.ternary_bytes);
        cJSON_AddNumberToObject(doc, "ternary_bits_per_weight", bpw);
        cJSON_AddNumberToObject(doc, "embedding_head_bytes", (double)t.embed_bytes);
        cJSON_AddNumberToObject(doc, "norm_bytes", (double)t.norm_bytes);
        cJSON_AddNumberToObject(doc, "kv_cache_bytes", (double)t.kv_bytes);
        tb_decode_limit_to_json(doc, weight_bytes, kv_per_token, bw, bw_median, passes, decode_tps);
        cJSON_AddNumberToObject(doc, "peak_rss_bytes", (double)tb_peak_rss());
        if (profile && steady > 0) {
            cJSON *pr = cJSON_AddObjectToObject(doc, "decode_profile_ms_per_token");
            for (int p = 0; p < TB_PHASE_COUNT; p++)
                cJSON_AddNumberToObject(pr, tb_phase_names[p], 1e3 * prof.seconds[p] / steady);
            cJSON_AddNumberToObject(pr, "sampling", 1e3 * sampling_s / steady);
        }
        if (tb_emit_json(doc, NULL)) return TB_EXIT_FAIL;
    } else {
        printf("model %s, kernel %s, %d thread%s, head %s, %s\n", spec, kn->name,
               tb_pool_threads(pool), tb_pool_threads(pool) > 1 ? "s" : "",
               head_f16 ? "f16" : "f32", temperature > 0 ? "sampling" : "greedy");
        printf("tokens:");
        for (int i = 0; i < n_tokens; i++) printf("%s%d", i ? "," : " ", out[i]);
        printf("\n");
        printf("prefill %d tokens: %.2f tokens/s; time to first token %.1f ms; first decode step "
               "%.1f ms; decode %.2f tokens/s (%d steps); load %.1f s\n",
               n_prompt, n_prompt / prefill_s, 1e3 * ttft_s, 1e3 * first_decode_s, decode_tps,
               steady > 0 ? steady : n_tokens - 1, load_s);
        printf("weights: ternary %.1f MB (%.3f bits/weight), embedding+head %.1f MB, norms %.2f "
               "MB; KV cache %.1f MB; peak RSS %.1f MB\n",
               t.ternary_bytes / 1e6, bpw, t.embed_bytes / 1e6, t.norm_bytes / 1e6,
               t.kv_bytes / 1e6, tb_peak_rss() / 1e6);
        printf("decode reads %.1f MB/token (weights %.1f MB, KV cache %.1f MB); read bandwidth "
               "best %.1f GB/s, median %.1f GB/s (%d passes around and between the steps); "
               "limit %.2f tokens/s; decode at %.0f%% of it (%.0f%% of the median)\n",
               per_token / 1e6, weight_bytes / 1e6, kv_per_token / 1e6, bw / 1e9, bw_median / 1e9,
               passes, limit_tps, 100 * decode_tps / limit_tps,
               100 * decode_tps * per_token / bw_median);
        if (profile && steady > 0) {
            printf("decode profile, ms per token (%% of the step):");
            for (int p = 0; p < TB_PHASE_COUNT; p++)
                printf(" %s %.2f (%.0f%%)", tb_phase_names[p], 1e3 * prof.seconds[p] / steady,
                       100 * prof.seconds[p] / decode_s);
            printf(" sampling %.2f (%.0f%%)\n", 1e3 * sampling_s / steady,
                   100 * sampling_s / decode_s);
        }
    }
    free(out);
    tb_transformer_free(&t);
    tb_pool_destroy(pool);
    tb_model_free(&m);
    return 0;
}
