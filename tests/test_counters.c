// Hardware counters and likwid markers: open/start/stop never crash; unavailable means a
// non-empty reason; available means positive cycle and instruction counts.
#include "counters.h"
#include "measure_util.h"

static volatile double sink;

static void work(void)
{
    static double buf[1 << 16];
    double s = 0;
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < (1 << 16); i++) s += buf[i] += 1.0;
    sink = s;
}

int main(void)
{
    for (int round = 0; round < 2; round++) { // twice: PAPI is shut down and set up again
        tb_counters *c = tb_counters_open();
        CHECK(c != NULL, "open returned NULL");
        long long v[TB_COUNTERS_MAX];
        const char *names[TB_COUNTERS_MAX];
        CHECK(tb_counters_stop(c, v, names, TB_COUNTERS_MAX) == 0, "stop before start");
        tb_counters_start(c);
        work();
        int n = tb_counters_stop(c, v, names, TB_COUNTERS_MAX);
        if (tb_counters_available(c)) {
            CHECK(n >= 3, "%d counters", n);
            for (int i = 0; i < n && i < 2; i++) CHECK(v[i] > 0, "%s = %lld", names[i], v[i]);
            for (int i = 0; i < n; i++) CHECK(v[i] >= 0, "%s = %lld", names[i], v[i]);
            if (round == 0)
                for (int i = 0; i < n; i++) printf("%s = %lld\n", names[i], v[i]);
        } else {
            CHECK(n == 0, "%d values from unavailable counters", n);
            CHECK(tb_counters_reason(c)[0] != '\0', "unavailable without a reason");
            if (round == 0) printf("counters unavailable: %s\n", tb_counters_reason(c));
        }
        tb_counters_close(c);
    }
    tb_counters_close(NULL);

    tb_likwid_init();
    tb_likwid_begin("test");
    work();
    tb_likwid_end("test");
    tb_likwid_close();
    CHECK(tb_likwid_status()[0] != '\0', "empty likwid status");
    printf("%s\n", tb_likwid_status());

    if (failures)
        fprintf(stderr, "%d counter checks failed\n", failures);
    else
        printf("counter tests passed\n");
    return failures ? 1 : 0;
}
