// The report's section on the machines: what each measured CPU is, the read bandwidth its runs
// saw, its energy source or why none; and what that means beside the published machines.
#include "report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREAD_COUNTS 8

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

// The best read bandwidth the runs of one CPU saw per thread count (documents' "roofline"):
// bw[i] for threads[i]; returns how many thread counts.
static int best_bandwidth(const tb_report_ctx *c, int cpu, int *threads, double *bw)
{
    int n = 0;
    for (int d = 0; d < c->set->nfiles; d++) {
        const cJSON *doc = c->set->files[d].doc, *r;
        if (tb_report_cpu_index(c, doc) != cpu) continue;
        cJSON_ArrayForEach(r, field(doc, "roofline"))
        {
            int t = atoi(r->string), i = 0;
            while (i < n && threads[i] != t) i++;
            if (i == n && n == MAX_THREAD_COUNTS) continue;
            if (i == n) threads[n] = t, bw[n++] = 0;
            if (cJSON_IsNumber(r) && r->valuedouble > bw[i]) bw[i] = r->valuedouble;
        }
    }
    return n;
}

// The last-level cache of an info document ("260 MiB (L3)"), or "?".
static void last_cache(const cJSON *info, char *out, size_t len)
{
    const cJSON *cache;
    snprintf(out, len, "?");
    int level = 0;
    cJSON_ArrayForEach(cache, field(info, "caches"))
    {
        const cJSON *l = field(cache, "level"), *size = field(cache, "size");
        if (cJSON_IsNumber(l) && cJSON_IsString(size) && l->valueint >= level)
            level = l->valueint, snprintf(out, len, "%s (L%d)", size->valuestring, level);
    }
}

static const cJSON *cpu_info(const tb_report_ctx *c, int cpu)
{
    for (int d = 0; d < c->set->nfiles; d++)
        if (tb_report_cpu_index(c, c->set->files[d].doc) == cpu)
            return field(c->set->files[d].doc, "info");
    return NULL;
}

static void machine_row(tb_report_ctx *c, int cpu)
{
    const cJSON *info = cpu_info(c, cpu);
    const cJSON *energy = field(field(info, "sources"), "energy");
    int threads[MAX_THREAD_COUNTS];
    double bw[MAX_THREAD_COUNTS];
    int n = best_bandwidth(c, cpu, threads, bw);
    char cache[64], bws[200] = "";
    last_cache(info, cache, sizeof cache);
    for (int i = 0; i < n; i++)
        snprintf(bws + strlen(bws), sizeof bws - strlen(bws), "%s%.1f (%d thread%s)", i ? ", " : "",
                 bw[i] / 1e9, threads[i], threads[i] > 1 ? "s" : "");
    const cJSON *cores = field(info, "cores"), *logical = field(info, "logical_cpus");
    const char *why = cJSON_GetStringValue(field(energy, "reason"));
    const char *model = cJSON_GetStringValue(field(info, "model_name"));
    tb_sb_printf(&c->md, "| `%s` | %s | %d / %d | %s | %s | %s |\n", c->cpus[cpu],
                 model ? model : "?", cJSON_IsNumber(cores) ? cores->valueint : 0,
                 cJSON_IsNumber(logical) ? logical->valueint : 0, cache, n ? bws : "-",
                 cJSON_IsTrue(field(energy, "available")) ? "RAPL"
                                                          : (why && *why ? why : "unavailable"));
}

void tb_report_machines(tb_report_ctx *c)
{
    tb_sb_printf(&c->md, "## The machines\n\n| CPU | model | cores / logical CPUs | last-level "
                         "cache | best read bandwidth seen, GB/s | energy source |\n"
                         "|---|---|---:|---|---|---|\n");
    for (int i = 0; i < c->ncpu; i++) machine_row(c, i);
    tb_sb_printf(
        &c->md,
        "\nThe published tables come from an Intel Core i7-13700H (a laptop CPU: 6 performance "
        "and 8 efficiency cores, 20 threads) and an Apple M2 Ultra (24 CPU cores, 800 GB/s of "
        "unified memory). Token generation reads every weight once a token, so tokens/s follow "
        "the read bandwidth a run gets and the threads it can use: absolute rates differ between "
        "machines, and what carries over is the ratio of ternary to FP16 measured in one run on "
        "one machine (FP16 reads 8 times the bytes of 2-bit weights, plus the same embedding, "
        "head and KV cache). Where a machine has no energy source (virtual machines expose no RAPL "
        "counters; the table says why), the energy cells say so instead of estimating.\n\n");
}
