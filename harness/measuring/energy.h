// Energy over a measured region from RAPL: the powercap zones
// /sys/class/powercap/intel-rapl:N[:M] (Intel and AMD), or else (live system only) the perf
// event power/energy-pkg/. Nothing is ever estimated: where no source exists the reader says
// why, and results carry "energy: unavailable (reason)".
#ifndef TB_ENERGY_H
#define TB_ENERGY_H

#define TB_ENERGY_MAX_ZONES 32

typedef struct tb_energy tb_energy; // opaque

// powercap_root NULL = "/sys/class/powercap" and, if it has no usable zone, the perf event.
// A fixture root is read as it is (no perf fallback). Never returns NULL except out of memory:
// an unavailable reader carries its reason. If any zone's energy_uj cannot be read, the whole
// reader is unavailable (a partial set of zones would mislead).
tb_energy *tb_energy_open(const char *powercap_root);
int tb_energy_available(const tb_energy *e);
// "" when available; else e.g. "no /sys/class/powercap (virtual machine?)", or
// "intel-rapl:0/energy_uj: Permission denied (root only since Linux 5.10, 2020)".
const char *tb_energy_reason(const tb_energy *e);
// Snapshots every zone.
void tb_energy_start(tb_energy *e);
// Joules per zone since tb_energy_start, one wrap-around of a counter handled through
// max_energy_range_uj (a zone whose counter wrapped without a known range, or whose read
// failed, gets NAN). names[i] ("package-0", "core", "uncore", "dram"; "package-1/core" with
// several packages) stay valid until tb_energy_close. Returns the zone count (0 if
// unavailable or not started); at most max_zones are stored. A region must be shorter than
// one full counter range (tens of minutes at full package power).
int tb_energy_stop(tb_energy *e, double *joules, const char **names, int max_zones);
void tb_energy_close(tb_energy *e);

#endif
