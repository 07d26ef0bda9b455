#include "sources.h"

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

double tb_energy_package_joules(tb_energy *e)
{
    double joules[TB_ENERGY_MAX_ZONES];
    const char *zones[TB_ENERGY_MAX_ZONES];
    int nz = tb_energy_stop(e, joules, zones, TB_ENERGY_MAX_ZONES);
    return nz > 0 ? joules[0] : -1;
}
