// Hardware counters over a measured region through PAPI (cycles, instructions, L1 data cache
// misses, last-level cache misses where the CPU has the event), and likwid Marker API regions.
// Both degrade to "unavailable (reason)": built without the library, or no PMU (virtual
// machines). Counts cover the calling thread only (worker threads started before
// tb_counters_start are not counted).
#ifndef TB_COUNTERS_H
#define TB_COUNTERS_H

#define TB_COUNTERS_MAX 4

typedef struct tb_counters tb_counters; // opaque

// Never NULL except out of memory: an unavailable set carries its reason.
tb_counters *tb_counters_open(void);
int tb_counters_available(const tb_counters *c);
// "" when available; else e.g. "PAPI_add_event(PAPI_TOT_CYC): Event does not exist (no PMU
// under virtualization?)" or "built without PAPI (meson -Dpapi=enabled, package libpapi-dev)".
const char *tb_counters_reason(const tb_counters *c);
void tb_counters_start(tb_counters *c);
// Stores up to max counts and their names ("PAPI_TOT_CYC", "PAPI_TOT_INS", "PAPI_L1_DCM",
// "PAPI_L3_TCM"); returns how many (0 if unavailable, not started, or PAPI_stop failed).
int tb_counters_stop(tb_counters *c, long long *values, const char **names, int max);
void tb_counters_close(tb_counters *c);

// likwid Marker API: no-ops unless built with likwid (meson -Dlikwid=enabled, which also
// defines LIKWID_PERFMON) and the program runs under likwid-perfctr -m (which sets
// LIKWID_EVENTS/LIKWID_FILEPATH); so a plain run never prints likwid's notices.
void tb_likwid_init(void);
void tb_likwid_begin(const char *region);
void tb_likwid_end(const char *region);
void tb_likwid_close(void);
// 1 if markers are live (built with likwid and running under likwid-perfctr -m).
int tb_likwid_active(void);
// "likwid: not built (meson -Dlikwid=enabled)", "likwid markers active (running under
// likwid-perfctr -m)", or "likwid markers built in, inactive (run under likwid-perfctr -m)".
const char *tb_likwid_status(void);

#endif
