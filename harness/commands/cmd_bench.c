// tritbench bench kernels | model: the two benchmarks.
#include "commands.h"
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench bench kernels [OPTIONS]   kernels timed interleaved in one process\n"
    "       tritbench bench model [OPTIONS]     end-to-end token rates of the whole model\n"
    "See 'tritbench bench kernels --help' and 'tritbench bench model --help'.\n";

int cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "kernels") == 0) return cmd_bench_kernels(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "model") == 0) return cmd_bench_model(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return fputs(help, stdout), 0;
    return tb_usage_error("bench", "say what to benchmark: 'tritbench bench kernels' or "
                                   "'tritbench bench model'");
}

int tb_save_results(cJSON *doc, int save, const char *kind)
{
    if (!save) return TB_OK;
    char *path = tb_results_write(doc, NULL, kind);
    if (!path) return TB_EXIT_FAIL;
    fprintf(stderr, "results written to %s\n", path);
    free(path);
    return TB_OK;
}
