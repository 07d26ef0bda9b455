// gbench.h for builds without Google Benchmark (e.g. the aarch64 cross build): says so.
#include "gbench.h"

#include <stdio.h>

int tb_gb_available(void)
{
    return 0;
}
void tb_gb_register(const char *name, tb_gb_fn fn, void *ctx)
{
    (void)name, (void)fn, (void)ctx;
}
int tb_gb_keep_running(tb_gb_state *st)
{
    return (void)st, 0;
}
void tb_gb_counter(tb_gb_state *st, const char *name, double value, int kind)
{
    (void)st, (void)name, (void)value, (void)kind;
}
void tb_gb_skip(tb_gb_state *st, const char *why)
{
    (void)st, (void)why;
}
int tb_gb_run(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "tritbench bench: built without Google Benchmark (install libbenchmark-dev "
                    "and reconfigure)\n");
    return 2;
}
