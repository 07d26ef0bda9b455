// tritbench perplexity: a model's perplexity over a text on every kernel, with KL divergence
// and top-1 agreement against a reference kernel (the work is runners/perplexity.c).
#include "commands.h"
#include "options.h"
#include "perplexity.h"

#include <stdio.h>

static const char *help =
    "usage: tritbench perplexity --model FILE --text FILE [--kernel NAME,...|all] [--ctx N]\n"
    "                            [--chunks C] [--reference NAME] [--threads T] [--ffn relu2|silu]\n"
    "                            [--json] [--out FILE]\n"
    "\n"
    "Perplexity of the model over the text, per kernel, scored as llama.cpp's perplexity tool\n"
    "scores it (so figures compare with published ones): non-overlapping chunks of --ctx tokens,\n"
    "each evaluated from its start (first token BOS where the vocabulary has one), the second\n"
    "half of each chunk scored; the standard error beside it. Every kernel's token distributions\n"
    "are set against the reference kernel's over the same tokens: KL(reference || kernel) and\n"
    "how often both rank the same token first. Exact kernels give bit-identical perplexity and\n"
    "KL 0 among themselves; the float baselines' KL shows what their rounding costs.\n"
    "\n"
    "  --model FILE       a GGUF model with its tokenizer (or a configuration, with --tokens)\n"
    "  --text FILE        the text (UTF-8), tokenized by the model's tokenizer\n"
    "  --tokens FILE      instead: token ids, whitespace- or comma-separated\n"
    "  --kernel LIST      kernels to score (default all)\n"
    "  --reference NAME   the kernel KL is taken against (default naive)\n"
    "  --ctx N            tokens per chunk, even (default 512, as published figures use)\n"
    "  --chunks C         at most C chunks (default: all the text holds)\n"
    "  --threads T        threads (default 1)\n"
    "  --seed S           weights of a synthetic configuration (default 1)\n"
    "  --ffn relu2|silu   the FFN activation, whatever the model says (see generate --help)\n"
    "  --json             the document on standard output instead of the table\n"
    "  --out FILE         also write it to FILE (atomically)\n"
    "Exit status: 0 done, 2 bad usage or input (a text shorter than one chunk, a model without\n"
    "a tokenizer).\n";

typedef struct {
    tb_perplexity_params run;
    int json;
    const char *out;
} perplexity_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("model", perplexity_options, run.model),
    TB_OPT_STRING_ROW("text", perplexity_options, run.text_path),
    TB_OPT_STRING_ROW("tokens", perplexity_options, run.tokens_path),
    TB_OPT_STRING_ROW("kernel", perplexity_options, run.kernels),
    TB_OPT_STRING_ROW("reference", perplexity_options, run.reference),
    TB_OPT_INT_ROW("ctx", perplexity_options, run.ctx, 4, 1 << 20),
    TB_OPT_INT_ROW("chunks", perplexity_options, run.chunks, 1, 1 << 20),
    TB_OPT_INT_ROW("threads", perplexity_options, run.threads, 1, 1024),
    TB_OPT_U64_ROW("seed", perplexity_options, run.seed),
    TB_OPT_CHOICE_ROW("ffn", perplexity_options, run.ffn, TB_FFN_CHOICES),
    TB_OPT_FLAG_ROW("json", perplexity_options, json),
    TB_OPT_STRING_ROW("out", perplexity_options, out),
};

static void render(const cJSON *doc)
{
    printf("%s: %d tokens, %d chunks of %d (second halves scored), reference %s\n",
           tb_jstr(doc, "text"), (int)tb_jnum(doc, "tokens"), (int)tb_jnum(doc, "chunks"),
           (int)tb_jnum(doc, "ctx"), tb_jstr(doc, "reference"));
    printf("%-18s %6s %12s %10s %12s %10s %8s %8s\n", "kernel", "exact", "perplexity", "+-",
           "KL vs ref", "+-", "top-1", "s");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(doc, "results"))
    {
        printf("%-18s %6s %12.6f %10.6f %12.4g %10.2g %7.2f%% %8.1f\n", tb_jstr(r, "kernel"),
               cJSON_IsTrue(cJSON_GetObjectItem(r, "exact")) ? "yes" : "no",
               tb_jnum(r, "perplexity"), tb_jnum(r, "perplexity_stderr"),
               tb_jnum(r, "kl_vs_reference"), tb_jnum(r, "kl_stderr"),
               100 * tb_jnum(r, "top1_vs_reference"), tb_jnum(r, "seconds"));
    }
}

int cmd_perplexity(int argc, char **argv)
{
    perplexity_options o = {0};
    tb_perplexity_defaults(&o.run);
    int rc = tb_parse_options("perplexity", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (!o.run.model) return tb_usage_error("perplexity", "--model FILE is required");
    cJSON *doc;
    tb_error err;
    tb_progress prog;
    tb_observer obs = tb_progress_observer(&prog, 1);
    rc = tb_perplexity_run(&o.run, &obs, &doc, &err);
    tb_progress_done(&prog);
    if (!doc) return tb_run_error("perplexity", rc, &err);
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, rc);
}
