// tritbench kernels: what is built here and what this CPU can run.
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench kernels [--json] [--out FILE]\n"
    "\n"
    "Lists every kernel built for this architecture: name, required ISA, bits per weight\n"
    "(packed bytes of a 2560x2560 matrix, scale included, times 8 / weights), bytes of prepared\n"
    "activations per activation value (LUT kernels keep a table per group: their overhead),\n"
    "block sizes, exactness, and whether this CPU can run it or the reason it cannot.\n"
    "  --json       the document on standard output instead of the table\n"
    "  --out FILE   also write the document to FILE (atomically)\n";

typedef struct {
    int json;
    const char *out;
} kernels_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("json", kernels_options, json),
    TB_OPT_STRING_ROW("out", kernels_options, out),
};

static void render(const cJSON *doc)
{
    const char *have = tb_jstr(doc, "cpu_features"), *raw = tb_jstr(doc, "cpu_features_detected");
    const char *best = tb_jstr(doc, "best");
    printf("CPU features: %s\n", have[0] ? have : "(none of interest)");
    if (strcmp(have, raw) != 0) printf("detected before TRITBENCH_DISABLE: %s\n", raw);
    printf("\n%-16s %-30s %6s %7s %7s %6s %-6s %s\n", "kernel", "isa", "bits/w", "act B/x",
           "k_block", "n_tile", "exact", "here");
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItem(doc, "kernels"))
    {
        const char *name = tb_jstr(k, "name"), *isa = tb_jstr(k, "isa");
        int ok = cJSON_IsTrue(cJSON_GetObjectItem(k, "supported"));
        printf("%-16s %-30s %6.3f %7.2f %7d %6d %-6s %s%s\n", name, isa[0] ? isa : "-",
               tb_jnum(k, "bits_per_weight"), tb_jnum(k, "activation_bytes_per_value"),
               (int)tb_jnum(k, "k_block"), (int)tb_jnum(k, "n_tile"),
               cJSON_IsTrue(cJSON_GetObjectItem(k, "exact")) ? "yes" : "bound", ok ? "yes" : "no: ",
               ok ? (strcmp(name, best) == 0 ? " (best)" : "") : tb_jstr(k, "reason"));
    }
}

int cmd_kernels(int argc, char **argv)
{
    kernels_options o = {0};
    int rc = tb_parse_options("kernels", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    cJSON *doc = tb_kernels_doc();
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, TB_OK);
}
