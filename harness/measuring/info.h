// The machine's fingerprint for every result: CPU (vendor, model, family/model/stepping or
// ARM implementer/part), ISA features that matter, cores, caches, frequency, OS, compiler and
// flags, tritbench revision, and which measurement sources (energy, counters, likwid) exist
// here or why not.
#ifndef TB_INFO_H
#define TB_INFO_H

#include <cjson/cJSON.h>

// Parses a /proc/cpuinfo text (x86 or ARM) and a sysfs tree (caches, topology, cpufreq,
// class/powercap) into a JSON object; fields that cannot be read say
// "unavailable (reason)". NULL arguments = the live system ("/proc/cpuinfo", "/sys"); then the
// ISA features come from the running CPU (tb_cpu_features(), after TRITBENCH_DISABLE), else from
// the text's flags/Features line. OS, compiler, build and revision always describe this
// program and the machine it runs on. Returns NULL only when out of memory.
cJSON *tb_info_collect(const char *cpuinfo_path, const char *sysfs_root);

// The measurement sources of a sysfs tree (NULL = live): {"energy": {"available": bool,
// "reason": "..."}, "counters": {...}, "likwid": {...}}.
cJSON *tb_info_sources(const char *sysfs_root);

// Folder name for results: "intel-xeon-processor-2-80ghz", "amd-epyc-9r14-96-core-processor",
// "arm-neoverse-n1"; only [a-z0-9-], the name at most 64 characters, "unknown-cpu" if the info
// has nothing to go by; with features hidden by TRITBENCH_DISABLE (info.isa_hidden) followed by
// "-without-" and their names: "intel-xeon-processor-without-avx512vnni". malloc'd (NULL only
// when out of memory).
char *tb_info_cpu_slug(const cJSON *info);

#endif
