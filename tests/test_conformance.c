// Conformance of one kernel (named on the command line) against the naive integer oracle:
// the whole suite of tb_check_suite. Exit 0 pass, 1 fail, 77 skip (CPU lacks the ISA).
// With TB_FAIL_FAST set (tests/mutants.sh sets it), the first failed case ends the test: a
// mutant is caught by one failure, and the cases after it only cost time.
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

// tb_check_suite's progress hook, called after each step: stops at the first failure.
static void stop_at_failure(void *ctx, int done, int total)
{
    const tb_check_result *res = ctx;
    if (res->failed) {
        printf("%d failed after %d of %d steps (TB_FAIL_FAST: the rest not run)\n", res->failed,
               done, total);
        printf("first failure: %s\n", res->first_failure);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s KERNEL\n", argv[0]);
        return 2;
    }
    const tb_kernel *kn = tb_kernel_find(argv[1]);
    if (!kn) {
        fprintf(stderr, "no kernel '%s' in this build\n", argv[1]);
        return 1;
    }
    char why[200];
    if (!tb_kernel_supported(kn, why, sizeof why)) {
        printf("SKIP %s: %s\n", kn->name, why);
        return 77;
    }
    uint64_t seed = 1;
    const char *env = getenv("TRITBENCH_SEED");
    if (env) seed = strtoull(env, NULL, 10);
    tb_check_result res = {0};
    tb_check_suite(kn, seed, &res, getenv("TB_FAIL_FAST") ? stop_at_failure : NULL, &res);
    printf("%s: %d cases, %d failed, worst scaled error %.3f of its bound, seed %llu\n", kn->name,
           res.cases, res.failed, res.worst_ratio, (unsigned long long)seed);
    if (res.failed) {
        printf("first failure: %s\n", res.first_failure);
        return 1;
    }
    return 0;
}
