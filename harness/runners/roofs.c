// tritbench info --bandwidth --compute: the roofs of this machine, on their own.
//
// The bandwidth a workload gets depends on its working set (roofline.h), so the probe runs at
// several buffer sizes, from a cache-sized one to the plateau that commands cap their probes
// at; beside each figure, likwid-bench's load kernel on the same size and thread count checks
// the probe against an independent tool.
#include "compute_roof.h"
#include "info.h"
#include "likwid_bench.h"
#include "roofline.h"
#include "runners.h"

#include <stdio.h>
#include <string.h>

#define LIKWID_RUNS 3

void tb_roofs_defaults(tb_roofs_params *p)
{
    *p = (tb_roofs_params){.likwid = 1, .threads = {1}, .nthreads = 1, .passes = 5};
}

// The default sizes: 64 MiB, 256 MiB, 1 GiB and the plateau, ascending and distinct.
static int default_sizes(size_t *bytes)
{
    const size_t mib = (size_t)1 << 20, plateau = tb_roof_plateau_bytes();
    size_t c[] = {64 * mib, 256 * mib, 1024 * mib, plateau};
    int n = 0;
    for (int i = 0; i < 4; i++)
        if (c[i] <= plateau && (n == 0 || c[i] > bytes[n - 1])) bytes[n++] = c[i];
    return n;
}

static void bandwidth(const tb_roofs_params *p, const tb_observer *obs, tb_pool **pools, cJSON *out)
{
    size_t bytes[TB_LIST_MAX];
    int n = p->nmib;
    for (int i = 0; i < p->nmib; i++) bytes[i] = (size_t)p->mib[i] << 20;
    if (n == 0) n = default_sizes(bytes);
    int step = 0;
    for (int i = 0; i < n; i++) {
        tb_bw_probe *probe = tb_bw_probe_open(bytes[i]);
        for (int t = 0; t < p->nthreads; t++) {
            tb_observe(obs, "bandwidth", ++step, n * p->nthreads);
            for (int r = 0; r < p->passes; r++) tb_bw_probe_pass(probe, pools[t]);
            cJSON *o = tb_roof_to_json(probe, p->threads[t], bytes[i]);
            if (p->likwid) {
                char why[512];
                double v = tb_likwid_load(bytes[i], p->threads[t], LIKWID_RUNS, why, sizeof why);
                cJSON_AddStringToObject(o, "likwid_test", tb_likwid_load_test());
                if (v > 0)
                    cJSON_AddNumberToObject(o, "likwid_gbs", v / 1e9);
                else
                    cJSON_AddStringToObject(o, "likwid_reason", why);
            }
            cJSON_AddItemToArray(out, o);
        }
        tb_bw_probe_close(probe);
    }
}

static void compute(const tb_roofs_params *p, const tb_observer *obs, tb_pool **pools, cJSON *out)
{
    for (int t = 0; t < p->nthreads; t++)
        for (int path = 0; path < TB_PATH_COUNT; path++) {
            if (!tb_compute_path_supported((tb_compute_path)path)) continue;
            tb_observe(obs, "compute", t * TB_PATH_COUNT + path + 1, p->nthreads * TB_PATH_COUNT);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "threads", p->threads[t]);
            cJSON_AddStringToObject(o, "path", tb_compute_path_name((tb_compute_path)path));
            cJSON_AddNumberToObject(
                o, "peak_gmacs", tb_compute_peak((tb_compute_path)path, pools[t], p->passes) / 1e9);
            cJSON_AddItemToArray(out, o);
        }
}

int tb_roofs_run(const tb_roofs_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (p->nthreads < 1) return tb_fail(err, "--threads: at least one thread count");
    for (int t = 0; t < p->nthreads; t++)
        if (p->threads[t] < 1 || p->threads[t] > TB_THREADS_MAX)
            return tb_fail(err, "--threads: %d is not in 1..%d", p->threads[t], TB_THREADS_MAX);
    if (p->passes < 1) return tb_fail(err, "passes: at least 1");
    tb_pool *pools[TB_LIST_MAX];
    for (int t = 0; t < p->nthreads; t++) pools[t] = tb_pool_create(p->threads[t]);
    *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(*doc, "kind", "roofs");
    cJSON_AddItemToObject(*doc, "info", tb_info_collect(NULL, NULL));
    cJSON_AddNumberToObject(*doc, "plateau_bytes", (double)tb_roof_plateau_bytes());
    if (p->bandwidth) bandwidth(p, obs, pools, cJSON_AddArrayToObject(*doc, "bandwidth"));
    if (p->compute) compute(p, obs, pools, cJSON_AddArrayToObject(*doc, "compute"));
    for (int t = 0; t < p->nthreads; t++) tb_pool_destroy(pools[t]);
    return TB_OK;
}
