// The tokenizer's parts that need no outside reference (tests/test_tokenizer.sh compares the
// LLaMA 3 tokenizer with llama3-tokenizer-js): the byte-level alphabet and UTF-8 checks; the
// byte-level BPE on a hand-made vocabulary (merge ranks decide, leftmost among equal ranks, a
// piece that is a token is not split, control tokens' text stays text); SentencePiece BPE on a
// hand-made vocabulary (the highest score merges first, leftmost among equal scores, byte
// fallback, BOS, decoding); refusals of SentencePiece metadata. Each rule is checked on a case
// that comes out differently without it.
#include "tb_test.h"
#include "gguf.h"
#include "tokenizer.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/tritbench-test-tokenizer-XXXXXX";

// ---- the byte-level alphabet and UTF-8 ----
static void test_alphabet(void)
{
    int seen[0x200] = {0};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = tb_byte_to_unicode((uint8_t)b);
        EXPECT(cp < 0x200 && !seen[cp], "byte 0x%02X -> U+%04X: out of range or taken twice", b,
               cp);
        if (cp < 0x200) seen[cp] = 1;
        EXPECT(tb_unicode_to_byte(cp) == b, "U+%04X -> %d, expected byte 0x%02X", cp,
               tb_unicode_to_byte(cp), b);
    }
    // GPT-2's definition: space 'Ġ', newline 'Ċ', byte 0 'Ā', DEL 'ġ', NBSP 'ł', soft hyphen
    // 'Ń'; printable bytes stand for themselves.
    EXPECT(tb_byte_to_unicode(' ') == 0x120, "space: U+%04X", tb_byte_to_unicode(' '));
    EXPECT(tb_byte_to_unicode('\n') == 0x10A, "newline: U+%04X", tb_byte_to_unicode('\n'));
    EXPECT(tb_byte_to_unicode(0) == 0x100, "0: U+%04X", tb_byte_to_unicode(0));
    EXPECT(tb_byte_to_unicode(0x7F) == 0x121, "DEL: U+%04X", tb_byte_to_unicode(0x7F));
    EXPECT(tb_byte_to_unicode(0xA0) == 0x142, "NBSP: U+%04X", tb_byte_to_unicode(0xA0));
    EXPECT(tb_byte_to_unicode(0xAD) == 0x143, "soft hyphen: U+%04X", tb_byte_to_unicode(0xAD));
    EXPECT(tb_byte_to_unicode('!') == '!' && tb_byte_to_unicode(0xE9) == 0xE9, "printable");
    EXPECT(tb_unicode_to_byte(0x144) == -1 && tb_unicode_to_byte(' ') == -1 &&
               tb_unicode_to_byte(0x2581) == -1,
           "characters outside the alphabet stand for no byte");

    static const struct {
        const char *s;
        int valid;
        size_t bad_at;
    } utf8[] = {
        {"plain", 1, 0},
        {"\xE2\x82\xAC \xF0\x9F\x98\x80", 1, 0}, // euro, emoji
        {"a\xC0\x80", 0, 1},                     // overlong NUL
        {"ab\xED\xA0\x80", 0, 2},                // a surrogate
        {"\xF4\x90\x80\x80", 0, 0},              // above U+10FFFF
        {"x\xE2\x82", 0, 1},                     // cut short
        {"\x80", 0, 0},                          // a continuation byte alone
        {"\xF8\x88\x80\x80\x80", 0, 0},
    };
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
        size_t bad = 99;
        int v = tb_utf8_valid(utf8[i].s, strlen(utf8[i].s), &bad);
        EXPECT(v == utf8[i].valid && (v || bad == utf8[i].bad_at), "utf8 case %zu: valid %d at %zu",
               i, v, bad);
    }
    char buf[4];
    size_t len;
    EXPECT(tb_utf8_encode(0x1F600, buf) == 4 && tb_utf8_decode(buf, &len) == 0x1F600 && len == 4,
           "U+1F600 round trip");
}

// ---- files ----
static tb_tokenizer *load(tb_gguf_writer *w, char *err, size_t err_len)
{
    tb_gguf g;
    tb_tokenizer *t = NULL;
    if (tb_gguf_write_file(w, path, err, err_len) || tb_gguf_open(path, &g, err, err_len)) {
        tb_gguf_writer_free(w);
        return NULL;
    }
    tb_gguf_writer_free(w);
    tb_tokenizer_load(&g, &t, err, err_len);
    tb_gguf_close(&g);
    return t;
}

static int find(const tb_tokenizer *t, const char *piece)
{
    for (int i = 0; i < tb_tokenizer_n_vocab(t); i++)
        if (strcmp(tb_tokenizer_piece(t, i), piece) == 0) return i;
    return -1;
}

// Encodes text and compares the ids with the pieces named in want (NULL-terminated).
static void expect_pieces(const tb_tokenizer *t, const char *text, int bos, const char *const *want)
{
    int32_t *ids;
    size_t n, k = 0;
    char err[300];
    if (tb_tokenizer_encode(t, text, strlen(text), bos, &ids, &n, err, sizeof err)) {
        EXPECT(0, "encode '%s': %s", text, err);
        return;
    }
    for (; want[k]; k++)
        EXPECT(k < n && ids[k] == find(t, want[k]), "'%s': token %zu: expected '%s' (%d), got %d",
               text, k, want[k], find(t, want[k]), k < n ? ids[k] : -1);
    EXPECT(n == k, "'%s': expected %zu tokens, got %zu", text, k, n);
    free(ids);
}

static void expect_decode(const tb_tokenizer *t, const int32_t *ids, size_t n, int special,
                          const char *want)
{
    char *text, err[300];
    size_t len;
    if (tb_tokenizer_decode(t, ids, n, special, &text, &len, err, sizeof err)) {
        EXPECT(0, "decode: %s", err);
        return;
    }
    EXPECT(len == strlen(want) && strcmp(text, want) == 0, "decoded '%s', expected '%s'", text,
           want);
    free(text);
}

static void round_trip(const tb_tokenizer *t, const char *text)
{
    int32_t *ids;
    size_t n;
    char err[300];
    if (tb_tokenizer_encode(t, text, strlen(text), 0, &ids, &n, err, sizeof err)) {
        EXPECT(0, "encode '%s': %s", text, err);
        return;
    }
    expect_decode(t, ids, n, 0, text);
    free(ids);
}

// ---- byte-level BPE ----
static void test_bpe(void)
{
    // The 256 byte tokens, then pieces whose merges' ranks decide: "b c" comes before "a b".
    static char alphabet[256][4];
    const char *tokens[256 + 9];
    for (int b = 0; b < 256; b++) {
        alphabet[b][tb_utf8_encode(tb_byte_to_unicode((uint8_t)b), alphabet[b])] = '\0';
        tokens[b] = alphabet[b];
    }
    const char *more[] = {
        "bc", "ab", "he", "\xC4\xA0the", "xyz", "\xC4\xA0t", "<|begin_of_text|>", "<|end_of_text|>",
        "aa"};
    int32_t types[256 + 9];
    for (int i = 0; i < 256 + 9; i++) types[i] = i == 256 + 6 || i == 256 + 7 ? 3 : 1;
    memcpy(tokens + 256, more, sizeof more);
    const char *merges[] = {"b c", "a b", "h e", "\xC4\xA0 t", "\xC4\xA0t he", "a a"};
    tb_gguf_writer *w = tb_gguf_writer_new();
    tb_gguf_add_str(w, "tokenizer.ggml.model", "gpt2");
    tb_gguf_add_str(w, "tokenizer.ggml.pre", "llama-bpe");
    tb_gguf_add_arr_str(w, "tokenizer.ggml.tokens", tokens, 256 + 9);
    tb_gguf_add_arr_i32(w, "tokenizer.ggml.token_type", types, 256 + 9);
    tb_gguf_add_arr_str(w, "tokenizer.ggml.merges", merges, 6);
    tb_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 256 + 6);
    char err[400];
    tb_tokenizer *t = load(w, err, sizeof err);
    if (!t) {
        EXPECT(0, "load: %s", err);
        return;
    }
    expect_pieces(t, "abc", 0, (const char *[]){"a", "bc", NULL}); // not "ab", "c"
    expect_pieces(t, "abab", 0, (const char *[]){"ab", "ab", NULL});
    // Among equal ranks the leftmost pair first.
    expect_pieces(t, "aaa", 0, (const char *[]){"aa", "a", NULL});
    // "xyz" has no merges, but is a token: a piece that is a token is taken whole.
    expect_pieces(t, "xyz", 0, (const char *[]){"xyz", NULL});
    // "the" merges to t + he; " the" is a token ("Ġthe"); the words are separate pieces.
    expect_pieces(t, "the the", 1,
                  (const char *[]){"<|begin_of_text|>", "t", "he", "\xC4\xA0the", NULL});
    // Control tokens' text is text: pieces "<|", "end", "_of", "_text", "|>", with no merges
    // here but their bytes.
    expect_pieces(t, "<|end_of_text|>", 0,
                  (const char *[]){"<", "|", "e", "n", "d", "_", "o", "f", "_", "t", "e", "x", "t",
                                   "|", ">", NULL});
    round_trip(t, "the abc\n\n\t x\xE2\x82\xAC <|end_of_text|>");
    int32_t ids[] = {256 + 6, 256 + 3, 256 + 7};
    expect_decode(t, ids, 3, 0, " the");
    expect_decode(t, ids, 3, 1, "<|begin_of_text|> the<|end_of_text|>");
    char *text;
    size_t len;
    int32_t bad[] = {5, 265};
    EXPECT(tb_tokenizer_decode(t, bad, 2, 0, &text, &len, err, sizeof err) == -1 &&
               strstr(err, "id 265") != NULL,
           "an id past the vocabulary is refused: %s", err);
    int32_t *out;
    size_t n;
    EXPECT(tb_tokenizer_encode(t, "a\xFF", 2, 0, &out, &n, err, sizeof err) == -1 &&
               strstr(err, "0xFF at offset 1") != NULL,
           "text that is not UTF-8 is refused: %s", err);
    tb_tokenizer_free(t);
}

// ---- SentencePiece ----
// <unk>, <s>, </s>, <0x00>..<0xFF>, then pieces with scores chosen so that the order of merges
// decides the result (see test_spm).
static const struct {
    const char *piece;
    float score;
} spm_pieces[] = {
    {"\xE2\x96\x81", -10},
    {"h", -11},
    {"e", -12},
    {"l", -13},
    {"o", -14},
    {"\xE2\x96\x81h", -5},
    {"el", -3},
    {"ll", -1},
    {"lo", -2},
    {"llo", -4},
    {"\xE2\x96\x81he", -6},
    {"a", -20},
    {"b", -21},
    {"c", -22},
    {"ab", -7},
    {"bc", -8},
    {"aa", -7},
};
#define N_SPM (3 + 256 + (int)(sizeof spm_pieces / sizeof spm_pieces[0]))

static tb_gguf_writer *spm_writer(int n_scores)
{
    static char bytes[256][8];
    const char *tokens[N_SPM];
    float scores[N_SPM];
    int32_t types[N_SPM];
    for (int i = 0; i < N_SPM; i++) {
        if (i < 3) {
            tokens[i] = i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>";
            types[i] = i == 0 ? 2 : 3;
        } else if (i < 3 + 256) {
            snprintf(bytes[i - 3], sizeof bytes[i - 3], "<0x%02X>", i - 3);
            tokens[i] = bytes[i - 3];
            types[i] = 6;
        } else {
            tokens[i] = spm_pieces[i - 3 - 256].piece;
            types[i] = 1;
        }
        scores[i] = i < 3 + 256 ? 0 : spm_pieces[i - 3 - 256].score;
    }
    tb_gguf_writer *w = tb_gguf_writer_new();
    tb_gguf_add_str(w, "tokenizer.ggml.model", "llama");
    tb_gguf_add_arr_str(w, "tokenizer.ggml.tokens", tokens, N_SPM);
    if (n_scores) tb_gguf_add_arr_f32(w, "tokenizer.ggml.scores", scores, (size_t)n_scores);
    tb_gguf_add_arr_i32(w, "tokenizer.ggml.token_type", types, N_SPM);
    tb_gguf_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
    tb_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
    return w;
}

static void test_spm(void)
{
    char err[400];
    tb_tokenizer *t = load(spm_writer(N_SPM), err, sizeof err);
    if (!t) {
        EXPECT(0, "load: %s", err);
        return;
    }
    // "▁abc": "ab" (-7) before "bc" (-8), so not "a" "bc"; among equal scores the leftmost
    // pair first: "▁aaa" is "aa" "a", not "a" "aa".
    expect_pieces(t, "abc", 0, (const char *[]){"\xE2\x96\x81", "ab", "c", NULL});
    expect_pieces(t, "aaa", 0, (const char *[]){"\xE2\x96\x81", "aa", "a", NULL});
    // "▁hello": "ll" (-1) first, then "llo" (-4; "lo" -2 went stale with its l), "▁h" (-5),
    // "▁he" (-6).
    expect_pieces(t, "hello", 0, (const char *[]){"\xE2\x96\x81he", "llo", NULL});
    expect_pieces(t, "hello hello", 1,
                  (const char *[]){"<s>", "\xE2\x96\x81he", "llo", "\xE2\x96\x81he", "llo", NULL});
    // é is no piece: its two UTF-8 bytes.
    expect_pieces(t, "h\xC3\xA9", 0, (const char *[]){"\xE2\x96\x81h", "<0xC3>", "<0xA9>", NULL});
    // "<0x41>" typed in is text, never the byte token.
    expect_pieces(t, "<0x41>", 0,
                  (const char *[]){"\xE2\x96\x81", "<0x3C>", "<0x30>", "<0x78>", "<0x34>", "<0x31>",
                                   "<0x3E>", NULL});
    expect_pieces(t, "", 0, (const char *[]){NULL});
    round_trip(t, "hello hello");
    round_trip(t, " hello  h\xC3\xA9llo \xF0\x9F\x98\x80 <0x41>");
    int32_t ids[] = {1, find(t, "\xE2\x96\x81he"), find(t, "llo"), 2};
    expect_decode(t, ids, 4, 0, "hello");
    expect_decode(t, ids, 4, 1, "<s> hello</s>");
    tb_tokenizer_free(t);

    EXPECT(load(spm_writer(0), err, sizeof err) == NULL &&
               strstr(err, "tokenizer.ggml.scores: missing") != NULL,
           "no scores: %s", err);
    char want[100];
    snprintf(want, sizeof want,
             "tokenizer.ggml.scores: expected %d elements (one per token), got %d", N_SPM,
             N_SPM - 1);
    EXPECT(load(spm_writer(N_SPM - 1), err, sizeof err) == NULL && strstr(err, want) != NULL,
           "scores of another length: %s", err);
}

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    test_alphabet();
    test_bpe();
    test_spm();
    unlink(path);
    if (failures == 0) printf("tokenizer: all checks passed\n");
    return failures != 0;
}
