// tritbench generate: the engine on a model with one kernel (runners/generate.c).
#include "commands.h"
#include "options.h"

#include <stdio.h>

static const char *help =
    "usage: tritbench generate --model FILE|CONFIG [--kernel NAME] [--prompt-tokens 1,2,3]\n"
    "                          [--prompt TEXT | --prompt-file FILE] [--chat] [--system TEXT]\n"
    "                          [--tokens N] [--threads T] [--seed S] [--temperature X]\n"
    "                          [--head f32|f16|q8|q4] [--ffn relu2|silu] [--profile]\n"
    "                          [--json] [--out FILE]\n"
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
    "  --kernel NAME        the kernel of every product; default: the tuned decode and prefill\n"
    "                       kernels of results/<cpu>/tune.json ('tritbench tune'), else the\n"
    "                       highest-ranked kernel this CPU runs\n"
    "  --prompt-tokens L    comma-separated token ids (default 1)\n"
    "  --prompt TEXT        the prompt as text, by the model file's own tokenizer (BOS first);\n"
    "                       the reply is printed as it is generated and stops at the end of\n"
    "                       text. --prompt-file FILE: the same from a file\n"
    "  --chat               the 2B4T chat template around the prompt: <|begin_of_text|>System:\n"
    "                       TEXT<|eot_id|>User: PROMPT<|eot_id|>Assistant: (--system TEXT sets\n"
    "                       the system message; without it there is no System part)\n"
    "  --tokens N           tokens to generate (default 16)\n"
    "  --threads T          threads (default 1)\n"
    "  --seed S             seed of a synthetic model and of sampling (default 1)\n"
    "  --temperature X      0 = greedy (default)\n"
    "  --head FMT           format of the output head: f16 (default), f32, q8 (int8, a scale\n"
    "                       per row) or q4 (4-bit, a scale per 32 weights); q8 and q4 quantize\n"
    "                       the head input to int8 per token. The embedding stays f32\n"
    "  --ffn relu2|silu     the FFN activation, whatever the model says: relu2 (relu(gate)^2 *\n"
    "                       up, BitNet b1.58 2B4T) or silu (silu(gate) * up, the older BitNet\n"
    "                       b1.58 models); default: the file's <arch>.hidden_activation, else\n"
    "                       its architecture (bitnet: silu; bitnet-b1.58, bitnet-25: relu2);\n"
    "                       configurations: relu2\n"
    "  --profile            also time each phase of the steady decode steps (norms and\n"
    "                       quantization, qkv, attention, o, gate+up, down, head, sampling)\n"
    "  --json               the document on standard output instead of the report\n"
    "  --out FILE           also write the document to FILE (atomically)\n"
    "Exit status: 0 success, 2 bad usage or input (or a model too big for this machine).\n";

typedef struct {
    tb_generate_params run;
    int json;
    const char *out;
} generate_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("model", generate_options, run.model),
    TB_OPT_STRING_ROW("kernel", generate_options, run.kernel),
    TB_OPT_INTS_ROW("prompt-tokens", generate_options, run.prompt, run.n_prompt, 0, 1 << 24, 1,
                    TB_PROMPT_MAX),
    TB_OPT_STRING_ROW("prompt", generate_options, run.text),
    TB_OPT_STRING_ROW("prompt-file", generate_options, run.text_path),
    TB_OPT_FLAG_ROW("chat", generate_options, run.chat),
    TB_OPT_STRING_ROW("system", generate_options, run.system),
    TB_OPT_INT_ROW("tokens", generate_options, run.tokens, 1, TB_TOKENS_MAX),
    TB_OPT_INT_ROW("threads", generate_options, run.threads, 1, TB_THREADS_MAX),
    TB_OPT_U64_ROW("seed", generate_options, run.seed),
    TB_OPT_DOUBLE_ROW("temperature", generate_options, run.temperature, 0, 100),
    TB_OPT_CHOICE_ROW("head", generate_options, run.head, "f32,f16,q8,q4"),
    TB_OPT_CHOICE_ROW("ffn", generate_options, run.ffn, TB_FFN_CHOICES),
    TB_OPT_FLAG_ROW("profile", generate_options, run.profile),
    TB_OPT_FLAG_ROW("json", generate_options, json),
    TB_OPT_STRING_ROW("out", generate_options, out),
};

static void render_profile(const cJSON *doc, int steady)
{
    const cJSON *pr = cJSON_GetObjectItem(doc, "decode_profile_ms_per_token");
    if (!pr || steady <= 0) return;
    double step_ms = 1e3 / tb_jnum(doc, "decode_tokens_per_s");
    printf("decode profile, ms per token (%% of the step):");
    const cJSON *phase;
    cJSON_ArrayForEach(phase, pr) printf(" %s %.2f (%.0f%%)", phase->string, phase->valuedouble,
                                         100 * phase->valuedouble / step_ms);
    printf("\n");
}

static void render(const cJSON *doc)
{
    const cJSON *tokens = cJSON_GetObjectItem(doc, "tokens"), *id;
    int threads = (int)tb_jnum(doc, "threads"), n_tokens = cJSON_GetArraySize(tokens);
    int steady = n_tokens - 2, n_prompt = (int)tb_jnum(doc, "prompt_tokens");
    const cJSON *cfg = cJSON_GetObjectItem(doc, "config");
    printf("model %s, kernel %s (prefill %s), %d thread%s, head %s, FFN %s (%s), %s\n",
           tb_jstr(doc, "model"), tb_jstr(doc, "decode_kernel"), tb_jstr(doc, "prefill_kernel"),
           threads, threads > 1 ? "s" : "", tb_jstr(doc, "head"), tb_jstr(cfg, "ffn"),
           tb_jstr(cfg, "ffn_source"), tb_jnum(doc, "temperature") > 0 ? "sampling" : "greedy");
    printf("kernel choice: %s\n", tb_jstr(doc, "kernel_choice"));
    printf("tokens:");
    cJSON_ArrayForEach(id, tokens) printf("%s%d", id == tokens->child ? " " : ",", id->valueint);
    printf("\n");
    printf("prefill %d tokens: %.2f tokens/s; time to first token %.1f ms; first decode step "
           "%.1f ms; decode %.2f tokens/s (%d steps); load %.1f s\n",
           n_prompt, tb_jnum(doc, "prefill_tokens_per_s"),
           1e3 * tb_jnum(doc, "time_to_first_token_s"), 1e3 * tb_jnum(doc, "first_decode_s"),
           tb_jnum(doc, "decode_tokens_per_s"), steady > 0 ? steady : n_tokens - 1,
           tb_jnum(doc, "load_seconds"));
    printf("weights: ternary %.1f MB (%.3f bits/weight), embedding+head %.1f MB, norms %.2f MB; KV "
           "cache %.1f MB; peak RSS %.1f MB\n",
           tb_jnum(doc, "ternary_bytes") / 1e6, tb_jnum(doc, "ternary_bits_per_weight"),
           tb_jnum(doc, "embedding_head_bytes") / 1e6, tb_jnum(doc, "norm_bytes") / 1e6,
           tb_jnum(doc, "kv_cache_bytes") / 1e6, tb_jnum(doc, "peak_rss_bytes") / 1e6);
    double bw = tb_jnum(doc, "read_bandwidth_bytes_per_s"),
           per_token = tb_jnum(doc, "bytes_read_per_token");
    printf("decode reads %.1f MB/token (weights %.1f MB, KV cache %.1f MB); read bandwidth best "
           "%.1f GB/s, median %.1f GB/s (%d passes around and between the steps); limit %.2f "
           "tokens/s; decode at %.0f%% of it (%.0f%% of the median; %.0f%% of the passes beside "
           "its steps, the median of per-stretch ratios)\n",
           per_token / 1e6, tb_jnum(doc, "weight_bytes_read_per_token") / 1e6,
           tb_jnum(doc, "kv_cache_bytes_read_per_token") / 1e6, bw / 1e9,
           tb_jnum(doc, "read_bandwidth_median_bytes_per_s") / 1e9,
           (int)tb_jnum(doc, "read_bandwidth_passes"), bw / per_token,
           100 * tb_jnum(doc, "decode_fraction_of_bandwidth_limit"),
           100 * tb_jnum(doc, "decode_fraction_of_median_bandwidth"),
           100 * tb_jnum(doc, "decode_fraction_of_adjacent_passes"));
    render_profile(doc, steady);
}

// The reply as it comes (standard output, flushed: a terminal shows it token by token).
static void print_text(void *ctx, const char *piece, size_t len)
{
    (void)ctx;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
}

int cmd_generate(int argc, char **argv)
{
    generate_options o = {0};
    tb_generate_defaults(&o.run);
    int rc = tb_parse_options("generate", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.run.text && o.run.text_path)
        return tb_usage_error("generate", "give --prompt or --prompt-file, not both");
    if ((o.run.chat || o.run.system) && !o.run.text && !o.run.text_path)
        return tb_usage_error("generate", "--chat and --system go with --prompt TEXT");
    if (o.run.system) o.run.chat = 1;
    int texting = o.run.text || o.run.text_path;
    if (texting && !o.json) o.run.on_text = print_text; // with --json the document is the output
    cJSON *doc;
    tb_error err;
    if ((rc = tb_generate_run(&o.run, NULL, &doc, &err))) return tb_run_error("generate", rc, &err);
    if (texting && !o.json)
        printf("%s\n\n", cJSON_IsTrue(cJSON_GetObjectItem(doc, "stopped_at_end_of_text"))
                             ? ""
                             : " [--tokens reached]");
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, TB_OK);
}
