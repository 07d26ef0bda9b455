// tritbench kernels: what is built here and what this CPU can run.
#include "runners.h"
#include "tb_kernel.h"

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

cJSON *tb_kernels_doc(void)
{
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
    return doc;
}
