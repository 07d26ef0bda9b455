// tritbench kernels: what is built here and what this CPU can run.
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench kernels [--peer-lib DIR] [--json] [--out FILE]\n"
    "\n"
    "Lists every kernel built for this architecture: name, required ISA, bits per weight\n"
    "(packed bytes of a 2560x2560 matrix, scale included, times 8 / weights), bytes of prepared\n"
    "activations per activation value (LUT kernels keep a table per group: their overhead),\n"
    "block sizes, exactness, and whether this CPU can run it or the reason it cannot; then\n"
    "the tuned choice per regime and thread count when this CPU's tune file exists\n"
    "(results/<cpu>/tune.json or TRITBENCH_TUNE=FILE; 'tritbench tune'), or why none applies.\n"
    "Peers (other projects' kernels, named peer:...) are listed when their library is found:\n"
    "ggml's from --peer-lib DIR, else $TRITBENCH_GGML_DIR, else where .ci/setup installs it.\n"
    "  --peer-lib DIR  directory of the peers' libraries (libggml-base.so, libggml-cpu-*.so)\n"
    "  --json       the document on standard output instead of the table\n"
    "  --out FILE   also write the document to FILE (atomically)\n";

typedef struct {
    int json;
    const char *out, *peer_lib;
} kernels_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("json", kernels_options, json),
    TB_OPT_STRING_ROW("out", kernels_options, out),
    TB_OPT_STRING_ROW("peer-lib", kernels_options, peer_lib),
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

static void render_peers(const cJSON *peers)
{
    if (strcmp(tb_jstr(peers, "status"), "loaded") == 0)
        printf("\npeers: ggml %s (commit %s), CPU library %s (score %d), from %s (%s)\n",
               tb_jstr(peers, "ggml_version"), tb_jstr(peers, "ggml_commit"),
               tb_jstr(peers, "cpu_library"), (int)tb_jnum(peers, "cpu_score"),
               tb_jstr(peers, "dir"), tb_jstr(peers, "source"));
    else
        printf("\npeers: none (%s)\n", tb_jstr(peers, "reason"));
}

// The tune file's choices (or why there are none): dispatch follows them on this CPU.
static void render_tuned(const cJSON *tuned)
{
    const char *status = tb_jstr(tuned, "status");
    if (strcmp(status, "used") != 0) {
        printf("\ntuned choice: none, dispatch by rank (%s: %s)\n", status,
               tb_jstr(tuned, "reason"));
        return;
    }
    printf("\ntuned choice (%s): the fastest kernel per regime and thread count, and of each "
           "format\n",
           tb_jstr(tuned, "file"));
    const cJSON *r, *e, *m;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(tuned, "regimes"))
    {
        printf("  %-10s %3d thread%s  %-16s", tb_jstr(r, "regime"), (int)tb_jnum(r, "threads"),
               tb_jnum(r, "threads") > 1 ? "s" : " ", tb_jstr(r, "best"));
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(r, "best_by_format"))
            printf(" %s:%s", m->string, m->valuestring);
        printf("\n");
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(tuned, "engine"))
    {
        printf("  engine at %d thread%s: ", (int)tb_jnum(e, "threads"),
               tb_jnum(e, "threads") > 1 ? "s" : "");
        if (!cJSON_GetObjectItem(e, "decode")) {
            printf("not usable: %s\n", tb_jstr(e, "reason"));
            continue;
        }
        printf("decode %s, prefill", tb_jstr(e, "decode"));
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(e, "prefill"))
            printf(" m=%s %s", m->string, m->valuestring);
        const cJSON *d = cJSON_GetObjectItem(e, "driver");
        if (d)
            printf("; prefetch %d bytes, chunk work %d bytes", (int)tb_jnum(d, "prefetch_bytes"),
                   (int)tb_jnum(d, "chunk_work"));
        else
            printf("; prefetch and chunk work: defaults (not tuned)");
        printf("\n");
    }
}

int cmd_kernels(int argc, char **argv)
{
    kernels_options o = {0};
    int rc = tb_parse_options("kernels", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    cJSON *doc;
    tb_error err;
    if ((rc = tb_kernels_run(o.peer_lib, &doc, &err))) return tb_run_error("kernels", rc, &err);
    if (!o.json)
        render(doc), render_peers(cJSON_GetObjectItem(doc, "peers")),
            render_tuned(cJSON_GetObjectItem(doc, "tuned"));
    return tb_output(doc, o.json, o.out, TB_OK);
}
