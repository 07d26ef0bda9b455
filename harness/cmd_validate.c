// tritbench validate: the conformance checks of the test suite, on any kernel and shape.
#include "check.h"
#include "cli.h"
#include "engine_cli.h"

#include <stdlib.h>
#include <string.h>

static const char *help =
    "usage: tritbench validate [--kernel NAME|all] [--shape M,N,K] [--seed S] [--json]\n"
    "       tritbench validate --model FILE|CONFIG [--kernel NAME|all] [--tokens N]\n"
    "                          [--prompt-tokens 1,2,3] [--threads T] [--seed S] [--json]\n"
    "\n"
    "Checks kernels against the naive integer oracle: with unit scales the output must be\n"
    "bit-identical (it is the exact integer dot), no output outside the requested row range may\n"
    "be written, and with real scales the error must stay within the float-rounding bound.\n"
    "The naive kernel itself is checked against the float reference (quantize, dequantize,\n"
    "float matmul). A kernel this CPU cannot run is reported as skipped, with the reason.\n"
    "\n"
    "  --kernel NAME|all  one kernel or every kernel (default all)\n"
    "  --shape M,N,K      check one shape (M activation rows, N x K weights) with every\n"
    "                     adversarial data pattern; default: the whole conformance suite\n"
    "  --seed S           seed of the random data (default 1)\n"
    "  --json             machine-readable report on stdout\n"
    "\n"
    "With --model, validates the whole BitNet b1.58 engine instead: per kernel, NMSE and max\n"
    "|diff| of the logits against the quantization-consistent float reference model (must stay\n"
    "within the bound derived in engine/model_check.h), KL divergence and top-1 agreement against\n"
    "the plain float model, and whether the greedy continuation of --tokens N (default 8) equals\n"
    "the reference's. Exact kernels must give identical logits (so identical tokens), and the\n"
    "reference's tokens whenever no activation rounded differently (NMSE at the float floor);\n"
    "after such rounding flips a large random model may pick other tokens, which is reported.\n"
    "Exit status: 0 all passed, 1 a check failed, 2 bad usage.\n";

static void show_progress(void *ctx, int done, int total)
{
    tb_progress *p = ctx;
    tb_progress_show(p, "validate", done, total);
}

int cmd_validate(int argc, char **argv)
{
    const char *kernel = "all";
    int shape[3] = {0, 0, 0}, have_shape = 0, json = 0;
    uint64_t seed = 1;
    const char *model = NULL;
    int tokens = 8, threads = 1, prompt[256] = {1, 2, 3}, n_prompt = 3;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (tb_flag(argv, i, "--json")) {
            json = 1;
        } else if ((v = tb_opt("validate", argc, argv, &i, "--kernel"))) {
            kernel = v;
        } else if ((v = tb_opt("validate", argc, argv, &i, "--shape"))) {
            tb_parse_ints("validate", "--shape", v, 3, shape);
            have_shape = 1;
        } else if ((v = tb_opt("validate", argc, argv, &i, "--model"))) {
            model = v;
        } else if ((v = tb_opt("validate", argc, argv, &i, "--tokens"))) {
            tokens = (int)tb_parse_int("validate", "--tokens", v, 1, 1 << 16);
        } else if ((v = tb_opt("validate", argc, argv, &i, "--threads"))) {
            threads = (int)tb_parse_int("validate", "--threads", v, 1, 64);
        } else if ((v = tb_opt("validate", argc, argv, &i, "--prompt-tokens"))) {
            n_prompt = tb_parse_tokens("validate", v, prompt, 256);
        } else if ((v = tb_opt("validate", argc, argv, &i, "--seed"))) {
            seed = tb_parse_u64("validate", "--seed", v);
        } else {
            tb_usage_error("validate", "unknown option '%s'", argv[i]);
        }
    }
    if (model) {
        if (have_shape) tb_usage_error("validate", "--shape and --model do not go together");
        return tb_validate_model(model, kernel, tokens, seed, prompt, n_prompt, threads, json);
    }
    char err[256];
    if (have_shape && tb_check_shape(shape[0], shape[1], shape[2], err, sizeof err))
        tb_usage_error("validate", "--shape: %s", err);
    int all = strcmp(kernel, "all") == 0;
    if (!all && !tb_kernel_find(kernel))
        tb_usage_error("validate", "--kernel: no kernel named '%s' here (see 'tritbench kernels')",
                       kernel);

    cJSON *doc = NULL, *list = NULL;
    if (json) {
        doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "seed", (double)seed);
        if (have_shape) {
            cJSON *s = cJSON_AddObjectToObject(doc, "shape");
            cJSON_AddNumberToObject(s, "m", shape[0]);
            cJSON_AddNumberToObject(s, "n", shape[1]);
            cJSON_AddNumberToObject(s, "k", shape[2]);
        }
        list = cJSON_AddArrayToObject(doc, "results");
    } else {
        printf("%-16s %-6s %6s %6s %10s %8s  %s\n", "kernel", "status", "cases", "failed",
               "worst/bnd", "seconds", "detail");
    }
    int failures = 0;
    tb_progress prog;
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *kn = tb_kernel_at(i);
        if (!all && strcmp(kn->name, kernel) != 0) continue;
        char why[200];
        tb_check_result res = {0};
        const char *status;
        double t0 = tb_now();
        if (!tb_kernel_supported(kn, why, sizeof why)) {
            status = "SKIP";
        } else {
            tb_progress_start(&prog, !json);
            if (have_shape)
                tb_check_shape_patterns(kn, shape[0], shape[1], shape[2], seed, &res);
            else
                tb_check_suite(kn, seed, &res, show_progress, &prog);
            if (strcmp(kn->name, "naive") == 0) {
                // The oracle itself against the float reference.
                if (have_shape) {
                    tb_check_naive_vs_reference(shape[0], shape[1], shape[2], seed, &res);
                } else {
                    tb_check_naive_vs_reference(1, 640, 2560, seed, &res);
                    tb_check_naive_vs_reference(3, 37, 6912, seed, &res);
                    tb_check_naive_vs_reference(8, 33, 257, seed, &res);
                }
            }
            tb_progress_done(&prog);
            status = res.failed ? "FAIL" : "PASS";
            failures += res.failed;
        }
        double secs = tb_now() - t0;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "kernel", kn->name);
            cJSON_AddStringToObject(o, "status", status);
            cJSON_AddNumberToObject(o, "cases", res.cases);
            cJSON_AddNumberToObject(o, "failed", res.failed);
            cJSON_AddNumberToObject(o, "worst_error_over_bound", res.worst_ratio);
            cJSON_AddNumberToObject(o, "seconds", secs);
            if (status[0] == 'S') cJSON_AddStringToObject(o, "reason", why);
            if (res.failed) cJSON_AddStringToObject(o, "first_failure", res.first_failure);
            cJSON_AddItemToArray(list, o);
        } else {
            printf("%-16s %-6s %6d %6d %10.3f %8.2f  %s\n", kn->name, status, res.cases, res.failed,
                   res.worst_ratio, secs,
                   status[0] == 'S' ? why
                   : res.failed     ? res.first_failure
                                    : "");
        }
    }
    if (json && tb_emit_json(doc, NULL)) return TB_EXIT_FAIL;
    return failures ? TB_EXIT_FAIL : 0;
}
