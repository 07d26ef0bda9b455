// tritbench validate: the conformance checks of the test suite, on any kernel and shape.
#include "check.h"
#include "select.h"
#include "runners.h"
#include "tb_clock.h"

#include <stdio.h>
#include <string.h>

void tb_validate_defaults(tb_validate_params *p)
{
    *p = (tb_validate_params){.kernel = "all", .m = 1, .seed = 1};
}

typedef struct {
    const tb_observer *obs;
    const char *what;
} suite_progress;

static void on_suite_progress(void *ctx, int done, int total)
{
    suite_progress *sp = ctx;
    tb_observe(sp->obs, sp->what, done, total);
}

// Shapes on which the oracle itself (naive) is checked against the float reference: the 2B4T
// k-projection, the longest k of 2B4T with odd m and n, and k just past one block.
static const int naive_ref_shapes[][3] = {{1, 640, 2560}, {3, 37, 6912}, {8, 33, 257}};

static void check_kernel(const tb_validate_params *p, const tb_kernel *kn, const tb_observer *obs,
                         tb_check_result *res)
{
    const int *s = p->shape;
    if (s[0]) {
        tb_check_shape_patterns(kn, p->m, s[0], s[1], p->seed, res);
    } else {
        suite_progress sp = {obs, kn->name};
        tb_check_suite(kn, p->seed, res, on_suite_progress, &sp);
    }
    if (strcmp(kn->name, "naive") != 0) return;
    if (s[0]) {
        tb_check_naive_vs_reference(p->m, s[0], s[1], p->seed, res);
    } else {
        for (size_t i = 0; i < sizeof naive_ref_shapes / sizeof naive_ref_shapes[0]; i++)
            tb_check_naive_vs_reference(naive_ref_shapes[i][0], naive_ref_shapes[i][1],
                                        naive_ref_shapes[i][2], p->seed, res);
    }
}

int tb_validate_run(const tb_validate_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    char msg[256];
    if (p->shape[0] && tb_check_shape(p->m, p->shape[0], p->shape[1], msg, sizeof msg))
        return tb_fail(err, "--shape: %s", msg);
    int all = strcmp(p->kernel, "all") == 0;
    int rc = tb_select_peers(all ? NULL : p->kernel, p->peer_lib, err);
    if (rc) return rc;
    if (!all && !tb_kernel_find(p->kernel))
        return tb_fail(err, "--kernel: no kernel named '%s' here (see 'tritbench kernels')",
                       p->kernel);
    *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(*doc, "seed", (double)p->seed);
    if (p->shape[0]) {
        cJSON *s = cJSON_AddObjectToObject(*doc, "shape");
        cJSON_AddNumberToObject(s, "m", p->m);
        cJSON_AddNumberToObject(s, "n", p->shape[0]);
        cJSON_AddNumberToObject(s, "k", p->shape[1]);
    }
    cJSON *list = cJSON_AddArrayToObject(*doc, "results");
    int failures = 0;
    // "all": tritbench's own kernels; a peer is validated by name.
    for (int i = 0; i < (all ? tb_kernel_static_count() : tb_kernel_count()); i++) {
        const tb_kernel *kn = tb_kernel_at(i);
        if (!all && strcmp(kn->name, p->kernel) != 0) continue;
        char why[200];
        tb_check_result res = {0};
        double t0 = tb_now();
        int supported = tb_kernel_supported(kn, why, sizeof why);
        if (supported) check_kernel(p, kn, obs, &res);
        const char *status = !supported ? "SKIP" : res.failed ? "FAIL" : "PASS";
        failures += res.failed;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", kn->name);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "cases", res.cases);
        cJSON_AddNumberToObject(o, "failed", res.failed);
        cJSON_AddNumberToObject(o, "worst_error_over_bound", res.worst_ratio);
        cJSON_AddNumberToObject(o, "seconds", tb_now() - t0);
        if (!supported) cJSON_AddStringToObject(o, "reason", why);
        if (res.failed) cJSON_AddStringToObject(o, "first_failure", res.first_failure);
        cJSON_AddItemToArray(list, o);
    }
    return failures ? TB_CHECK_FAILED : TB_OK;
}
