// The one check macro of the C tests: EXPECT(condition, printf-style message) reports a failed
// condition with its file and line and counts it; a test's main returns failures != 0.
// With TB_FAIL_FAST set (tests/mutants.sh sets it), the first failure ends the test (exit 1):
// a mutant is caught by one failure, and the checks after it only cost time.
#ifndef TB_TEST_H
#define TB_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int failures;

// Not inlined: an exit() inside every EXPECT would change what the compiler infers about the
// code after a failed check (gcc -O2 then warned of a null %s argument in test_info.c).
__attribute__((noinline, unused)) static void tb_test_fail_fast(void)
{
    if (getenv("TB_FAIL_FAST")) exit(1);
}

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
            tb_test_fail_fast();                                                                   \
        }                                                                                          \
    } while (0)

#endif
