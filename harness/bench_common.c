#include "bench.h"
#include "cli.h"
#include "results.h"

#include <stdlib.h>

static void add_source(cJSON *sources, const char *name, int available, const char *reason)
{
    cJSON *o = cJSON_AddObjectToObject(sources, name);
    cJSON_AddBoolToObject(o, "available", available);
    cJSON_AddStringToObject(o, "reason", available ? "" : reason);
}

void tb_sources_to_json(cJSON *sources, const tb_energy *e, const tb_counters *c)
{
    add_source(sources, "energy", tb_energy_available(e), tb_energy_reason(e));
    add_source(sources, "counters", tb_counters_available(c), tb_counters_reason(c));
    add_source(sources, "likwid", tb_likwid_active(), tb_likwid_status());
}

void tb_entry_sources_to_json(cJSON *o, const tb_energy *e, double joules, long calls,
                              const tb_counters *c, const long long *counts,
                              const char *const *names, int ncounts)
{
    if (tb_energy_available(e) && calls > 0) {
        cJSON_AddNumberToObject(o, "energy_j", joules / (double)calls);
    } else {
        cJSON_AddNullToObject(o, "energy_j");
        cJSON_AddStringToObject(o, "energy_reason", tb_energy_reason(e));
    }
    if (tb_counters_available(c) && ncounts > 0) {
        cJSON *jc = cJSON_AddObjectToObject(o, "counters");
        for (int i = 0; i < ncounts; i++)
            cJSON_AddNumberToObject(jc, names[i], (double)counts[i] / (double)calls);
    } else {
        cJSON_AddNullToObject(o, "counters");
        cJSON_AddStringToObject(o, "counters_reason", tb_counters_reason(c));
    }
}

int tb_finish_results(cJSON *doc, const char *json_path, int save, const char *kind)
{
    int rc = 0;
    if (save) {
        char *path = tb_results_write(doc, NULL, kind);
        if (!path)
            rc = TB_EXIT_FAIL;
        else
            fprintf(stderr, "results written to %s\n", path);
        free(path);
    }
    if (json_path) {
        char *text = cJSON_Print(doc);
        if (!text || tb_write_file_atomic(json_path, text)) rc = TB_EXIT_FAIL;
        cJSON_free(text);
    }
    cJSON_Delete(doc);
    return rc;
}
