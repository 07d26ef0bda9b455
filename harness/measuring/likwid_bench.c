#include "likwid_bench.h"
#include "tb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *tb_likwid_load_test(void)
{
#if defined(__x86_64__)
    uint32_t f = tb_cpu_features();
    if (f & TB_ISA_AVX512F) return "load_avx512";
    if (f & TB_ISA_AVX2) return "load_avx";
#endif
    return "load";
}

// One run: its MByte/s line (likwid's MByte is 10^6 bytes), or -1 with why.
static double run_once(const char *cmd, char *why, size_t why_len)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(why, why_len, "cannot start likwid-bench");
        return -1;
    }
    char line[512], last[512] = "";
    double mbs = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "MByte/s:", 8) == 0) mbs = strtod(line + 8, NULL);
        if (line[0] != '\n') snprintf(last, sizeof last, "%s", line);
    }
    int st = pclose(f);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) == 127) {
        snprintf(why, why_len, "likwid-bench is not installed (Debian package likwid)");
        return -1;
    }
    if (WEXITSTATUS(st) != 0 || !(mbs > 0)) {
        last[strcspn(last, "\n")] = '\0';
        snprintf(why, why_len, "likwid-bench failed (exit %d): %s", WEXITSTATUS(st),
                 last[0] ? last : "no MByte/s line in its output");
        return -1;
    }
    return mbs * 1e6;
}

double tb_likwid_load(size_t bytes, int threads, int runs, char *why, size_t why_len)
{
    char cmd[256];
    // -W domain:size:threads; the size is the whole working set, split among the threads.
    snprintf(cmd, sizeof cmd, "likwid-bench -t %s -W N:%zukB:%d 2>&1", tb_likwid_load_test(),
             bytes / 1000, threads);
    double best = -1;
    for (int r = 0; r < runs; r++) {
        double v = run_once(cmd, why, why_len);
        if (v < 0) return -1;
        if (v > best) best = v;
    }
    return best;
}
