// How the measurement sources (energy, counters, likwid) appear in result documents: each is
// either available, or unavailable with the precise reason. Nothing is ever estimated.
#ifndef TB_SOURCES_H
#define TB_SOURCES_H

#include "counters.h"
#include "energy.h"

#include <cjson/cJSON.h>

// "sources": {"energy": {"available": .., "reason": ..}, "counters": {...}, "likwid": {...}}
void tb_sources_to_json(cJSON *sources, const tb_energy *e, const tb_counters *c);
// An entry's energy_j per call (or null with energy_reason) and counters per call by name (or
// null with counters_reason), from sums over `calls` timed calls.
void tb_entry_sources_to_json(cJSON *o, const tb_energy *e, double joules, long calls,
                              const tb_counters *c, const long long *counts,
                              const char *const *names, int ncounts);

// Joules of the package (the first zone) since tb_energy_start; -1 if no energy source (or
// the region was not metered). A region may be metered in pieces: sum the non-negative parts.
double tb_energy_package_joules(tb_energy *e);

#endif
