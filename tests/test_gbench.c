// The Google Benchmark shim: a tiny C benchmark registered through gbench.h runs, and the
// library's JSON output is read back with its name, iterations and our counters.
#include "gbench.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned sink;

static void tiny(tb_gb_state *st, void *ctx)
{
    const unsigned *data = ctx;
    while (tb_gb_keep_running(st)) {
        unsigned s = 0;
        for (int i = 0; i < 256; i++) s += data[i];
        sink = s;
    }
    tb_gb_counter(st, "items/s", 256, TB_GB_RATE);
    tb_gb_counter(st, "answer", 42, TB_GB_VALUE);
}

int main(void)
{
    static unsigned data[256];
    for (int i = 0; i < 256; i++) data[i] = (unsigned)i;
    char path[] = "/tmp/tb-gbench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return perror("mkstemp"), 1;
    close(fd);
    char out[64];
    snprintf(out, sizeof out, "--benchmark_out=%s", path);
    char *argv[] = {"test_gbench", out, "--benchmark_out_format=json", "--benchmark_min_time=0.01",
                    NULL};
    tb_gb_register("tiny_sum/256", tiny, data);
    int rc = tb_gb_run(4, argv);
    FILE *f = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    size_t len = f ? fread(text, 1, (1 << 20) - 1, f) : 0;
    if (f) fclose(f);
    unlink(path);
    cJSON *doc = len ? cJSON_Parse(text) : NULL;
    cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "benchmarks"), 0);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(b, "name"));
    double iters = cJSON_GetNumberValue(cJSON_GetObjectItem(b, "iterations"));
    double rate = cJSON_GetNumberValue(cJSON_GetObjectItem(b, "items/s"));
    double answer = cJSON_GetNumberValue(cJSON_GetObjectItem(b, "answer"));
    int ok = rc == 0 && name && strncmp(name, "tiny_sum/256", 12) == 0 && iters >= 1 && rate > 0 &&
             answer == 42;
    printf("gbench shim: rc %d, name %s, iterations %.0f, items/s %.3g, answer %g: %s\n", rc,
           name ? name : "(none)", iters, rate, answer, ok ? "ok" : "FAILED");
    // Unknown flags are refused with exit 2.
    char *bad[] = {"test_gbench", "--no_such_flag", NULL};
    int rc_bad = tb_gb_run(2, bad);
    printf("unknown flag: rc %d (%s)\n", rc_bad, rc_bad == 2 ? "ok" : "FAILED");
    cJSON_Delete(doc);
    free(text);
    return ok && rc_bad == 2 ? 0 : 1;
}
