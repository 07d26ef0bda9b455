#include "counters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(TB_HAVE_PAPI)
#include <papi.h>
#endif
#if defined(TB_HAVE_LIKWID) && defined(LIKWID_PERFMON)
#include <likwid-marker.h>
#endif

struct tb_counters {
    int available, started;
    char reason[256];
    int eventset, n;
    int papi_user; // PAPI initialised; eventset to clean up
    const char *names[TB_COUNTERS_MAX];
};

#if defined(TB_HAVE_PAPI)
// Events every set needs, then ones added only where the CPU has them.
static const struct {
    const char *name;
    int code;
    int required;
} events[] = {
    {"PAPI_TOT_CYC", PAPI_TOT_CYC, 1},
    {"PAPI_TOT_INS", PAPI_TOT_INS, 1},
    {"PAPI_L1_DCM", PAPI_L1_DCM, 1},
    {"PAPI_L3_TCM", PAPI_L3_TCM, 0},
};

static const char *papi_hint(int rc)
{
    if (rc == PAPI_ENOEVNT) return " (no PMU under virtualization?)";
    if (rc == PAPI_EPERM || rc == PAPI_ESYS)
        return " (perf_event_paranoid too high? try root or CAP_PERFMON)";
    if (rc == PAPI_ECNFLCT) return " (counter in use by another tool?)";
    return "";
}

static int papi_open(tb_counters *c)
{
    if (!PAPI_is_initialized()) {
        int rc = PAPI_library_init(PAPI_VER_CURRENT);
        if (rc != PAPI_VER_CURRENT) {
            snprintf(c->reason, sizeof c->reason, "PAPI_library_init: %s",
                     rc > 0 ? "library version mismatch" : PAPI_strerror(rc));
            return 0;
        }
    }
    c->papi_user = 1;
    int rc = PAPI_create_eventset(&c->eventset);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI_create_eventset: %s", PAPI_strerror(rc));
        return 0;
    }
    for (size_t i = 0; i < sizeof events / sizeof events[0] && c->n < TB_COUNTERS_MAX; i++) {
        rc = PAPI_add_event(c->eventset, events[i].code);
        if (rc == PAPI_OK) {
            c->names[c->n++] = events[i].name;
        } else if (events[i].required) {
            snprintf(c->reason, sizeof c->reason, "PAPI_add_event(%s): %s%s", events[i].name,
                     PAPI_strerror(rc), papi_hint(rc));
            c->n = 0;
            return 0;
        }
    }
    return 1;
}

static void papi_close(tb_counters *c)
{
    if (c->eventset != PAPI_NULL) {
        if (c->started) {
            long long sink[TB_COUNTERS_MAX];
            PAPI_stop(c->eventset, sink);
        }
        PAPI_cleanup_eventset(c->eventset);
        PAPI_destroy_eventset(&c->eventset);
    }
    // PAPI stays initialised until the process ends: PAPI 7.0 crashes in PAPI_library_init
    // after a PAPI_shutdown.
    c->papi_user = 0;
}
#endif

tb_counters *tb_counters_open(void)
{
    tb_counters *c = calloc(1, sizeof *c);
    if (!c) return NULL;
#if defined(TB_HAVE_PAPI)
    c->eventset = PAPI_NULL;
    c->available = papi_open(c);
#else
    snprintf(c->reason, sizeof c->reason,
             "built without PAPI (meson -Dpapi=enabled, package libpapi-dev)");
#endif
    return c;
}

int tb_counters_available(const tb_counters *c)
{
    return c && c->available;
}

const char *tb_counters_reason(const tb_counters *c)
{
    return c ? c->reason : "out of memory";
}

void tb_counters_start(tb_counters *c)
{
    if (!c || !c->available || c->started) return;
#if defined(TB_HAVE_PAPI)
    int rc = PAPI_start(c->eventset);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI_start: %s%s", PAPI_strerror(rc), papi_hint(rc));
        c->available = 0;
        return;
    }
    c->started = 1;
#endif
}

int tb_counters_stop(tb_counters *c, long long *values, const char **names, int max)
{
    if (!c || !c->available || !c->started) return 0;
    c->started = 0;
#if defined(TB_HAVE_PAPI)
    long long v[TB_COUNTERS_MAX] = {0};
    int rc = PAPI_stop(c->eventset, v);
    if (rc != PAPI_OK) {
        snprintf(c->reason, sizeof c->reason, "PAPI_stop: %s", PAPI_strerror(rc));
        c->available = 0;
        return 0;
    }
    int n = c->n < max ? c->n : max;
    for (int i = 0; i < n; i++) {
        if (values) values[i] = v[i];
        if (names) names[i] = c->names[i];
    }
    return n;
#else
    (void)values, (void)names, (void)max;
    return 0;
#endif
}

void tb_counters_close(tb_counters *c)
{
    if (!c) return;
#if defined(TB_HAVE_PAPI)
    if (c->papi_user) papi_close(c);
#endif
    free(c);
}

#if defined(TB_HAVE_LIKWID) && defined(LIKWID_PERFMON)
static int likwid_live;

static int under_perfctr(void)
{
    return getenv("LIKWID_EVENTS") != NULL || getenv("LIKWID_FILEPATH") != NULL;
}

void tb_likwid_init(void)
{
    if (likwid_live || !under_perfctr()) return;
    LIKWID_MARKER_INIT;
    likwid_live = 1;
}

void tb_likwid_begin(const char *region)
{
    if (likwid_live) LIKWID_MARKER_START(region);
}

void tb_likwid_end(const char *region)
{
    if (likwid_live) LIKWID_MARKER_STOP(region);
}

void tb_likwid_close(void)
{
    if (!likwid_live) return;
    LIKWID_MARKER_CLOSE;
    likwid_live = 0;
}

int tb_likwid_active(void)
{
    return likwid_live || under_perfctr();
}

const char *tb_likwid_status(void)
{
    return tb_likwid_active() ? "likwid markers active (running under likwid-perfctr -m)"
                              : "likwid markers built in, inactive (run under likwid-perfctr -m)";
}
#else
void tb_likwid_init(void) {}
void tb_likwid_begin(const char *region)
{
    (void)region;
}
void tb_likwid_end(const char *region)
{
    (void)region;
}
void tb_likwid_close(void) {}
int tb_likwid_active(void)
{
    return 0;
}
const char *tb_likwid_status(void)
{
#if defined(TB_HAVE_LIKWID)
    return "likwid: found but LIKWID_PERFMON not defined, markers compiled out";
#else
    return "likwid: not built (meson -Dlikwid=enabled, package likwid)";
#endif
}
#endif
