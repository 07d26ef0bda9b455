// tritbench kernels: what is built here and what this CPU can run.
#include "peers.h"
#include "runners.h"
#include "select.h"
#include "tb_kernel.h"
#include "tune_file.h"

#include <stdio.h>
#include <string.h>

// Bits per weight are measured on a 2B4T q-projection (2560 x 2560): packing and scale
// overhead included.
#define BPW_N 2560
#define BPW_K 2560

static cJSON *kernel_to_json(const tb_kernel *k)
{
    char isa[160], why[200];
    tb_isa_names(k->isa, isa, sizeof isa);
    int ok = tb_kernel_supported(k, why, sizeof why);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddStringToObject(o, "description", k->description);
    cJSON_AddStringToObject(o, "isa", isa);
    cJSON_AddStringToObject(o, "format", tb_kernel_format(k));
    cJSON_AddNumberToObject(o, "bits_per_weight",
                            8.0 * (double)k->packed_size(BPW_N, BPW_K) / ((double)BPW_N * BPW_K));
    cJSON_AddNumberToObject(o, "activation_bytes_per_value", (double)k->act_size(1, BPW_K) / BPW_K);
    cJSON_AddNumberToObject(o, "k_block", k->k_block);
    cJSON_AddNumberToObject(o, "n_tile", k->n_tile);
    cJSON_AddBoolToObject(o, "exact", k->exact);
    cJSON_AddBoolToObject(o, "supported", ok);
    if (!ok) cJSON_AddStringToObject(o, "reason", why);
    return o;
}

static const char *const tune_status_names[] = {"off", "none", "refused", "mismatch", "used"};

// What the tune file of this CPU says (tune_file.h): its status, and when used, the fastest
// kernel per regime and thread count and the engine's kernels per thread count and bucket.
static cJSON *tuned_to_json(void)
{
    const tb_tune_state *st = tb_tune_dispatch();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", tune_status_names[st->status]);
    cJSON_AddStringToObject(o, "file", st->path);
    if (st->status != TB_TUNE_USED) {
        cJSON_AddStringToObject(o, "reason", st->why);
        return o;
    }
    const tb_tune *t = &st->tune;
    cJSON *regimes = cJSON_AddArrayToObject(o, "regimes");
    for (int i = 0; i < t->nregimes; i++) {
        const tb_tune_regime *r = &t->regimes[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "regime", r->name);
        cJSON_AddNumberToObject(e, "threads", r->threads);
        cJSON_AddStringToObject(e, "best", r->best->name);
        cJSON *bf = cJSON_AddObjectToObject(e, "best_by_format");
        for (int f = 0; f < r->nformats; f++)
            cJSON_AddStringToObject(bf, tb_kernel_format(r->format_best[f]),
                                    r->format_best[f]->name);
        cJSON_AddItemToArray(regimes, e);
    }
    // The engine per tuned thread count: decode, and prefill per bucket (prompt = its m).
    cJSON *list = cJSON_AddArrayToObject(o, "engine");
    for (int i = 0; i < t->nregimes; i++) {
        int threads = t->regimes[i].threads, first = 1;
        for (int j = 0; j < i; j++) first &= t->regimes[j].threads != threads;
        tb_tune_pick pick;
        char why[300], m[16];
        if (!first) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(list, e);
        cJSON_AddNumberToObject(e, "threads", threads);
        if (tb_tune_pick_engine(t, threads, 1, &pick, why, sizeof why)) {
            cJSON_AddStringToObject(e, "reason", why);
            continue;
        }
        cJSON_AddStringToObject(e, "decode", pick.decode->name);
        tb_driver_params dp;
        if (tb_tune_pick_driver(t, pick.decode, threads, &dp, why, sizeof why) == 0) {
            cJSON *d = cJSON_AddObjectToObject(e, "driver");
            cJSON_AddNumberToObject(d, "prefetch_bytes", dp.prefetch_bytes);
            cJSON_AddNumberToObject(d, "chunk_work", dp.chunk_work);
        }
        cJSON *prefill = cJSON_AddObjectToObject(e, "prefill");
        for (int j = 0; j < t->nregimes; j++) {
            const tb_tune_regime *r = &t->regimes[j];
            if (r->m == 1 || r->threads != threads ||
                tb_tune_pick_engine(t, threads, r->m, &pick, why, sizeof why))
                continue;
            snprintf(m, sizeof m, "%d", r->m);
            cJSON_AddStringToObject(prefill, m, pick.prefill->name);
        }
    }
    return o;
}

// The peers' library: loaded (its kernels then join the list) or why not.
static cJSON *peers_to_json(const char *peer_lib, int *explicit_failure, char *msg, size_t len)
{
    char dir[512];
    const char *source;
    tb_peer_dir(peer_lib, dir, sizeof dir, &source);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", dir);
    cJSON_AddStringToObject(o, "source", source);
    *explicit_failure = 0;
    if (tb_peers_load(peer_lib, msg, len)) {
        cJSON_AddStringToObject(o, "status", "none");
        cJSON_AddStringToObject(o, "reason", msg);
        *explicit_failure = strcmp(source, "default") != 0;
        return o;
    }
    const tb_ggml_lib *lib = tb_peers_lib();
    cJSON_AddStringToObject(o, "status", "loaded");
    cJSON_AddStringToObject(o, "ggml_version", lib->version);
    cJSON_AddStringToObject(o, "ggml_commit", lib->commit);
    cJSON_AddStringToObject(o, "cpu_library", lib->cpu_path);
    cJSON_AddStringToObject(o, "cpu_variant", lib->variant);
    cJSON_AddNumberToObject(o, "cpu_score", lib->score);
    return o;
}

int tb_kernels_run(const char *peer_lib, cJSON **doc_out, tb_error *err)
{
    *doc_out = NULL;
    int explicit_failure;
    char msg[700];
    cJSON *peers = peers_to_json(peer_lib, &explicit_failure, msg, sizeof msg);
    if (explicit_failure) {
        cJSON_Delete(peers);
        return tb_fail(err, "%s", msg);
    }
    char have[256], raw[256];
    tb_isa_names(tb_cpu_features(), have, sizeof have);
    tb_isa_names(tb_cpu_features_raw(), raw, sizeof raw);
    const tb_kernel *best = tb_kernel_best();
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "cpu_features", have);
    cJSON_AddStringToObject(doc, "cpu_features_detected", raw);
    cJSON_AddStringToObject(doc, "best", best ? best->name : "");
    cJSON *list = cJSON_AddArrayToObject(doc, "kernels");
    for (int i = 0; i < tb_kernel_count(); i++)
        cJSON_AddItemToArray(list, kernel_to_json(tb_kernel_at(i)));
    cJSON_AddItemToObject(doc, "peers", peers);
    cJSON_AddItemToObject(doc, "tuned", tuned_to_json());
    *doc_out = doc;
    return TB_OK;
}
