#define _GNU_SOURCE // syscall(SYS_perf_event_open)
#include "energy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#endif

#define PERF_PMU "/sys/bus/event_source/devices/power"

typedef struct {
    char dir[PATH_MAX]; // root/intel-rapl:N[:M]
    char entry[32];     // intel-rapl:N[:M]
    char name[64];      // "package-0", "core", ...
    int package, sub;   // N, M (-1 for a package zone)
    uint64_t max_uj;    // 0 = unknown
    uint64_t start_uj;
    int start_ok;
} zone;

struct tb_energy {
    int available, started;
    char reason[512];
    int nzones;
    zone z[TB_ENERGY_MAX_ZONES];
    int perf_fd; // >= 0 when the perf event is the source
    double perf_scale;
    uint64_t perf_start;
};

// Reads a whole number from a small file; 0 or an errno value.
static int read_u64(const char *path, uint64_t *out)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) return err;
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || errno || (*end != '\0' && *end != '\n')) return EINVAL;
    *out = v;
    return 0;
}

// Reads the first line of a small file (no newline); 0 or an errno value.
static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f) return errno;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok) return EINVAL;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static const char *why(int err)
{
    if (err == EACCES || err == EPERM) return " (root only since Linux 5.10, 2020)";
    return "";
}

// "intel-rapl:N" or "intel-rapl:N:M".
static int parse_entry(const char *s, int *package, int *sub)
{
    const char *prefix = "intel-rapl:";
    if (strncmp(s, prefix, strlen(prefix)) != 0) return 0;
    char *end;
    const char *p = s + strlen(prefix);
    if (*p < '0' || *p > '9') return 0;
    *package = (int)strtol(p, &end, 10);
    *sub = -1;
    if (*end == '\0') return 1;
    if (*end != ':' || end[1] < '0' || end[1] > '9') return 0;
    *sub = (int)strtol(end + 1, &end, 10);
    return *end == '\0';
}

static int zone_cmp(const void *a, const void *b)
{
    const zone *x = a, *y = b;
    if (x->package != y->package) return x->package < y->package ? -1 : 1;
    return (x->sub > y->sub) - (x->sub < y->sub);
}

// Scans root for zones; 1 if the reader is usable, else 0 with e->reason set.
static int open_powercap(tb_energy *e, const char *root, const char *shown_root)
{
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT)
            snprintf(e->reason, sizeof e->reason, "no %s (virtual machine?)", shown_root);
        else
            snprintf(e->reason, sizeof e->reason, "%s: %s", shown_root, strerror(errno));
        return 0;
    }
    struct dirent *de;
    int skipped = 0;
    while ((de = readdir(d)) != NULL) {
        int package, sub;
        if (!parse_entry(de->d_name, &package, &sub)) continue;
        if (e->nzones == TB_ENERGY_MAX_ZONES) {
            skipped++;
            continue;
        }
        zone *z = &e->z[e->nzones++];
        memset(z, 0, sizeof *z);
        snprintf(z->entry, sizeof z->entry, "%.31s", de->d_name);
        snprintf(z->dir, sizeof z->dir, "%s/%s", root, de->d_name);
        z->package = package;
        z->sub = sub;
    }
    closedir(d);
    if (skipped)
        fprintf(stderr, "tritbench: %s: %d RAPL zones beyond the first %d ignored\n", shown_root,
                skipped, TB_ENERGY_MAX_ZONES);
    if (e->nzones == 0) {
        snprintf(e->reason, sizeof e->reason, "no RAPL zones (intel-rapl:*) in %s", shown_root);
        return 0;
    }
    qsort(e->z, (size_t)e->nzones, sizeof e->z[0], zone_cmp);
    int packages = 0;
    for (int i = 0; i < e->nzones; i++) packages += e->z[i].sub < 0;
    for (int i = 0; i < e->nzones; i++) {
        zone *z = &e->z[i];
        char path[PATH_MAX + 32], name[48];
        snprintf(path, sizeof path, "%s/name", z->dir);
        if (read_line(path, name, sizeof name) != 0 || name[0] == '\0')
            snprintf(name, sizeof name, "%s", z->entry);
        if (z->sub >= 0 && packages > 1)
            snprintf(z->name, sizeof z->name, "package-%d/%s", z->package, name);
        else
            snprintf(z->name, sizeof z->name, "%s", name);
        snprintf(path, sizeof path, "%s/max_energy_range_uj", z->dir);
        if (read_u64(path, &z->max_uj) != 0) z->max_uj = 0;
        uint64_t v;
        snprintf(path, sizeof path, "%s/energy_uj", z->dir);
        int err = read_u64(path, &v);
        if (err) {
            snprintf(e->reason, sizeof e->reason, "%s/energy_uj: %s%s", z->entry,
                     err == EINVAL ? "not a whole number" : strerror(err), why(err));
            e->nzones = 0;
            return 0;
        }
    }
    return 1;
}

#if defined(__linux__)
// The perf event power/energy-pkg/ on the first CPU of the PMU's mask; 1 or 0 with a reason
// (appended to e->reason after "; ").
static int open_perf(tb_energy *e)
{
    char why_not[256] = "";
    uint64_t type = 0;
    char event[64], cpumask[64];
    int err = read_u64(PERF_PMU "/type", &type);
    if (err) {
        snprintf(why_not, sizeof why_not, "no perf 'power' PMU (" PERF_PMU ")");
    } else if (read_line(PERF_PMU "/events/energy-pkg", event, sizeof event) != 0) {
        snprintf(why_not, sizeof why_not, "perf PMU 'power' has no energy-pkg event");
    } else {
        char scale[64];
        unsigned long long config = 0;
        const char *eq = strstr(event, "event=");
        if (!eq || sscanf(eq + 6, "%lli", &config) != 1) {
            snprintf(why_not, sizeof why_not, PERF_PMU "/events/energy-pkg: unexpected '%s'",
                     event);
        } else if (read_line(PERF_PMU "/events/energy-pkg.scale", scale, sizeof scale) != 0 ||
                   (e->perf_scale = strtod(scale, NULL)) <= 0) {
            snprintf(why_not, sizeof why_not,
                     PERF_PMU "/events/energy-pkg.scale: missing or not a positive number");
        } else {
            int cpu = 0;
            if (read_line(PERF_PMU "/cpumask", cpumask, sizeof cpumask) == 0) cpu = atoi(cpumask);
            struct perf_event_attr attr;
            memset(&attr, 0, sizeof attr);
            attr.type = (uint32_t)type;
            attr.size = sizeof attr;
            attr.config = config;
            long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, 0UL);
            if (fd < 0) {
                int en = errno;
                snprintf(why_not, sizeof why_not, "perf_event_open(power/energy-pkg/): %s%s",
                         strerror(en),
                         en == EACCES || en == EPERM
                             ? " (needs root, CAP_PERFMON or perf_event_paranoid <= 0)"
                             : "");
            } else {
                e->perf_fd = (int)fd;
                e->nzones = 1;
                snprintf(e->z[0].name, sizeof e->z[0].name, "package-0");
                snprintf(e->z[0].entry, sizeof e->z[0].entry, "power/energy-pkg/");
                e->z[0].sub = -1;
                return 1;
            }
        }
    }
    size_t used = strlen(e->reason);
    snprintf(e->reason + used, sizeof e->reason - used, "; %s", why_not);
    return 0;
}

static int perf_read(const tb_energy *e, uint64_t *v)
{
    return read(e->perf_fd, v, sizeof *v) == (ssize_t)sizeof *v;
}
#endif

tb_energy *tb_energy_open(const char *powercap_root)
{
    tb_energy *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->perf_fd = -1;
    const char *root = powercap_root ? powercap_root : "/sys/class/powercap";
    e->available = open_powercap(e, root, root);
#if defined(__linux__)
    if (!e->available && !powercap_root) e->available = open_perf(e);
#endif
    if (e->available) e->reason[0] = '\0';
    return e;
}

int tb_energy_available(const tb_energy *e)
{
    return e && e->available;
}

const char *tb_energy_reason(const tb_energy *e)
{
    return e ? e->reason : "out of memory";
}

void tb_energy_start(tb_energy *e)
{
    if (!e || !e->available) return;
    e->started = 1;
#if defined(__linux__)
    if (e->perf_fd >= 0) {
        e->z[0].start_ok = perf_read(e, &e->perf_start);
        return;
    }
#endif
    for (int i = 0; i < e->nzones; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/energy_uj", e->z[i].dir);
        e->z[i].start_ok = read_u64(path, &e->z[i].start_uj) == 0;
    }
}

int tb_energy_stop(tb_energy *e, double *joules, const char **names, int max_zones)
{
    if (!e || !e->available || !e->started) return 0;
    e->started = 0;
    for (int i = 0; i < e->nzones && i < max_zones; i++) {
        zone *z = &e->z[i];
        double j = NAN;
#if defined(__linux__)
        if (e->perf_fd >= 0) {
            uint64_t v;
            if (z->start_ok && perf_read(e, &v)) j = (double)(v - e->perf_start) * e->perf_scale;
            if (joules) joules[i] = j;
            if (names) names[i] = z->name;
            continue;
        }
#endif
        char path[PATH_MAX + 32];
        uint64_t end;
        snprintf(path, sizeof path, "%s/energy_uj", z->dir);
        if (z->start_ok && read_u64(path, &end) == 0) {
            if (end >= z->start_uj)
                j = (double)(end - z->start_uj) * 1e-6;
            else if (z->max_uj >= z->start_uj) // wrapped once, past max_energy_range_uj
                j = (double)((z->max_uj - z->start_uj) + end) * 1e-6;
        }
        if (joules) joules[i] = j;
        if (names) names[i] = z->name;
    }
    return e->nzones < max_zones ? e->nzones : max_zones;
}

void tb_energy_close(tb_energy *e)
{
    if (!e) return;
    if (e->perf_fd >= 0) close(e->perf_fd);
    free(e);
}
