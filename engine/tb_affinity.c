// Thread pinning (tb_affinity.h): the allowed CPUs, one per physical core, in CPU order.
#define _GNU_SOURCE
#include "tb_affinity.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int pin_on, ncores, cores[CPU_SETSIZE];

// -1 when the file cannot be read (no sysfs: every CPU then counts as its own core).
static long read_topology(int cpu, const char *what)
{
    char path[128];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, what);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f && fscanf(f, "%ld", &v) != 1) v = -1;
    if (f) fclose(f);
    return v;
}

static void find_cores(void)
{
    const char *env = getenv("TRITBENCH_PIN");
    pin_on = env && strcmp(env, "cores") == 0;
    if (!pin_on) return;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        pin_on = 0;
        return;
    }
    static long package[CPU_SETSIZE], core[CPU_SETSIZE];
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        long pk = read_topology(cpu, "physical_package_id"), co = read_topology(cpu, "core_id");
        int sibling_seen = 0;
        for (int i = 0; i < ncores && co >= 0; i++)
            sibling_seen |= package[i] == pk && core[i] == co;
        if (sibling_seen) continue; // a second hyperthread of a core already listed
        package[ncores] = pk, core[ncores] = co, cores[ncores++] = cpu;
    }
    if (ncores == 0) pin_on = 0;
}

const char *tb_pinning(void)
{
    pthread_once(&once, find_cores);
    return pin_on ? "cores" : "no";
}

int tb_pin_current_thread(int t)
{
    pthread_once(&once, find_cores);
    if (!pin_on) return 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cores[t % ncores], &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? 0 : -1;
}
