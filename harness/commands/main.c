// tritbench: a workbench for ternary (BitNet b1.58) LLM kernels on CPUs.
#include "commands.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run,
     "run a declarative experiment (experiments/NAME.ini): every point's result under\n"
     "             results/<cpu>/<experiment>/, resumable; --dry-run lists the points;\n"
     "             --slurm: on many machines through SLURM"},
    {"kernels", cmd_kernels,
     "list every kernel built here, its ISA, bits per weight, and whether this CPU\n"
     "             can run it (or why not)"},
    {"validate", cmd_validate,
     "check kernels against the naive integer oracle (bit-exact) and the naive\n"
     "             kernel against the float reference; --model: the whole engine"},
    {"bench", cmd_bench,
     "'bench kernels': time kernels interleaved in one process (GMAC/s, roofline,\n"
     "             ratios); 'bench model': end-to-end prefill and decode tokens/s"},
    {"generate", cmd_generate,
     "run the BitNet b1.58 engine on a model (file or configuration): token ids,\n"
     "             prefill and decode speeds, memory"},
    {"perplexity", cmd_perplexity,
     "a model's perplexity over a text on every kernel, with KL divergence and top-1\n"
     "             agreement against a reference kernel"},
    {"tune", cmd_tune,
     "time every ternary kernel per regime (decode cold/hot, prefill buckets) and\n"
     "             thread count: results/<cpu>/tune.json, which dispatch then follows"},
    {"model", cmd_model, "create a synthetic model file (GGUF), or show a model's shapes"},
    {"tokenize", cmd_tokenize,
     "a model file's tokenizer (LLaMA 3 BPE, SentencePiece): text to token ids,\n"
     "             --decode ids to text"},
    {"info", cmd_info,
     "this machine's fingerprint as results record it: CPU, ISA, caches, OS,\n"
     "             compiler, revision, and which energy/counter sources exist (or why not)"},
    {"compare", cmd_compare,
     "two result sets (files or folders) side by side: speed ratios with a\n"
     "             significance test, accuracy regressions (exit 1)"},
    {"report", cmd_report,
     "result files or folders -> report.md with tables against the published\n"
     "             values and gnuplot figures, several CPUs side by side"},
    {"fleet", cmd_fleet,
     "'fleet status RESULTS': which CPUs and nodes of a shared results folder (a\n"
     "             fleet run: 'run --slurm') have which points, and why not"},
};

static void usage(FILE *f)
{
    fputs("usage: tritbench COMMAND [OPTIONS]\n\nCommands:\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Run 'tritbench COMMAND --help' for a command's options. Every command accepts --json\n"
          "(its result document on standard output) and --out FILE (the document to a file).\n"
          "Environment: TRITBENCH_KERNEL=name overrides the kernel choice, TRITBENCH_DEBUG=1 says\n"
          "why a kernel was chosen, TRITBENCH_TUNE=FILE|off the tune file dispatch follows\n"
          "(default results/<cpu>/tune.json), TRITBENCH_DISABLE=avx512vnni,... hides CPU\n"
          "features (to test fallbacks).\n"
          "Exit status: 0 success, 1 a check failed, 2 bad usage or input.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tritbench: unknown command '%s' (see 'tritbench --help')\n", argv[1]);
    return TB_EXIT_USAGE;
}
