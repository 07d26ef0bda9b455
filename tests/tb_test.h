// The one check macro of the C tests: EXPECT(condition, printf-style message) reports a failed
// condition with its file and line and counts it; a test's main returns failures != 0.
#ifndef TB_TEST_H
#define TB_TEST_H

#include <stdio.h>

static int failures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
