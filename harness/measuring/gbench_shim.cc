// The C interface of gbench.h over Google Benchmark's C++ API.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>

struct tb_gb_state {
    benchmark::State *st;
};

extern "C" int tb_gb_available(void) { return 1; }

extern "C" void tb_gb_register(const char *name, tb_gb_fn fn, void *ctx)
{
    benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &st) {
        tb_gb_state s{&st};
        fn(&s, ctx);
    })->UseRealTime();
}

extern "C" int tb_gb_keep_running(tb_gb_state *s) { return s->st->KeepRunning() ? 1 : 0; }

extern "C" void tb_gb_counter(tb_gb_state *s, const char *name, double value, int kind)
{
    s->st->counters[name] = benchmark::Counter(
        value, kind == TB_GB_RATE ? benchmark::Counter::kIsIterationInvariantRate
                                  : benchmark::Counter::kDefaults);
}

extern "C" void tb_gb_skip(tb_gb_state *s, const char *why) { s->st->SkipWithError(why); }

extern "C" int tb_gb_run(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (argc > 1) {
        std::fprintf(stderr, "tritbench bench: Google Benchmark does not know '%s'\n", argv[1]);
        return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
