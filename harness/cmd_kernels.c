// tritbench kernels: what is built here and what this CPU can run.
#include "cli.h"
#include "tb_kernel.h"

#include <string.h>

static const char *help =
    "usage: tritbench kernels [--json]\n"
    "\n"
    "Lists every kernel built for this architecture: name, required ISA, bits per weight\n"
    "(packed bytes of a 2560x2560 matrix, scale included, times 8 / weights), bytes of prepared\n"
    "activations per activation value (LUT kernels keep a table per group: their overhead),\n"
    "block sizes, exactness, and whether this CPU can run it or the reason it cannot.\n"
    "  --json   machine-readable output on stdout\n";

// Bits per weight on a 2B4T q-projection (2560 x 2560): packing and scale overhead included.
#define BPW_N 2560
#define BPW_K 2560

int cmd_kernels(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (tb_flag(argv, i, "--help") || tb_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (tb_flag(argv, i, "--json")) {
            json = 1;
        } else {
            tb_usage_error("kernels", "unknown option '%s'", argv[i]);
        }
    }
    char have[256], raw[256];
    tb_isa_names(tb_cpu_features(), have, sizeof have);
    tb_isa_names(tb_cpu_features_raw(), raw, sizeof raw);
    const tb_kernel *best = tb_kernel_best();
    cJSON *doc = json ? cJSON_CreateObject() : NULL;
    cJSON *list = NULL;
    if (json) {
        cJSON_AddStringToObject(doc, "cpu_features", have);
        cJSON_AddStringToObject(doc, "cpu_features_detected", raw);
        cJSON_AddStringToObject(doc, "best", best ? best->name : "");
        list = cJSON_AddArrayToObject(doc, "kernels");
    } else {
        printf("CPU features: %s\n", have[0] ? have : "(none of interest)");
        if (strcmp(have, raw) != 0) printf("detected before TRITBENCH_DISABLE: %s\n", raw);
        printf("\n%-16s %-30s %6s %7s %7s %6s %-6s %s\n", "kernel", "isa", "bits/w", "act B/x",
               "k_block", "n_tile", "exact", "here");
    }
    for (int i = 0; i < tb_kernel_count(); i++) {
        const tb_kernel *k = tb_kernel_at(i);
        char isa[160], why[200];
        tb_isa_names(k->isa, isa, sizeof isa);
        int ok = tb_kernel_supported(k, why, sizeof why);
        double bpw = 8.0 * (double)k->packed_size(BPW_N, BPW_K) / ((double)BPW_N * BPW_K);
        double act_bytes = (double)k->act_size(1, BPW_K) / BPW_K;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", k->name);
            cJSON_AddStringToObject(o, "description", k->description);
            cJSON_AddStringToObject(o, "isa", isa);
            cJSON_AddNumberToObject(o, "bits_per_weight", bpw);
            cJSON_AddNumberToObject(o, "activation_bytes_per_value", act_bytes);
            cJSON_AddNumberToObject(o, "k_block", k->k_block);
            cJSON_AddNumberToObject(o, "n_tile", k->n_tile);
            cJSON_AddBoolToObject(o, "exact", k->exact);
            cJSON_AddBoolToObject(o, "supported", ok);
            if (!ok) cJSON_AddStringToObject(o, "reason", why);
            cJSON_AddItemToArray(list, o);
        } else {
            printf("%-16s %-30s %6.3f %7.2f %7d %6d %-6s %s%s\n", k->name, isa[0] ? isa : "-", bpw,
                   act_bytes, k->k_block, k->n_tile, k->exact ? "yes" : "bound",
                   ok ? "yes" : "no: ", ok ? (k == best ? " (best)" : "") : why);
        }
    }
    if (json) return tb_emit_json(doc, NULL) ? TB_EXIT_FAIL : 0;
    return 0;
}
