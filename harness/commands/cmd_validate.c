// tritbench validate: the conformance checks of the test suite on any kernel and shape, or
// (--model) the whole engine on every kernel against the float reference model.
#include "commands.h"
#include "options.h"

#include <stdio.h>

static const char *help =
    "usage: tritbench validate [--kernel NAME|all] [--shape N,K [--m M]] [--seed S] [--json]\n"
    "                          [--peer-lib DIR]\n"
    "       tritbench validate --model FILE|CONFIG [--kernel NAME|all] [--tokens N]\n"
    "                          [--prompt-tokens 1,2,3] [--threads T] [--seed S] [--json]\n"
    "                          [--head f16,q8,q4] [--ffn relu2|silu]\n"
    "\n"
    "Checks kernels against the naive integer oracle: with unit scales the output must be\n"
    "bit-identical (it is the exact integer dot), no output outside the requested row range may\n"
    "be written, and with real scales the error must stay within the float-rounding bound.\n"
    "The naive kernel itself is checked against the float reference (quantize, dequantize,\n"
    "float matmul). A kernel this CPU cannot run is reported as skipped, with the reason.\n"
    "\n"
    "  --kernel NAME|all  one kernel or every kernel (default all)\n"
    "  --shape N,K        check one weight shape (N rows of K weights) with every adversarial\n"
    "                     data pattern; default: the whole conformance suite\n"
    "  --m M              activation rows of that shape (default 1)\n"
    "  --seed S           seed of the random data (default 1)\n"
    "  --peer-lib DIR     where a peer's library is (--kernel peer:ggml-tq2_0 ...: ggml's kernels\n"
    "                     held to a bound derived from their own activation quantization;\n"
    "                     default $TRITBENCH_GGML_DIR, else where .ci/setup installs it)\n"
    "  --json             the document on standard output instead of the table\n"
    "  --out FILE         also write the document to FILE (atomically)\n"
    "\n"
    "With --model, validates the whole BitNet b1.58 engine instead: per kernel, NMSE and max\n"
    "|diff| of the logits against the quantization-consistent float reference model (must stay\n"
    "within the bound derived in engine/model_check.h), KL divergence and top-1 agreement against\n"
    "the plain float model, and whether the greedy continuation of --tokens N (default 8) equals\n"
    "the reference's. Exact kernels must give identical logits (so identical tokens), and the\n"
    "reference's tokens whenever no activation rounded differently (NMSE at the float floor);\n"
    "after such rounding flips a large random model may pick other tokens, which is reported.\n"
    "  --head LIST        also the cost of holding the output head in each format of LIST\n"
    "                     (f32, f16, q8, q4) on one kernel (--kernel, or dispatch's choice):\n"
    "                     KL, top-1 agreement and NMSE of the logits against the f16 head and\n"
    "                     KL and top-1 against the float model, over the same positions; and\n"
    "                     every logit within the bound its format's arithmetic allows around\n"
    "                     the exact product of the f32 head (engine/model_check.h)\n"
    "  --ffn relu2|silu   the FFN activation of engine and reference, whatever the model says:\n"
    "                     relu2 (relu(gate)^2 * up, 2B4T) or silu (silu(gate) * up, the older\n"
    "                     BitNet b1.58 models); default: the file's <arch>.hidden_activation,\n"
    "                     else its architecture (bitnet: silu; bitnet-b1.58, bitnet-25: relu2);\n"
    "                     configurations: relu2\n"
    "Exit status: 0 all passed, 1 a check failed, 2 bad usage.\n";

typedef struct {
    tb_validate_params kernels;
    tb_validate_model_params model;
    int nshape, json;
    const char *out, *head;
} validate_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("kernel", validate_options, kernels.kernel),
    TB_OPT_INTS_ROW("shape", validate_options, kernels.shape, nshape, 1, 1 << 30, 2, 2),
    TB_OPT_INT_ROW("m", validate_options, kernels.m, 1, TB_M_MAX),
    TB_OPT_U64_ROW("seed", validate_options, kernels.seed),
    TB_OPT_STRING_ROW("peer-lib", validate_options, kernels.peer_lib),
    TB_OPT_STRING_ROW("model", validate_options, model.model),
    TB_OPT_INT_ROW("tokens", validate_options, model.tokens, 1, TB_TOKENS_MAX),
    TB_OPT_INTS_ROW("prompt-tokens", validate_options, model.prompt, model.n_prompt, 0, 1 << 24, 1,
                    TB_PROMPT_MAX),
    TB_OPT_INT_ROW("threads", validate_options, model.threads, 1, TB_THREADS_MAX),
    TB_OPT_STRING_ROW("head", validate_options, head),
    TB_OPT_CHOICE_ROW("ffn", validate_options, model.ffn, TB_FFN_CHOICES),
    TB_OPT_FLAG_ROW("json", validate_options, json),
    TB_OPT_STRING_ROW("out", validate_options, out),
};

static void render_kernels(const cJSON *doc)
{
    printf("%-16s %-6s %6s %6s %10s %8s  %s\n", "kernel", "status", "cases", "failed", "worst/bnd",
           "seconds", "detail");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "results"))
    {
        const char *status = tb_jstr(r, "status");
        printf("%-16s %-6s %6d %6d %10.3f %8.2f  %s\n", tb_jstr(r, "kernel"), status,
               (int)tb_jnum(r, "cases"), (int)tb_jnum(r, "failed"),
               tb_jnum(r, "worst_error_over_bound"), tb_jnum(r, "seconds"),
               status[0] == 'S' ? tb_jstr(r, "reason") : tb_jstr(r, "first_failure"));
    }
}

static void render_model(const cJSON *doc)
{
    int positions = (int)tb_jnum(doc, "positions"), prompt = (int)tb_jnum(doc, "prompt_tokens");
    const cJSON *cfg = cJSON_GetObjectItem(doc, "config");
    printf("model %s (FFN %s, from %s): %d prompt + %d greedy tokens; reference (a) vs (b) NMSE "
           "%.3g (cost of int8 activations), %.1f s\n",
           tb_jstr(doc, "model"), tb_jstr(cfg, "ffn"), tb_jstr(cfg, "ffn_source"), prompt,
           positions - prompt, tb_jnum(doc, "nmse_a_vs_b"), tb_jnum(doc, "reference_seconds"));
    printf("bound on NMSE(engine, a) = 2 NMSE(a, b) + (32 L u)^2 = %.3g (output head f32)\n",
           tb_jnum(doc, "nmse_bound"));
    printf("%-16s %-6s %10s %10s %10s %6s %-8s %7s  %s\n", "kernel", "status", "NMSE(a)",
           "max|diff|", "KL(b)", "top1(b)", "greedy", "seconds", "detail");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "results"))
    {
        const char *status = tb_jstr(r, "status");
        if (status[0] == 'S')
            printf("%-16s %-6s %10s %10s %10s %6s %-8s %7s  %s\n", tb_jstr(r, "kernel"), status,
                   "-", "-", "-", "-", "-", "-", tb_jstr(r, "reason"));
        else
            printf("%-16s %-6s %10.3g %10.3g %10.3g %6.2f %-8s %7.2f  %s\n", tb_jstr(r, "kernel"),
                   status, tb_jnum(r, "nmse"), tb_jnum(r, "max_abs_diff"),
                   tb_jnum(r, "kl_vs_float"), tb_jnum(r, "top1_vs_float"),
                   cJSON_IsTrue(cJSON_GetObjectItem(r, "greedy_equal")) ? "equal" : "differs",
                   tb_jnum(r, "seconds"), tb_jstr(r, "detail"));
    }
    const cJSON *heads = cJSON_GetObjectItem(doc, "heads");
    if (!heads) return;
    printf("\noutput heads on %s, against the %s head (KL, top1, NMSE) and the float model (b); "
           "worst/bnd: the largest logit error over its derived bound\n",
           tb_jstr(heads, "kernel"), tb_jstr(heads, "base"));
    printf("%-5s %-15s %-6s %9s %10s %7s %10s %10s %7s %9s\n", "head", "kernel", "status", "MB",
           "KL(base)", "top1", "NMSE", "KL(b)", "top1(b)", "worst/bnd");
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(heads, "results")) printf(
        "%-5s %-15s %-6s %9.1f %10.3g %7.3f %10.3g %10.3g %7.3f %9.3f %s\n", tb_jstr(r, "head"),
        tb_jstr(r, "head_kernel")[0] ? tb_jstr(r, "head_kernel") : "-", tb_jstr(r, "status"),
        tb_jnum(r, "bytes") / 1e6, tb_jnum(r, "kl_vs_base"), tb_jnum(r, "top1_vs_base"),
        tb_jnum(r, "nmse_vs_base"), tb_jnum(r, "kl_vs_float"), tb_jnum(r, "top1_vs_float"),
        tb_jnum(r, "worst_error_over_bound"), tb_jstr(r, "detail"));
}

int cmd_validate(int argc, char **argv)
{
    validate_options o = {0};
    tb_validate_defaults(&o.kernels);
    tb_validate_model_defaults(&o.model);
    int rc = tb_parse_options("validate", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    int with_model = o.model.model != NULL;
    if (with_model && o.nshape)
        return tb_usage_error("validate", "--shape and --model do not go together");
    if (o.head && !with_model) return tb_usage_error("validate", "--head needs --model");
    if (o.model.ffn >= 0 && !with_model) return tb_usage_error("validate", "--ffn needs --model");
    if (o.head && (rc = tb_parse_heads("validate", o.head, o.model.heads, &o.model.nheads)))
        return rc;
    // One kernel choice and seed for both modes.
    o.model.kernel = o.kernels.kernel, o.model.seed = o.kernels.seed;
    cJSON *doc;
    tb_error err;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, !o.json);
    rc = with_model ? tb_validate_model_run(&o.model, &obs, &doc, &err)
                    : tb_validate_run(&o.kernels, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (!doc) return tb_run_error("validate", rc, &err);
    if (!o.json) with_model ? render_model(doc) : render_kernels(doc);
    return tb_output(doc, o.json, o.out, rc);
}
