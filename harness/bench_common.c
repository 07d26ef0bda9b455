#include "bench.h"
#include "cli.h"
#include "results.h"

#include <stdlib.h>

void tb_sources_to_json(cJSON *sources, const tb_energy *e, const tb_counters *c)
{
    cJSON *o = cJSON_AddObjectToObject(sources, "energy");
    cJSON_AddBoolToObject(o, "available", tb_energy_available(e));
    if (!tb_energy_available(e)) cJSON_AddStringToObject(o, "reason", tb_energy_reason(e));
    o = cJSON_AddObjectToObject(sources, "counters");
    cJSON_AddBoolToObject(o, "available", tb_counters_available(c));
    if (!tb_counters_available(c)) cJSON_AddStringToObject(o, "reason", tb_counters_reason(c));
    o = cJSON_AddObjectToObject(sources, "likwid");
    cJSON_AddStringToObject(o, "status", tb_likwid_status());
}

void tb_entry_sources_to_json(cJSON *o, const tb_energy *e, double joules, long calls,
                              const tb_counters *c, const long long *counts, int ncounts)
{
    if (tb_energy_available(e) && calls > 0) {
        cJSON_AddNumberToObject(o, "energy_j", joules);
        cJSON_AddNumberToObject(o, "energy_j_per_call", joules / (double)calls);
    } else {
        cJSON_AddNullToObject(o, "energy_j");
        cJSON_AddStringToObject(o, "energy_reason", tb_energy_reason(e));
    }
    if (tb_counters_available(c) && ncounts > 0) {
        cJSON *jc = cJSON_AddArrayToObject(o, "counters");
        for (int i = 0; i < ncounts; i++)
            cJSON_AddItemToArray(jc, cJSON_CreateNumber((double)counts[i] / (double)calls));
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
