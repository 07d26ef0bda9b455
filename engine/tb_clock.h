// The one clock of tritbench: monotonic seconds, for every timed region in the engine and the
// harness (wall-clock time, unaffected by clock adjustments).
#ifndef TB_CLOCK_H
#define TB_CLOCK_H

#include <time.h>

static inline double tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
