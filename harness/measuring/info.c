#include "info.h"
#include "counters.h"
#include "energy.h"
#include "tb_affinity.h"
#include "tb_build.h"
#include "tb_kernel.h"
#include "tb_version.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_PACKAGES 64

// What the first processor block of /proc/cpuinfo says, plus counts over all blocks.
typedef struct {
    char *vendor, *model_name, *family, *model, *stepping, *flags, *mhz, *cpu_cores;
    char *implementer, *architecture, *variant, *part, *revision;
    int processors;
    int parts_differ; // heterogeneous ARM (big.LITTLE)
    int packages;
    long package_ids[MAX_PACKAGES];
} cpuinfo;

static void cpuinfo_free(cpuinfo *ci)
{
    char **fields[] = {&ci->vendor,      &ci->model_name,   &ci->family,  &ci->model,
                       &ci->stepping,    &ci->flags,        &ci->mhz,     &ci->cpu_cores,
                       &ci->implementer, &ci->architecture, &ci->variant, &ci->part,
                       &ci->revision};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) free(*fields[i]);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static void set_once(char **dst, const char *value)
{
    if (!*dst) *dst = strdup(value);
}

// 0, or errno of opening the file (ci is filled with what was found).
static int parse_cpuinfo(const char *path, cpuinfo *ci)
{
    memset(ci, 0, sizeof *ci);
    FILE *f = fopen(path, "r");
    if (!f) return errno;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) != -1) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        char *key = trim(line), *value = trim(colon + 1);
        if (strcmp(key, "processor") == 0) {
            ci->processors++;
        } else if (strcmp(key, "vendor_id") == 0) {
            set_once(&ci->vendor, value);
        } else if (strcmp(key, "model name") == 0) {
            set_once(&ci->model_name, value);
        } else if (strcmp(key, "cpu family") == 0) {
            set_once(&ci->family, value);
        } else if (strcmp(key, "model") == 0) {
            set_once(&ci->model, value);
        } else if (strcmp(key, "stepping") == 0) {
            set_once(&ci->stepping, value);
        } else if (strcmp(key, "flags") == 0 || strcmp(key, "Features") == 0) {
            set_once(&ci->flags, value);
        } else if (strcmp(key, "cpu MHz") == 0) {
            set_once(&ci->mhz, value);
        } else if (strcmp(key, "cpu cores") == 0) {
            set_once(&ci->cpu_cores, value);
        } else if (strcmp(key, "physical id") == 0) {
            long id = strtol(value, NULL, 10);
            int seen = 0;
            for (int i = 0; i < ci->packages; i++) seen |= ci->package_ids[i] == id;
            if (!seen && ci->packages < MAX_PACKAGES) ci->package_ids[ci->packages++] = id;
        } else if (strcmp(key, "CPU implementer") == 0) {
            set_once(&ci->implementer, value);
        } else if (strcmp(key, "CPU architecture") == 0) {
            set_once(&ci->architecture, value);
        } else if (strcmp(key, "CPU variant") == 0) {
            set_once(&ci->variant, value);
        } else if (strcmp(key, "CPU part") == 0) {
            if (ci->part && strcasecmp(ci->part, value) != 0) ci->parts_differ = 1;
            set_once(&ci->part, value);
        } else if (strcmp(key, "CPU revision") == 0) {
            set_once(&ci->revision, value);
        }
    }
    free(line);
    fclose(f);
    return 0;
}

// ARM implementers and parts (MIDR fields), as Linux's cputype.h and vendors' manuals name them.
static const struct {
    unsigned id;
    const char *name;
} implementers[] = {
    {0x41, "ARM"},       {0x42, "Broadcom"},  {0x43, "Cavium"}, {0x46, "Fujitsu"},
    {0x48, "HiSilicon"}, {0x4e, "NVIDIA"},    {0x50, "APM"},    {0x51, "Qualcomm"},
    {0x61, "Apple"},     {0x6d, "Microsoft"}, {0xc0, "Ampere"},
};

static const struct {
    unsigned implementer, part;
    const char *name;
} parts[] = {
    {0x41, 0xd03, "Cortex-A53"},      {0x41, 0xd04, "Cortex-A35"},
    {0x41, 0xd05, "Cortex-A55"},      {0x41, 0xd07, "Cortex-A57"},
    {0x41, 0xd08, "Cortex-A72"},      {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0a, "Cortex-A75"},      {0x41, 0xd0b, "Cortex-A76"},
    {0x41, 0xd0c, "Neoverse-N1"},     {0x41, 0xd0d, "Cortex-A77"},
    {0x41, 0xd40, "Neoverse-V1"},     {0x41, 0xd41, "Cortex-A78"},
    {0x41, 0xd44, "Cortex-X1"},       {0x41, 0xd46, "Cortex-A510"},
    {0x41, 0xd47, "Cortex-A710"},     {0x41, 0xd48, "Cortex-X2"},
    {0x41, 0xd49, "Neoverse-N2"},     {0x41, 0xd4a, "Neoverse-E1"},
    {0x41, 0xd4d, "Cortex-A715"},     {0x41, 0xd4e, "Cortex-X3"},
    {0x41, 0xd4f, "Neoverse-V2"},     {0x41, 0xd80, "Cortex-A520"},
    {0x41, 0xd81, "Cortex-A720"},     {0x41, 0xd82, "Cortex-X4"},
    {0x41, 0xd84, "Neoverse-V3"},     {0x41, 0xd8e, "Neoverse-N3"},
    {0x46, 0x001, "A64FX"},           {0x48, 0xd01, "TaiShan-v110"},
    {0x4e, 0x004, "Carmel"},          {0xc0, 0xac3, "AmpereOne"},
    {0x61, 0x022, "M1-Icestorm"},     {0x61, 0x023, "M1-Firestorm"},
    {0x61, 0x024, "M1-Pro-Icestorm"}, {0x61, 0x025, "M1-Pro-Firestorm"},
    {0x61, 0x028, "M1-Max-Icestorm"}, {0x61, 0x029, "M1-Max-Firestorm"},
    {0x61, 0x032, "M2-Blizzard"},     {0x61, 0x033, "M2-Avalanche"},
    {0x61, 0x034, "M2-Pro-Blizzard"}, {0x61, 0x035, "M2-Pro-Avalanche"},
    {0x61, 0x038, "M2-Max-Blizzard"}, {0x61, 0x039, "M2-Max-Avalanche"},
};

static int parse_hex(const char *s, unsigned *out)
{
    char *end;
    if (!s) return 0;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || errno) return 0;
    *out = (unsigned)v;
    return 1;
}

// cpuinfo flag -> tritbench ISA name (tb_isa_names); x86 "flags" and ARM "Features" words.
static const struct {
    const char *flag, *isa;
} flag_map[] = {
    {"avx2", "avx2"},
    {"fma", "fma"},
    {"f16c", "f16c"},
    {"avx512f", "avx512f"},
    {"avx512bw", "avx512bw"},
    {"avx512vl", "avx512vl"},
    {"avx512_vnni", "avx512vnni"},
    {"avx512vbmi", "avx512vbmi"},
    {"avx512_bf16", "avx512bf16"},
    {"avx512_fp16", "avx512fp16"},
    {"avx_vnni", "avxvnni"},
    {"amx_tile", "amx"},
    {"asimd", "neon"},
    {"neon", "neon"},
    {"asimddp", "dotprod"},
    {"i8mm", "i8mm"},
    {"sve", "sve"},
    {"asimdhp", "fp16"},
};

static uint32_t isa_from_flags(const char *flags)
{
    uint32_t mask = 0;
    if (!flags) return 0;
    char *copy = strdup(flags), *save = NULL;
    if (!copy) return 0;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        for (size_t i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
            if (strcmp(w, flag_map[i].flag) == 0) mask |= tb_isa_bit(flag_map[i].isa);
    free(copy);
    return mask;
}

static void add_unavailable(cJSON *o, const char *key, const char *fmt, const char *arg)
{
    char msg[1024], full[1100];
    snprintf(msg, sizeof msg, fmt, arg);
    snprintf(full, sizeof full, "unavailable (%s)", msg);
    cJSON_AddStringToObject(o, key, full);
}

// Reads the first line of root/rel; 0 or errno.
static int read_sys(const char *root, const char *rel, char *buf, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "r");
    if (!f) return errno;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok) return EINVAL;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static int is_dir(const char *root, const char *rel)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// "48K" -> 49152; -1 if not a size.
static long long parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return -1;
    if (*end == 'K')
        v <<= 10, end++;
    else if (*end == 'M')
        v <<= 20, end++;
    else if (*end == 'G')
        v <<= 30, end++;
    return *end == '\0' ? v : -1;
}

static void add_caches(cJSON *info, const char *root)
{
    const char *base = "devices/system/cpu/cpu0/cache";
    if (!is_dir(root, base)) {
        char where[600];
        snprintf(where, sizeof where, "no %s/%s", root, base);
        add_unavailable(info, "caches", "%s", where);
        return;
    }
    cJSON *list = cJSON_AddArrayToObject(info, "caches");
    long long llc = 0;
    int llc_level = 0;
    for (int i = 0; i < 16; i++) {
        char rel[128], level[32], type[32], size[32], shared[128];
        snprintf(rel, sizeof rel, "%s/index%d/level", base, i);
        if (read_sys(root, rel, level, sizeof level) != 0) continue;
        snprintf(rel, sizeof rel, "%s/index%d/type", base, i);
        if (read_sys(root, rel, type, sizeof type) != 0) snprintf(type, sizeof type, "?");
        snprintf(rel, sizeof rel, "%s/index%d/size", base, i);
        if (read_sys(root, rel, size, sizeof size) != 0) size[0] = '\0';
        snprintf(rel, sizeof rel, "%s/index%d/shared_cpu_list", base, i);
        if (read_sys(root, rel, shared, sizeof shared) != 0) shared[0] = '\0';
        cJSON *c = cJSON_CreateObject();
        int lv = atoi(level);
        long long bytes = parse_size(size);
        cJSON_AddNumberToObject(c, "level", lv);
        cJSON_AddStringToObject(c, "type", type);
        cJSON_AddStringToObject(c, "size", size[0] ? size : "unavailable (no size file)");
        if (bytes >= 0) cJSON_AddNumberToObject(c, "bytes", (double)bytes);
        if (shared[0]) cJSON_AddStringToObject(c, "shared_cpu_list", shared);
        cJSON_AddItemToArray(list, c);
        if (strcmp(type, "Instruction") != 0 && lv >= llc_level && bytes > 0) {
            llc_level = lv;
            llc = bytes;
        }
    }
    if (llc > 0) cJSON_AddNumberToObject(info, "last_level_cache_bytes", (double)llc);
}

static void add_frequency(cJSON *info, const char *root)
{
    const char *base = "devices/system/cpu/cpu0/cpufreq";
    if (!is_dir(root, base)) {
        char where[600];
        snprintf(where, sizeof where, "no %s/%s: no cpufreq driver, virtual machine?", root, base);
        add_unavailable(info, "frequency", "%s", where);
        return;
    }
    cJSON *fr = cJSON_AddObjectToObject(info, "frequency");
    static const struct {
        const char *file, *key;
        int khz;
    } files[] = {
        {"scaling_governor", "governor", 0}, {"scaling_driver", "driver", 0},
        {"scaling_cur_freq", "cur_mhz", 1},  {"cpuinfo_min_freq", "min_mhz", 1},
        {"cpuinfo_max_freq", "max_mhz", 1},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[128], value[128];
        snprintf(rel, sizeof rel, "%s/%s", base, files[i].file);
        int err = read_sys(root, rel, value, sizeof value);
        if (err) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s: %s", files[i].file,
                     err == EINVAL ? "empty" : strerror(err));
            add_unavailable(fr, files[i].key, "%s", msg);
        } else if (files[i].khz) {
            cJSON_AddNumberToObject(fr, files[i].key, strtod(value, NULL) / 1000.0);
        } else {
            cJSON_AddStringToObject(fr, files[i].key, value);
        }
    }
}

// Distinct (package, core) pairs in the topology; 0 if unreadable.
static int count_cores(const char *root, int cpus)
{
    if (cpus <= 0 || cpus > 4096) return 0;
    long *pairs = calloc((size_t)cpus * 2, sizeof *pairs);
    if (!pairs) return 0;
    int n = 0;
    for (int cpu = 0; cpu < cpus; cpu++) {
        char rel[128], core[32], pkg[32];
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/topology/core_id", cpu);
        if (read_sys(root, rel, core, sizeof core) != 0) {
            n = 0;
            break;
        }
        snprintf(rel, sizeof rel, "devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        if (read_sys(root, rel, pkg, sizeof pkg) != 0) snprintf(pkg, sizeof pkg, "0");
        long c = atol(core), p = atol(pkg);
        int seen = 0;
        for (int i = 0; i < n; i++) seen |= pairs[2 * i] == p && pairs[2 * i + 1] == c;
        if (!seen) pairs[2 * n] = p, pairs[2 * n + 1] = c, n++;
    }
    free(pairs);
    return n;
}

static void add_os(cJSON *info)
{
    cJSON *os = cJSON_AddObjectToObject(info, "os");
    struct utsname u;
    if (uname(&u) == 0) {
        char kernel[sizeof u.sysname + sizeof u.release + 2];
        snprintf(kernel, sizeof kernel, "%s %s", u.sysname, u.release);
        cJSON_AddStringToObject(os, "kernel", kernel);
        cJSON_AddStringToObject(os, "kernel_build", u.version);
        cJSON_AddStringToObject(os, "machine", u.machine);
    } else {
        add_unavailable(os, "kernel", "uname: %s", strerror(errno));
    }
    FILE *f = fopen("/etc/os-release", "r");
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    while (f && !found && getline(&line, &cap, f) != -1) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0) continue;
        char *v = trim(line + 12);
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') v[n - 1] = '\0', v++;
        cJSON_AddStringToObject(os, "distribution", v);
        found = 1;
    }
    free(line);
    if (f) fclose(f);
    if (!found) add_unavailable(os, "distribution", "%s", "no PRETTY_NAME in /etc/os-release");
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        cJSON_AddNumberToObject(os, "memory_bytes", (double)pages * (double)page);
}

cJSON *tb_info_sources(const char *sysfs_root)
{
    cJSON *s = cJSON_CreateObject();
    if (!s) return NULL;
    char powercap[1024];
    if (sysfs_root) snprintf(powercap, sizeof powercap, "%s/class/powercap", sysfs_root);
    tb_energy *e = tb_energy_open(sysfs_root ? powercap : NULL);
    cJSON *o = cJSON_AddObjectToObject(s, "energy");
    cJSON_AddBoolToObject(o, "available", tb_energy_available(e));
    cJSON_AddStringToObject(o, "reason", tb_energy_reason(e));
    tb_energy_close(e);
    tb_counters *c = tb_counters_open();
    o = cJSON_AddObjectToObject(s, "counters");
    cJSON_AddBoolToObject(o, "available", tb_counters_available(c));
    cJSON_AddStringToObject(o, "reason", tb_counters_reason(c));
    tb_counters_close(c);
    o = cJSON_AddObjectToObject(s, "likwid");
    cJSON_AddBoolToObject(o, "available", tb_likwid_active());
    cJSON_AddStringToObject(o, "reason", tb_likwid_active() ? "" : tb_likwid_status());
    return s;
}

static const char *build_arch(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "other";
#endif
}

// ARM: implementer and part by name (from the tables above), and what the text says.
static void add_arm_cpu(cJSON *info, const cpuinfo *ci)
{
    unsigned impl = 0, part = 0;
    const char *impl_name = NULL, *part_name = NULL;
    if (parse_hex(ci->implementer, &impl))
        for (size_t i = 0; i < sizeof implementers / sizeof implementers[0]; i++)
            if (implementers[i].id == impl) impl_name = implementers[i].name;
    if (parse_hex(ci->part, &part))
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            if (parts[i].implementer == impl && parts[i].part == part) part_name = parts[i].name;
    char vendor[32];
    snprintf(vendor, sizeof vendor, "%s", impl_name ? impl_name : ci->implementer);
    cJSON_AddStringToObject(info, "vendor", vendor);
    if (ci->model_name) {
        cJSON_AddStringToObject(info, "model_name", ci->model_name);
    } else {
        char name[128];
        if (part_name)
            snprintf(name, sizeof name, "%s %s", vendor, part_name);
        else
            snprintf(name, sizeof name, "%s part %s", vendor, ci->part ? ci->part : "?");
        cJSON_AddStringToObject(info, "model_name", name);
    }
    cJSON_AddStringToObject(info, "implementer", ci->implementer);
    if (ci->part) cJSON_AddStringToObject(info, "part", ci->part);
    cJSON_AddStringToObject(info, "part_name", part_name ? part_name : "unknown");
    if (ci->variant) cJSON_AddStringToObject(info, "variant", ci->variant);
    if (ci->revision) cJSON_AddNumberToObject(info, "revision", atoi(ci->revision));
    if (ci->architecture) cJSON_AddNumberToObject(info, "architecture", atoi(ci->architecture));
    if (ci->parts_differ) cJSON_AddBoolToObject(info, "heterogeneous", 1);
}

static void add_x86_cpu(cJSON *info, const cpuinfo *ci, const char *path)
{
    if (ci->vendor)
        cJSON_AddStringToObject(info, "vendor", ci->vendor);
    else
        add_unavailable(info, "vendor", "no vendor_id or CPU implementer in %s", path);
    if (ci->model_name)
        cJSON_AddStringToObject(info, "model_name", ci->model_name);
    else
        add_unavailable(info, "model_name", "no 'model name' in %s", path);
    if (ci->family) cJSON_AddNumberToObject(info, "family", atoi(ci->family));
    if (ci->model) cJSON_AddNumberToObject(info, "model", atoi(ci->model));
    if (ci->stepping) cJSON_AddNumberToObject(info, "stepping", atoi(ci->stepping));
    if (ci->mhz) cJSON_AddNumberToObject(info, "cpuinfo_mhz", strtod(ci->mhz, NULL));
}

// ISA features: of the running CPU when live, else from the text's flags line.
static void add_isa(cJSON *info, const cpuinfo *ci, int live)
{
    char names[256];
    if (live) {
        tb_isa_names(tb_cpu_features(), names, sizeof names);
        cJSON_AddStringToObject(info, "isa", names);
        cJSON_AddStringToObject(info, "isa_source", "running CPU (cpuid/hwcap)");
        if (tb_cpu_features() != tb_cpu_features_raw()) {
            tb_isa_names(tb_cpu_features_raw(), names, sizeof names);
            cJSON_AddStringToObject(info, "isa_detected_before_disable", names);
            tb_isa_names(tb_cpu_features_raw() & ~tb_cpu_features(), names, sizeof names);
            cJSON_AddStringToObject(info, "isa_hidden", names);
        }
    } else {
        tb_isa_names(isa_from_flags(ci->flags), names, sizeof names);
        cJSON_AddStringToObject(info, "isa", names);
        cJSON_AddStringToObject(info, "isa_source",
                                ci->flags ? "cpuinfo flags" : "none (no flags/Features line)");
    }
}

static void add_topology(cJSON *info, const cpuinfo *ci, const char *root, int live)
{
    int cpus = ci->processors;
    if (cpus == 0 && live) cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    cJSON_AddNumberToObject(info, "logical_cpus", cpus);
    int cores = count_cores(root, cpus);
    if (cores == 0 && ci->cpu_cores)
        cores = atoi(ci->cpu_cores) * (ci->packages ? ci->packages : 1);
    if (cores > 0)
        cJSON_AddNumberToObject(info, "cores", cores);
    else
        add_unavailable(info, "cores", "%s", "no topology in sysfs and no 'cpu cores' in cpuinfo");
    if (ci->packages) cJSON_AddNumberToObject(info, "packages", ci->packages);
}

// How the measurement ran: whether the pools pin their threads (TRITBENCH_PIN), and the SLURM
// job it ran in, if any (a fleet run: `tritbench run --slurm`), so a result names its node.
static void add_placement(cJSON *info)
{
    cJSON_AddStringToObject(info, "threads_pinned", tb_pinning());
    static const char *const slurm[][2] = {
        {"job_id", "SLURM_JOB_ID"},
        {"array_job_id", "SLURM_ARRAY_JOB_ID"},
        {"array_task_id", "SLURM_ARRAY_TASK_ID"},
        {"node", "SLURMD_NODENAME"},
        {"partition", "SLURM_JOB_PARTITION"},
    };
    if (!getenv("SLURM_JOB_ID")) return;
    cJSON *o = cJSON_AddObjectToObject(info, "slurm");
    for (size_t i = 0; i < sizeof slurm / sizeof slurm[0]; i++)
        if (getenv(slurm[i][1])) cJSON_AddStringToObject(o, slurm[i][0], getenv(slurm[i][1]));
}

// This program: compiler, build and revision.
static void add_build(cJSON *info)
{
    cJSON *cc = cJSON_AddObjectToObject(info, "compiler");
    cJSON_AddStringToObject(cc, "id", TB_COMPILER);
    cJSON_AddStringToObject(cc, "version", __VERSION__);
    cJSON_AddStringToObject(cc, "build_type", TB_BUILD_TYPE);
    cJSON_AddStringToObject(cc, "flags", TB_BUILD_FLAGS);
    cJSON_AddStringToObject(cc, "target", build_arch());
    cJSON *tb = cJSON_AddObjectToObject(info, "tritbench");
    cJSON_AddStringToObject(tb, "version", TB_VERSION);
    cJSON_AddStringToObject(tb, "git_revision", TB_GIT_REVISION);
}

cJSON *tb_info_collect(const char *cpuinfo_path, const char *sysfs_root)
{
    int live = cpuinfo_path == NULL;
    const char *path = cpuinfo_path ? cpuinfo_path : "/proc/cpuinfo";
    const char *root = sysfs_root ? sysfs_root : "/sys";
    cJSON *info = cJSON_CreateObject();
    if (!info) return NULL;
    cpuinfo ci;
    int err = parse_cpuinfo(path, &ci);
    int arm = ci.implementer != NULL;
    const char *arch = arm ? (ci.architecture && atoi(ci.architecture) < 8 ? "arm" : "aarch64")
                       : ci.vendor ? "x86_64"
                                   : "unknown";
    if (err) add_unavailable(info, "cpuinfo", "%s", strerror(err));
    cJSON_AddStringToObject(info, "cpuinfo_path", path);
    cJSON_AddStringToObject(info, "sysfs_root", root);
    cJSON_AddStringToObject(info, "arch", arch);
    if (live && strcmp(arch, build_arch()) != 0)
        cJSON_AddStringToObject(info, "note",
                                "/proc/cpuinfo describes another architecture than this program's "
                                "(emulated, e.g. qemu-user): CPU fields are the host's");
    if (arm)
        add_arm_cpu(info, &ci);
    else
        add_x86_cpu(info, &ci, path);
    add_isa(info, &ci, live);
    add_topology(info, &ci, root, live);
    if (live) add_placement(info);
    add_caches(info, root);
    add_frequency(info, root);
    add_os(info);
    add_build(info);
    cJSON *sources = tb_info_sources(sysfs_root);
    if (sources) cJSON_AddItemToObject(info, "sources", sources);
    cpuinfo_free(&ci);
    char *slug = tb_info_cpu_slug(info);
    if (slug) cJSON_AddStringToObject(info, "cpu_slug", slug);
    free(slug);
    return info;
}

// Lower-case words of s joined by '-', "(r)"/"(tm)" dropped, appended to out.
static void slugify(const char *s, char *out, size_t len)
{
    size_t n = strlen(out);
    for (const char *c = s; *c && n + 1 < len; c++) {
        if (strncasecmp(c, "(r)", 3) == 0) {
            c += 2;
            continue;
        }
        if (strncasecmp(c, "(tm)", 4) == 0) {
            c += 3;
            continue;
        }
        if (isalnum((unsigned char)*c))
            out[n++] = (char)tolower((unsigned char)*c);
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
        out[n] = '\0';
    }
}

char *tb_info_cpu_slug(const cJSON *info)
{
    char slug[65] = ""; // the CPU's name: at most 64 characters, as before suffixes existed
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(info, "arch");
    const cJSON *vendor = cJSON_GetObjectItemCaseSensitive(info, "vendor");
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(info, "part_name");
    const cJSON *rawpart = cJSON_GetObjectItemCaseSensitive(info, "part");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(info, "model_name");
    int arm = cJSON_IsString(arch) && strncmp(arch->valuestring, "arm", 3) == 0;
    arm |= cJSON_IsString(arch) && strcmp(arch->valuestring, "aarch64") == 0;
    if (arm && cJSON_IsString(vendor) && cJSON_IsString(part)) {
        slugify(vendor->valuestring, slug, sizeof slug);
        slugify(" ", slug, sizeof slug);
        if (strcmp(part->valuestring, "unknown") != 0)
            slugify(part->valuestring, slug, sizeof slug);
        else if (cJSON_IsString(rawpart)) {
            slugify("part ", slug, sizeof slug);
            slugify(rawpart->valuestring, slug, sizeof slug);
        }
    } else if (cJSON_IsString(model) && strncmp(model->valuestring, "unavailable", 11) != 0) {
        slugify(model->valuestring, slug, sizeof slug);
    }
    size_t n = strlen(slug);
    while (n && slug[n - 1] == '-') slug[--n] = '\0';
    char full[192];
    snprintf(full, sizeof full, "%s", n ? slug : "unknown-cpu");
    // Features hidden by TRITBENCH_DISABLE make another CPU as far as the kernels can tell (a
    // fleet run uses that to stand in for a CPU kind): its results must not mix with this
    // CPU's, so the folder says what was hidden.
    const cJSON *hidden = cJSON_GetObjectItemCaseSensitive(info, "isa_hidden");
    if (cJSON_IsString(hidden) && hidden->valuestring[0]) {
        slugify(" without ", full, sizeof full);
        slugify(hidden->valuestring, full, sizeof full);
    }
    n = strlen(full);
    while (n && full[n - 1] == '-') full[--n] = '\0';
    return strdup(full);
}
