// Writes a GGUF file holding a byte-level BPE tokenizer (tokenizer.ggml.model gpt2, pre
// llama-bpe) and an embedding with one row per token, for tests/test_tokenizer.sh:
//   make_gguf OUT VOCAB MERGES [BREAK]
// VOCAB holds one token per line (id = line number from 0), MERGES one "left right" merge per
// line (rank = line number); VOCAB "-" is a small built-in vocabulary (the 256 byte tokens, a
// few merges, two control tokens). Tokens "<|...|>" are control tokens; BOS and EOS are
// <|begin_of_text|> and <|end_of_text|>. BREAK writes one defect the loader must refuse:
//   missing-merges  no tokenizer.ggml.merges
//   count           an embedding of one row more than there are tokens
//   utf8            token 258 replaced by bytes that are not UTF-8
//   merge-unknown   merge 2's right side replaced by a text that is no token
//   merge-concat    a merge whose two sides are tokens but their concatenation is not
//   pre             tokenizer.ggml.pre "gpt-9"
//   model           tokenizer.ggml.model "bert"
//   types           tokenizer.ggml.token_type as an array of f32
//   bos             tokenizer.ggml.bos_token_id past the last token
// or, instead of a defect, "spm": a small SentencePiece vocabulary (tokenizer.ggml.model llama:
// <unk> <s> </s>, the byte tokens <0x00>..<0xFF>, a few scored pieces; VOCAB, MERGES unused).
#include "gguf.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    const char **line;
    size_t n;
} lines;

static int read_lines(const char *path, lines *l)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 20, n = 0, got;
    l->buf = malloc(cap + 1);
    while (l->buf && (got = fread(l->buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) l->buf = realloc(l->buf, (cap *= 2) + 1);
    fclose(f);
    if (!l->buf) return -1;
    if (n && l->buf[n - 1] == '\n') n--; // the last line's newline ends it, not a new one
    l->buf[n] = '\0';
    l->n = 1;
    for (size_t i = 0; i < n; i++) l->n += l->buf[i] == '\n';
    l->line = malloc(l->n * sizeof *l->line);
    l->line[0] = l->buf;
    for (size_t i = 0, k = 1; i < n; i++)
        if (l->buf[i] == '\n') l->buf[i] = '\0', l->line[k++] = l->buf + i + 1;
    return 0;
}

// The 256 byte tokens in the byte-level alphabet, "Ġt", "he", "Ġthe", then the two control
// tokens; merges to make the three.
static void tiny_vocab(lines *v, lines *m)
{
    static char alphabet[256][4];
    static const char *const extra[] = {"\xC4\xA0t", "he", "\xC4\xA0the", "<|begin_of_text|>",
                                        "<|end_of_text|>"};
    static const char *const merges[] = {"\xC4\xA0 t", "h e", "\xC4\xA0t he"};
    v->n = 256 + 5;
    v->line = malloc(v->n * sizeof *v->line);
    for (int b = 0; b < 256; b++) {
        size_t len = tb_utf8_encode(tb_byte_to_unicode((uint8_t)b), alphabet[b]);
        alphabet[b][len] = '\0';
        v->line[b] = alphabet[b];
    }
    for (int i = 0; i < 5; i++) v->line[256 + i] = extra[i];
    m->n = 3;
    m->line = malloc(3 * sizeof *m->line);
    for (int i = 0; i < 3; i++) m->line[i] = merges[i];
}

static int produce_zeros(void *ctx, int index, uint8_t *out, size_t bytes, char *err,
                         size_t err_len)
{
    (void)ctx, (void)index, (void)out, (void)bytes, (void)err, (void)err_len;
    return 0; // the writer hands over a zeroed buffer
}

static int is_control(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && strncmp(s, "<|", 2) == 0 && strcmp(s + n - 2, "|>") == 0;
}

static int write_spm(const char *out)
{
    static const char *const pieces[] = {
        "\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "t", "h", "e"};
    enum { N = 3 + 256 + 7 };
    static char bytes[256][8];
    const char *tokens[N];
    float scores[N];
    int32_t types[N];
    for (int i = 0; i < N; i++) {
        types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 3 + 256 ? 6 : 1;
        scores[i] = i < 3 + 256 ? 0 : -(float)(i - 3 - 256);
        if (i >= 3 && i < 3 + 256) snprintf(bytes[i - 3], sizeof bytes[i - 3], "<0x%02X>", i - 3);
        tokens[i] = i == 0        ? "<unk>"
                    : i == 1      ? "<s>"
                    : i == 2      ? "</s>"
                    : i < 3 + 256 ? bytes[i - 3]
                                  : pieces[i - 259];
    }
    tb_gguf_writer *w = tb_gguf_writer_new();
    tb_gguf_add_str(w, "tokenizer.ggml.model", "llama");
    tb_gguf_add_arr_str(w, "tokenizer.ggml.tokens", tokens, N);
    tb_gguf_add_arr_f32(w, "tokenizer.ggml.scores", scores, N);
    tb_gguf_add_arr_i32(w, "tokenizer.ggml.token_type", types, N);
    tb_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tb_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    tb_gguf_add_bool(w, "tokenizer.ggml.add_space_prefix", 1);
    char err[400];
    int rc = tb_gguf_write_file(w, out, err, sizeof err);
    if (rc) fprintf(stderr, "make_gguf: %s\n", err);
    tb_gguf_writer_free(w);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: make_gguf OUT VOCAB|- MERGES [BREAK]\n");
        return 2;
    }
    const char *brk = argc == 5 ? argv[4] : "";
    if (strcmp(brk, "spm") == 0) return write_spm(argv[1]);
    lines v = {0}, m = {0};
    if (strcmp(argv[2], "-") == 0)
        tiny_vocab(&v, &m);
    else if (read_lines(argv[2], &v) || read_lines(argv[3], &m)) {
        fprintf(stderr, "make_gguf: cannot read %s or %s\n", argv[2], argv[3]);
        return 2;
    }
    int32_t *types = malloc(v.n * sizeof *types);
    float *ftypes = malloc(v.n * sizeof *ftypes);
    uint32_t bos = 0, eos = 0;
    for (size_t i = 0; i < v.n; i++) {
        types[i] = is_control(v.line[i]) ? 3 : 1;
        ftypes[i] = (float)types[i];
        if (strcmp(v.line[i], "<|begin_of_text|>") == 0) bos = (uint32_t)i;
        if (strcmp(v.line[i], "<|end_of_text|>") == 0) eos = (uint32_t)i;
    }
    if (strcmp(brk, "utf8") == 0 && v.n > 258) v.line[258] = "ab\xC3\x28";
    if (strcmp(brk, "merge-unknown") == 0 && m.n > 2) m.line[2] = "\xC4\xA0t zzqqxj";
    if (strcmp(brk, "merge-concat") == 0 && m.n > 2) m.line[2] = "\xC4\x80 \xC4\x81"; // bytes 0, 1

    tb_gguf_writer *w = tb_gguf_writer_new();
    tb_gguf_add_str(w, "general.architecture", "bitnet");
    tb_gguf_add_u32(w, "bitnet.vocab_size", (uint32_t)v.n + (strcmp(brk, "count") == 0));
    tb_gguf_add_str(w, "tokenizer.ggml.model", strcmp(brk, "model") == 0 ? "bert" : "gpt2");
    tb_gguf_add_str(w, "tokenizer.ggml.pre", strcmp(brk, "pre") == 0 ? "gpt-9" : "llama-bpe");
    tb_gguf_add_arr_str(w, "tokenizer.ggml.tokens", v.line, v.n);
    if (strcmp(brk, "types") == 0)
        tb_gguf_add_arr_f32(w, "tokenizer.ggml.token_type", ftypes, v.n);
    else
        tb_gguf_add_arr_i32(w, "tokenizer.ggml.token_type", types, v.n);
    if (strcmp(brk, "missing-merges") != 0)
        tb_gguf_add_arr_str(w, "tokenizer.ggml.merges", m.line, m.n);
    tb_gguf_add_u32(w, "tokenizer.ggml.bos_token_id",
                    strcmp(brk, "bos") == 0 ? (uint32_t)v.n + 5 : bos);
    tb_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", eos);
    uint64_t ne[2] = {1, v.n + (strcmp(brk, "count") == 0)};
    tb_gguf_add_tensor(w, "token_embd.weight", TB_GGML_F32, 2, ne, produce_zeros, NULL, 0);
    char err[400];
    int rc = tb_gguf_write_file(w, argv[1], err, sizeof err);
    if (rc) fprintf(stderr, "make_gguf: %s\n", err);
    tb_gguf_writer_free(w);
    free(types), free(ftypes), free(v.line), free(m.line), free(v.buf), free(m.buf);
    return rc ? 1 : 0;
}
