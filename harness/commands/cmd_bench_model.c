// tritbench bench model: end-to-end token rates of the whole transformer
// (runners/bench_model.c).
#include "commands.h"
#include "options.h"
#include "roofline.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench bench model --model CONFIG|FILE [--kernel A,B,...] [--threads T,...]\n"
    "                             [--prompt P] [--tokens N] [--reps R] [--head LIST]\n"
    "                             [--seed S] [--ffn relu2|silu] [--peer llama.cpp\n"
    "                             [--peer-lib DIR]]\n"
    "                             [--json] [--out FILE] [--save]\n"
    "\n"
    "Prefill tokens/s (the prompt in one forward call), decode tokens/s (one token a call),\n"
    "time to first token, joules per token where an energy source exists, weight bytes, bytes\n"
    "read per decoded token (weights and KV cache) against the read bandwidth, and peak RSS.\n"
    "The bandwidth probe of each entry reads a buffer at least as large as what a decode step\n"
    "streams (weights, head, KV cache; capped at the plateau, see 'info --bandwidth'), before,\n"
    "between (every 8 decode steps, outside the timed and metered time) and after its\n"
    "repetitions. roof% is the median over the stretches of decode steps between two passes\n"
    "of the stretch's read rate against the mean of those two passes (these VMs change speed\n"
    "state within a run); best% is against the best pass of the run.\n"
    "  --model CONFIG|FILE  a configuration (2B4T, 125M ... 100B, tiny) or a GGUF file\n"
    "  --kernel LIST        kernels, each for every product (default: per thread count the\n"
    "                       tuned decode and prefill kernels of results/<cpu>/tune.json, else\n"
    "                       the highest-ranked kernel this CPU runs)\n"
    "  --threads LIST       thread counts (default 1)\n"
    "  --prompt P           prompt tokens (default 128)\n"
    "  --tokens N           decoded tokens a repetition (default 128)\n"
    "  --reps R             timed repetitions after one warm-up (default 3)\n"
    "  --head LIST          output head formats, each timed on the same engine, taking turns at\n"
    "                       each thread count: f16 (default), f32, q8 (int8, a scale per row),\n"
    "                       q4 (4-bit, a scale per 32 weights); 'vs' is decode tokens/s against\n"
    "                       the first head listed\n"
    "  --ffn relu2|silu     the FFN activation, whatever the model says: relu2 (relu(gate)^2 *\n"
    "                       up, BitNet b1.58 2B4T) or silu (silu(gate) * up, the older BitNet\n"
    "                       b1.58 models); default: the file's <arch>.hidden_activation, else\n"
    "                       its architecture (bitnet: silu; bitnet-b1.58, bitnet-25: relu2);\n"
    "                       configurations: relu2\n"
    "                       (a peer computes what the file says)\n"
    "  --layer-sampled      time 2 and 6 layers of the configuration and extrapolate to all\n"
    "                       (for models larger than memory; every figure says so)\n"
    "  --peer llama.cpp     also time llama.cpp's engine (its C API, libllama loaded at run\n"
    "                       time) on the same GGUF file, the same prompt ids and greedy steps,\n"
    "                       its repetitions taking turns with tritbench's; a configuration is\n"
    "                       first written to a temporary TQ2_0 file that both engines read.\n"
    "                       Prints both rates and tritbench/llama.cpp ratios; a file llama.cpp\n"
    "                       cannot run is reported with its reason. (llama.cpp 0ad4a86 has no\n"
    "                       relu^2: it runs BitNet's FFN as a SiLU GLU, the same work)\n"
    "  --peer-lib DIR       where libllama is (default: $TRITBENCH_GGML_DIR, else the\n"
    "                       directory .ci/setup installs the pinned build into)\n"
    "  --json, --out FILE, --save, --roofline-mib N   as for 'bench kernels'\n";

typedef struct {
    tb_bench_model_params run;
    int json, save;
    const char *out, *head;
} bench_model_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("model", bench_model_options, run.model),
    TB_OPT_STRING_ROW("kernel", bench_model_options, run.kernels),
    TB_OPT_INTS_ROW("threads", bench_model_options, run.threads, run.nthreads, 1, TB_THREADS_MAX, 1,
                    TB_LIST_MAX),
    TB_OPT_INT_ROW("prompt", bench_model_options, run.prompt, 1, TB_TOKENS_MAX),
    TB_OPT_INT_ROW("tokens", bench_model_options, run.tokens, 2, TB_TOKENS_MAX),
    TB_OPT_INT_ROW("reps", bench_model_options, run.reps, 1, 1000),
    TB_OPT_STRING_ROW("head", bench_model_options, head),
    TB_OPT_U64_ROW("seed", bench_model_options, run.seed),
    TB_OPT_INT_ROW("roofline-mib", bench_model_options, run.roofline_mib, 1, 1 << 16),
    TB_OPT_FLAG_ROW("json", bench_model_options, json),
    TB_OPT_STRING_ROW("out", bench_model_options, out),
    TB_OPT_FLAG_ROW("save", bench_model_options, save),
    TB_OPT_FLAG_ROW("layer-sampled", bench_model_options, run.sample_layers),
    TB_OPT_CHOICE_ROW("ffn", bench_model_options, run.ffn, TB_FFN_CHOICES),
    TB_OPT_STRING_ROW("peer", bench_model_options, run.peer),
    TB_OPT_STRING_ROW("peer-lib", bench_model_options, run.peer_lib),
};

// The peer's rates beside tritbench's, thread count by thread count.
static void render_peer(const cJSON *peer)
{
    printf("peer llama.cpp: %s (ggml %s, commit %s; CPU backend %s, from %s); file %s%s\n",
           tb_jstr(peer, "library"), tb_jstr(peer, "ggml_version"), tb_jstr(peer, "ggml_commit"),
           tb_jstr(peer, "cpu_backend"), tb_jstr(peer, "library_dir_source"),
           tb_jstr(peer, "model_file"),
           cJSON_IsTrue(cJSON_GetObjectItem(peer, "model_file_temporary"))
               ? " (written for this run, removed)"
               : "");
    if (cJSON_GetObjectItem(peer, "error")) {
        printf("llama.cpp cannot run the file: %s\n", tb_jstr(peer, "error"));
        return;
    }
    printf("%3s %-14s %12s %12s %7s %12s %12s %7s\n", "thr", "tritbench", "prefill/s", "llama.cpp",
           "ratio", "decode/s", "llama.cpp", "ratio");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(peer, "entries"))
    {
        const cJSON *ratio = cJSON_GetObjectItem(e, "tritbench_over_peer");
        if (cJSON_GetObjectItem(e, "error") || !ratio) {
            printf("%3d llama.cpp failed: %s\n", (int)tb_jnum(e, "threads"),
                   cJSON_GetObjectItem(e, "error") ? tb_jstr(e, "error") : "no tritbench entry");
            continue;
        }
        double pre = tb_jnum(e, "prefill_tokens_per_s"), dec = tb_jnum(e, "decode_tokens_per_s");
        printf("%3d %-14s %12.2f %12.2f %6.2fx %12.2f %12.2f %6.2fx\n", (int)tb_jnum(e, "threads"),
               tb_jstr(ratio, "kernel"), tb_jnum(ratio, "prefill") * pre, pre,
               tb_jnum(ratio, "prefill"), tb_jnum(ratio, "decode") * dec, dec,
               tb_jnum(ratio, "decode"));
    }
    printf("ratio: tritbench / llama.cpp tokens per second (medians over the repetitions, taken "
           "in turns); llama.cpp: %s\n",
           tb_jstr(peer, "system_info"));
}

// The entry of the first head listed with e's kernel and thread count (e itself if none).
static const cJSON *first_head_entry(const cJSON *doc, const cJSON *e)
{
    const cJSON *o;
    cJSON_ArrayForEach(
        o, cJSON_GetObjectItem(
               doc, "entries")) if (strcmp(tb_jstr(o, "kernel"), tb_jstr(e, "kernel")) == 0 &&
                                    tb_jnum(o, "threads") == tb_jnum(e, "threads")) return o;
    return e;
}

static void render_entry(const cJSON *doc, const cJSON *e)
{
    double decode = tb_jnum(e, "decode_tokens_per_s"),
           per_token = tb_jnum(e, "bytes_read_per_token");
    char joules[32] = "n/a";
    if (cJSON_IsNumber(cJSON_GetObjectItem(e, "energy_j_per_token")))
        snprintf(joules, sizeof joules, "%.3f", tb_jnum(e, "energy_j_per_token"));
    char paired[16] = "-";
    if (cJSON_IsNumber(cJSON_GetObjectItem(e, "decode_fraction_of_adjacent_passes")))
        snprintf(paired, sizeof paired, "%.0f",
                 100 * tb_jnum(e, "decode_fraction_of_adjacent_passes"));
    double first = tb_jnum(first_head_entry(doc, e), "decode_tokens_per_s");
    printf("%-14s %3d %-4s %10.2f %10.2f %6.2fx %8.1f %9.1f %8s %10.1f %8.1f %6s %6.0f\n",
           tb_jstr(e, "kernel"), (int)tb_jnum(e, "threads"), tb_jstr(e, "head"),
           tb_jnum(e, "prefill_tokens_per_s"), decode, decode / first,
           100 * tb_jnum(e, "decode_tokens_per_s_spread") / decode,
           1e3 * tb_jnum(e, "time_to_first_token_s"), joules, per_token / 1e6,
           tb_jnum(e, "read_bandwidth_bytes_per_s") / 1e9, paired,
           100 * tb_jnum(e, "decode_fraction_of_bandwidth_limit"));
}

static void render(const cJSON *doc)
{
    const cJSON *par = cJSON_GetObjectItem(doc, "parameters");
    const cJSON *energy = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sources"), "energy");
    const cJSON *cfg = cJSON_GetObjectItem(par, "config");
    printf("bench model %s: prompt %d, %d decoded tokens, %d repetitions (+1 warm-up), head %s, "
           "FFN %s (%s); energy: %s\n",
           tb_jstr(par, "model"), (int)tb_jnum(par, "prompt"), (int)tb_jnum(par, "tokens"),
           (int)tb_jnum(par, "reps"), tb_jstr(par, "head"), tb_jstr(cfg, "ffn"),
           tb_jstr(cfg, "ffn_source"),
           cJSON_IsTrue(cJSON_GetObjectItem(energy, "available")) ? "RAPL"
                                                                  : tb_jstr(energy, "reason"));
    printf("%-14s %3s %-4s %10s %10s %7s %8s %9s %8s %10s %8s %6s %6s\n", "kernel", "thr", "head",
           "prefill/s", "decode/s", "vs", "spread%", "ttft_ms", "J/token", "MB/token", "bw GB/s",
           "roof%", "best%");
    const cJSON *e, *sampled = cJSON_GetObjectItem(par, "layer_sampled");
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "entries")) render_entry(doc, e);
    cJSON_ArrayForEach(e,
                       cJSON_GetObjectItem(doc, "entries")) if (strcmp(tb_jstr(e, "kernel_choice"),
                                                                       "--kernel") != 0 &&
                                                                first_head_entry(doc, e) == e)
        printf("%d thread%s: decode kernel %s, prefill kernel %s: %s\n", (int)tb_jnum(e, "threads"),
               tb_jnum(e, "threads") > 1 ? "s" : "", tb_jstr(e, "decode_kernel"),
               tb_jstr(e, "prefill_kernel"), tb_jstr(e, "kernel_choice"));
    if (sampled)
        printf("layer-sampled: %d and %d of %d layers timed, every figure extrapolated linearly in "
               "the layer count\n",
               cJSON_GetArrayItem(cJSON_GetObjectItem(sampled, "layers_timed"), 0)->valueint,
               cJSON_GetArrayItem(cJSON_GetObjectItem(sampled, "layers_timed"), 1)->valueint,
               (int)tb_jnum(sampled, "layers"));
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "entries"), 0);
    const cJSON *roof = cJSON_GetObjectItem(first, "roof");
    printf("peak RSS %.1f MB. bw GB/s: best pass of the read-bandwidth probe (%.0f MiB buffer for "
           "%.0f MiB streamed a step), run before, between (every %d decode steps, untimed) and "
           "after the entry's repetitions; roof%%: median over the stretches of steps between "
           "two passes of the stretch's read rate (MB a token x tokens/s) against the mean of "
           "those two passes (the protocol's per-round ratio: these VMs change speed state "
           "within a run); best%%: decode against the best pass\n",
           tb_jnum(doc, "peak_rss_bytes") / 1e6, tb_jnum(roof, "buffer_bytes") / (1 << 20),
           tb_jnum(roof, "work_bytes") / (1 << 20), TB_PROBE_EVERY);
    if (cJSON_GetObjectItem(doc, "peer")) render_peer(cJSON_GetObjectItem(doc, "peer"));
}

int cmd_bench_model(int argc, char **argv)
{
    bench_model_options o = {0};
    tb_bench_model_defaults(&o.run);
    int rc =
        tb_parse_options("bench model", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.head && (rc = tb_parse_heads("bench model", o.head, o.run.heads, &o.run.nheads)))
        return rc;
    cJSON *doc;
    tb_error err;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, 1);
    rc = tb_bench_model_run(&o.run, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (rc) return tb_run_error("bench model", rc, &err);
    if (!o.json) render(doc);
    rc = tb_save_results(doc, o.save, "model");
    return tb_output(doc, o.json, o.out, rc);
}
