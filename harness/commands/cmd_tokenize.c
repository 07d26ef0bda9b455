// tritbench tokenize: a model file's tokenizer on text, or ids back to text
// (runners/tokenize.c).
#include "commands.h"
#include "options.h"

#include <stdio.h>

static const char *help =
    "usage: tritbench tokenize --model FILE (--text TEXT | --file F | --lines F) [--bos] [--json]\n"
    "       tritbench tokenize --model FILE --decode 1,2,3 [--special] [--json]\n"
    "\n"
    "Encodes text into token ids, or decodes ids into text, by the tokenizer a GGUF file's\n"
    "metadata describes: LLaMA 3's byte-level BPE (tokenizer.ggml.model gpt2, pre llama-bpe)\n"
    "or SentencePiece BPE (llama). Text is always text: \"<|begin_of_text|>\" in it is encoded\n"
    "as characters, not as the control token. A file whose tokenizer is incomplete or\n"
    "inconsistent is refused, naming the key and the problem.\n"
    "\n"
    "  --model FILE   a GGUF file with tokenizer.ggml.* metadata\n"
    "  --text TEXT    encode TEXT (UTF-8); prints the ids, comma-separated\n"
    "  --file F       encode the bytes of F\n"
    "  --lines F      encode each line of F, a JSON string (so a line may hold newlines), and\n"
    "                 decode it back; prints one line of ids per line\n"
    "  --bos          encoding: the BOS token first\n"
    "  --decode IDS   decode comma-separated ids; prints the text\n"
    "  --special      decoding: also the text of control tokens (left out by default)\n"
    "  --json         the document on standard output instead\n"
    "  --out FILE     also write the document to FILE (atomically)\n"
    "Exit status: 0 success, 2 bad usage or input.\n";

typedef struct {
    tb_tokenize_params run;
    int json;
    const char *out;
} tokenize_options;

static const tb_option options[] = {
    TB_OPT_STRING_ROW("model", tokenize_options, run.model),
    TB_OPT_STRING_ROW("text", tokenize_options, run.text),
    TB_OPT_STRING_ROW("file", tokenize_options, run.file),
    TB_OPT_STRING_ROW("lines", tokenize_options, run.lines),
    TB_OPT_FLAG_ROW("bos", tokenize_options, run.bos),
    TB_OPT_INTS_ROW("decode", tokenize_options, run.decode, run.n_decode, 0, 1 << 24, 1,
                    TB_PROMPT_MAX),
    TB_OPT_FLAG_ROW("special", tokenize_options, run.special),
    TB_OPT_FLAG_ROW("json", tokenize_options, json),
    TB_OPT_STRING_ROW("out", tokenize_options, out),
};

static void print_ids(const cJSON *ids)
{
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) printf("%s%d", id == ids->child ? "" : ",", id->valueint);
    printf("\n");
}

static void render(const cJSON *doc)
{
    const cJSON *lines = cJSON_GetObjectItem(doc, "lines"), *line;
    if (cJSON_IsString(cJSON_GetObjectItem(doc, "text")))
        printf("%s\n", tb_jstr(doc, "text"));
    else if (lines)
        cJSON_ArrayForEach(line, lines) print_ids(cJSON_GetObjectItem(line, "ids"));
    else
        print_ids(cJSON_GetObjectItem(doc, "ids"));
}

int cmd_tokenize(int argc, char **argv)
{
    tokenize_options o = {0};
    tb_tokenize_defaults(&o.run);
    int rc = tb_parse_options("tokenize", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    cJSON *doc;
    tb_error err;
    if ((rc = tb_tokenize_run(&o.run, &doc, &err))) return tb_run_error("tokenize", rc, &err);
    if (!o.json) render(doc);
    return tb_output(doc, o.json, o.out, TB_OK);
}
