// tritbench model create | info: model files (runners/model_files.c).
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench model create --config NAME --out FILE [--seed S] [--format FMT]\n"
    "                              [--embedding-type TYPE] [--arch ARCH]\n"
    "                              [--hidden-activation relu2|silu|none] [--tensor-scales]\n"
    "                              [--tokenizer-from FILE] [--json]\n"
    "       tritbench model info --model FILE|CONFIG [--json]\n"
    "\n"
    "create  writes a synthetic BitNet b1.58 model (deterministic from the seed: latent normal\n"
    "        weights quantized absmean per tensor) as a GGUF v3 file, atomically.\n"
    "        --format i2_s (default: bitnet.cpp's type 36), tq2_0, tq1_0 (ggml types 35, 34;\n"
    "        need dim and FFN size multiples of 256; scales stored in f16), f32 (weights as\n"
    "        {-s, 0, +s} floats). The embedding is written F16 when that loses nothing, else\n"
    "        F32; --embedding-type f16 (rounded), f32, q8_0, q4_0 (ggml's blocks of 32) or q6_k\n"
    "        (blocks of 256; dim a multiple of 256) writes it in that type: the model the file\n"
    "        holds is then the decoded one.\n"
    "        --arch bitnet-b1.58 (default for i2_s: bitnet.cpp's), bitnet (default for the\n"
    "        ggml types: llama.cpp's) or bitnet-25 names the architecture; --hidden-activation\n"
    "        writes <arch>.hidden_activation = relu2 (default: what the synthetic model\n"
    "        computes) or silu; none writes no key, and the file computes its architecture's\n"
    "        FFN (bitnet: silu). --tensor-scales (architecture bitnet) also writes one f32\n"
    "        scale tensor per BitLinear, blk.N.<projection>.scale = 0.5, 1, 2 in turn: the\n"
    "        file's model is then the synthetic one with each product's output multiplied\n"
    "        by its scale.\n"
    "        --tokenizer-from FILE: the tokenizer of another GGUF file (every tokenizer.* key,\n"
    "        e.g. the real 2B4T's LLaMA 3 vocabulary) in place of the placeholder vocabulary,\n"
    "        and its token count as the vocabulary size: a synthetic model that takes text\n"
    "        (generate --prompt, perplexity --text).\n"
    "info    shapes, parameter counts and weight bytes of a configuration or file, and the\n"
    "        types a file stores the embedding and output head in.\n"
    "Configurations: see 'tritbench model info --model NAME'; names: 2B4T, 125M ... 100B, tiny,\n"
    "tiny256.\n"
    "Exit status: 0 success, 2 bad usage or input.\n";

typedef struct {
    tb_model_create_params create;
    const char *model;
    int json;
} model_options;

static const tb_option create_options[] = {
    TB_OPT_STRING_ROW("config", model_options, create.config),
    TB_OPT_STRING_ROW("out", model_options, create.out),
    TB_OPT_U64_ROW("seed", model_options, create.seed),
    TB_OPT_STRING_ROW("format", model_options, create.format),
    TB_OPT_STRING_ROW("embedding-type", model_options, create.embedding_type),
    TB_OPT_STRING_ROW("arch", model_options, create.arch),
    TB_OPT_STRING_ROW("hidden-activation", model_options, create.hidden_activation),
    TB_OPT_FLAG_ROW("tensor-scales", model_options, create.tensor_scales),
    TB_OPT_STRING_ROW("tokenizer-from", model_options, create.tokenizer_from),
    TB_OPT_FLAG_ROW("json", model_options, json),
};

static const tb_option info_options[] = {
    TB_OPT_STRING_ROW("model", model_options, model),
    TB_OPT_FLAG_ROW("json", model_options, json),
};

static void render_info(const cJSON *doc)
{
    const cJSON *c = cJSON_GetObjectItem(doc, "config");
    double tern = tb_jnum(doc, "ternary_params"), emb = tb_jnum(doc, "embedding_params");
    int heads = (int)tb_jnum(c, "n_heads");
    printf("%s: dim %d, ffn %d, layers %d, heads %d / kv %d (head size %d), vocab %d, context %d, "
           "rope theta %g, eps %g\n",
           tb_jstr(doc, "model"), (int)tb_jnum(c, "dim"), (int)tb_jnum(c, "hidden_dim"),
           (int)tb_jnum(c, "n_layers"), heads, (int)tb_jnum(c, "n_kv_heads"),
           (int)tb_jnum(c, "dim") / heads, (int)tb_jnum(c, "vocab_size"),
           (int)tb_jnum(c, "context"), tb_jnum(c, "rope_theta"), tb_jnum(c, "norm_eps"));
    const cJSON *arch = cJSON_GetObjectItem(doc, "architecture");
    printf("FFN %s (from the %s)%s%s\n", tb_jstr(c, "ffn"), tb_jstr(c, "ffn_source"),
           cJSON_IsString(arch) ? "; architecture " : "",
           cJSON_IsString(arch) ? arch->valuestring : "");
    printf("ternary weights %.3f G (%.3f GB at 2 bits), embedding %.3f G (%s)\n", tern / 1e9,
           tern / 4e9, emb / 1e9,
           tb_jnum(doc, "tied_embeddings") ? "tied: also the output head" : "untied output head");
    const cJSON *et = cJSON_GetObjectItem(doc, "embedding_type");
    const cJSON *ot = cJSON_GetObjectItem(doc, "output_type");
    if (cJSON_IsString(et))
        printf("file types: embedding %s, output head %s\n", et->valuestring,
               cJSON_IsString(ot) ? ot->valuestring : "none (the embedding)");
    int scales = (int)tb_jnum(doc, "scale_tensors");
    if (scales > 0)
        printf("scale tensors: %d (%s)\n", scales,
               cJSON_IsString(arch) && strcmp(arch->valuestring, "bitnet") == 0
                   ? "each multiplies its BitLinear's output"
                   : "not read by this architecture");
}

static void render_create(const cJSON *doc)
{
    const cJSON *et = cJSON_GetObjectItem(doc, "embedding_type");
    printf("wrote %s: config %s, seed %.0f, format %s%s%s, architecture %s, hidden_activation "
           "%s%s, %.1f s\n",
           tb_jstr(doc, "file"), tb_jstr(doc, "config"), tb_jnum(doc, "seed"),
           tb_jstr(doc, "format"), cJSON_IsString(et) ? ", embedding " : "",
           cJSON_IsString(et) ? et->valuestring : "", tb_jstr(doc, "architecture"),
           tb_jstr(doc, "hidden_activation"),
           cJSON_IsTrue(cJSON_GetObjectItem(doc, "tensor_scales")) ? ", scale tensors" : "",
           tb_jnum(doc, "seconds"));
}

int cmd_model(int argc, char **argv)
{
    int create = argc >= 2 && strcmp(argv[1], "create") == 0;
    if (argc < 2 || (!create && strcmp(argv[1], "info") != 0)) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
            return fputs(help, stdout), 0;
        if (argc < 2) return tb_usage_error("model", "say what to do: create or info");
        return tb_usage_error("model", "unknown subcommand '%s' (create, info)", argv[1]);
    }
    model_options o = {0};
    tb_model_create_defaults(&o.create);
    int rc = create ? tb_parse_options("model create", help, create_options,
                                       TB_COUNT(create_options), argc - 1, argv + 1, &o, NULL)
                    : tb_parse_options("model info", help, info_options, TB_COUNT(info_options),
                                       argc - 1, argv + 1, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    cJSON *doc;
    tb_error err;
    rc = create ? tb_model_create_run(&o.create, &doc, &err)
                : tb_model_info_run(o.model, &doc, &err);
    if (rc) return tb_run_error(create ? "model create" : "model info", rc, &err);
    if (!o.json) create ? render_create(doc) : render_info(doc);
    return tb_output(doc, o.json, NULL, TB_OK);
}
