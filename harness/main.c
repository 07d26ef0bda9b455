// tritbench: a workbench for ternary (BitNet b1.58) LLM kernels on CPUs.
#include "cli.h"

#include <string.h>

static const char *usage =
    "usage: tritbench COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  kernels    list every kernel built here, its ISA, bits per weight, and whether this CPU\n"
    "             can run it (or why not)\n"
    "  validate   check kernels against the naive integer oracle (bit-exact) and the naive\n"
    "             kernel against the float reference\n"
    "  bench      time kernels interleaved in one process and report GMAC/s and ratios\n"
    "  generate   run the BitNet b1.58 engine on a model (file or configuration): token ids,\n"
    "             prefill and decode speeds, memory\n"
    "  model      create a synthetic model file (GGUF), or show a model's shapes\n"
    "  info       this machine's fingerprint as results record it: CPU, ISA, caches, OS,\n"
    "             compiler, revision, and which energy/counter sources exist (or why not)\n"
    "\n"
    "Run 'tritbench COMMAND --help' for a command's options. Every command accepts --json.\n"
    "Environment: TRITBENCH_KERNEL=name overrides the kernel choice, TRITBENCH_DEBUG=1 says why\n"
    "a kernel was chosen, TRITBENCH_DISABLE=avx512vnni,... hides CPU features (to test "
    "fallbacks).\n"
    "Exit status: 0 success, 1 a check failed, 2 bad usage or input.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TB_EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "kernels") == 0) return cmd_kernels(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0) return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "generate") == 0) return cmd_generate(argc - 1, argv + 1);
    if (strcmp(cmd, "model") == 0) return cmd_model(argc - 1, argv + 1);
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
    fprintf(stderr, "tritbench: unknown command '%s' (see 'tritbench --help')\n", cmd);
    return TB_EXIT_USAGE;
}
