// Tokenizers from GGUF metadata (tokenizer.h): loading and checking the metadata, the token and
// merge maps, and encode/decode around the two algorithms (tokenizer_bpe.c, tokenizer_spm.c).
#include "tokenizer_internal.h"
#include "unicode.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS (1u << 22) // the model loader's vocabulary limit (gguf_model.c)
#define MAX_MERGES (1u << 24) // LLaMA 3 has 280147; ranks must fit an int32
#define SHOWN      60         // bytes of a token or merge quoted in a message

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

void tb_ids_push(tb_id_list *l, int32_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap * 2 + 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) abort();
    }
    l->v[l->n++] = id;
}

void tb_text_put(tb_text_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

// ---------------------------------------------------------------------------------------------
// Maps: token text -> id, and (left, right) -> merge. Open addressing with linear probing in
// tables at most half full: a lookup is a hash and a probe or two, whatever the vocabulary.

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33; // murmur3's finalizer: spreads the ids' low bits over the whole word
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static size_t table_size(size_t n)
{
    size_t size = 16;
    while (size < 2 * n) size *= 2;
    return size;
}

int32_t tb_tok_find(const tb_tokenizer *t, const char *s, size_t len)
{
    for (size_t i = hash_bytes(s, len) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        int32_t id = t->slots[i] - 1;
        if (id < 0) return -1;
        if (t->len[id] == len && memcmp(t->text + t->off[id], s, len) == 0) return id;
    }
}

// Adds token id unless its text is already there: the first of duplicate texts keeps it.
static void insert_token(tb_tokenizer *t, int32_t id)
{
    const char *s = t->text + t->off[id];
    size_t i = hash_bytes(s, t->len[id]) & t->slot_mask;
    for (; t->slots[i]; i = (i + 1) & t->slot_mask) {
        int32_t other = t->slots[i] - 1;
        if (t->len[other] == t->len[id] && memcmp(t->text + t->off[other], s, t->len[id]) == 0)
            return;
    }
    t->slots[i] = id + 1;
}

static uint64_t pair_key(int32_t left, int32_t right)
{
    return ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
}

const tb_tok_pair *tb_tok_find_pair(const tb_tokenizer *t, int32_t left, int32_t right)
{
    uint64_t key = pair_key(left, right);
    for (size_t i = hash_u64(key) & t->pair_mask;; i = (i + 1) & t->pair_mask) {
        if (t->pairs[i].key == key) return &t->pairs[i];
        if (t->pairs[i].key == 0) return NULL;
    }
}

// Adds a merge unless the pair is there: of duplicate merges the first (lowest rank) counts.
static void insert_pair(tb_tokenizer *t, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = pair_key(left, right);
    size_t i = hash_u64(key) & t->pair_mask;
    for (; t->pairs[i].key; i = (i + 1) & t->pair_mask)
        if (t->pairs[i].key == key) return;
    t->pairs[i] = (tb_tok_pair){key, rank, merged};
}

// ---------------------------------------------------------------------------------------------
// Loading

// "'abc'" or, for bytes that are not UTF-8, a note of where they stop being so; for messages.
static const char *quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t bad;
    if (!tb_utf8_valid(s, len, &bad))
        snprintf(buf, size, "(not valid UTF-8: byte 0x%02X at offset %zu)", (uint8_t)s[bad], bad);
    else if (len > SHOWN)
        snprintf(buf, size, "'%.*s...'", SHOWN, s); // may cut a character: a message only
    else
        snprintf(buf, size, "'%.*s'", (int)len, s);
    return buf;
}

// The pieces: copied, checked to be UTF-8, in the text -> id map.
static int load_tokens(tb_tokenizer *t, const tb_gguf_str *tok, uint64_t n, const char *file,
                       char *err, size_t err_len)
{
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t bad;
        if (!tb_utf8_valid(tok[i].s, tok[i].len, &bad))
            return fail(err, err_len,
                        "%s: tokenizer.ggml.tokens[%" PRIu64
                        "]: expected UTF-8 text, got byte 0x%02X at offset %zu",
                        file, i, (uint8_t)tok[i].s[bad], bad);
        if (tok[i].len > UINT32_MAX)
            return fail(err, err_len, "%s: tokenizer.ggml.tokens[%" PRIu64 "]: too long", file, i);
        total += tok[i].len + 1;
    }
    t->n_vocab = (int32_t)n;
    t->text = xmalloc(total);
    t->off = xmalloc((size_t)n * sizeof *t->off);
    t->len = xmalloc((size_t)n * sizeof *t->len);
    size_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(t->text + at, tok[i].s, tok[i].len);
        t->text[at + tok[i].len] = '\0';
        t->off[i] = at;
        t->len[i] = (uint32_t)tok[i].len;
        at += tok[i].len + 1;
    }
    size_t size = table_size((size_t)n);
    t->slots = calloc(size, sizeof *t->slots);
    if (!t->slots) abort();
    t->slot_mask = size - 1;
    for (uint64_t i = 0; i < n; i++) insert_token(t, (int32_t)i);
    return 0;
}

// The token count must be the model's vocabulary: the rows of the embedding and
// <arch>.vocab_size, where the file has them.
static int check_vocab_size(const tb_gguf *g, uint64_t n, char *err, size_t err_len)
{
    const tb_gguf_tensor *emb = tb_gguf_find_tensor(g, "token_embd.weight");
    if (emb && emb->n_dims == 2 && emb->ne[1] != n)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.tokens: expected %" PRIu64
                    " tokens (the rows of token_embd.weight), got %" PRIu64,
                    g->path, emb->ne[1], n);
    char arch[64], key[128];
    int r = tb_gguf_get_str(g, "general.architecture", arch, sizeof arch, err, err_len);
    if (r < 0) return -1;
    if (r == 0) return 0;
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    int64_t v;
    if ((r = tb_gguf_get_int(g, key, &v, err, err_len)) < 0) return -1;
    if (r > 0 && (uint64_t)v != n)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.tokens: expected %" PRId64 " tokens (%s), got %" PRIu64,
                    g->path, v, key, n);
    return 0;
}

static int load_types(tb_tokenizer *t, const tb_gguf *g, char *err, size_t err_len)
{
    uint64_t n;
    int r = tb_gguf_get_arr_i32(g, "tokenizer.ggml.token_type", &t->type, &n, err, err_len);
    if (r < 0) return -1;
    if (r == 0) { // no types: every token normal (SPM's byte tokens are found by their text)
        t->type = xmalloc((size_t)t->n_vocab * sizeof *t->type);
        for (int32_t i = 0; i < t->n_vocab; i++) t->type[i] = TB_TOKEN_NORMAL;
        return 0;
    }
    if (n != (uint64_t)t->n_vocab)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.token_type: expected %d elements (one per token), got "
                    "%" PRIu64,
                    g->path, t->n_vocab, n);
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->type[i] < TB_TOKEN_UNDEFINED || t->type[i] > TB_TOKEN_BYTE)
            return fail(err, err_len,
                        "%s: tokenizer.ggml.token_type[%d]: expected 0..6 (1 normal, 2 unknown, 3 "
                        "control, 4 user-defined, 5 unused, 6 byte), got %d",
                        g->path, i, t->type[i]);
    return 0;
}

// An optional token id: absent leaves *id alone; present, it must name a token.
static int load_special(const tb_tokenizer *t, const tb_gguf *g, const char *key, int32_t *id,
                        char *err, size_t err_len)
{
    int64_t v;
    int r = tb_gguf_get_int(g, key, &v, err, err_len);
    if (r < 0) return -1;
    if (r > 0 && (v < 0 || v >= t->n_vocab))
        return fail(err, err_len, "%s: %s: expected a token id below %d, got %" PRId64, g->path,
                    key, t->n_vocab, v);
    if (r > 0) *id = (int32_t)v;
    return 0;
}

// Pre-tokenizers known by tokenizer.ggml.pre: all LLaMA 3's (the names llama.cpp gives it).
static const char *const known_pre[] = {"llama-bpe", "llama3", "llama-v3"};

static int load_merges(tb_tokenizer *t, const tb_gguf *g, char *err, size_t err_len)
{
    const char *file = g->path;
    int r = tb_gguf_get_str(g, "tokenizer.ggml.pre", t->pre, sizeof t->pre, err, err_len);
    if (r < 0) return -1;
    int known = 0;
    for (size_t i = 0; i < sizeof known_pre / sizeof known_pre[0]; i++)
        known |= r > 0 && strcmp(t->pre, known_pre[i]) == 0;
    if (r == 0)
        return fail(err, err_len, "%s: tokenizer.ggml.pre: missing (known: llama-bpe)", file);
    if (!known)
        return fail(err, err_len, "%s: tokenizer.ggml.pre: expected llama-bpe (LLaMA 3), got '%s'",
                    file, t->pre);
    tb_gguf_str *m = NULL;
    uint64_t n;
    if ((r = tb_gguf_get_arr_str(g, "tokenizer.ggml.merges", &m, &n, err, err_len)) < 0) return -1;
    if (r == 0)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.merges: missing (a gpt2 tokenizer needs its merges)", file);
    if (n > MAX_MERGES) {
        free(m);
        return fail(err, err_len, "%s: tokenizer.ggml.merges: expected at most %u, got %" PRIu64,
                    file, MAX_MERGES, n);
    }
    size_t size = table_size((size_t)n);
    t->pairs = calloc(size, sizeof *t->pairs);
    if (!t->pairs) abort();
    t->pair_mask = size - 1;
    char *both = NULL, q[SHOWN + 80], q2[SHOWN + 80];
    size_t both_cap = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        const char *s = m[i].s;
        size_t len = m[i].len;
        // "left right": the first space after the first character splits them.
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!tb_utf8_valid(s, len, NULL) || !sp) {
            rc = fail(err, err_len,
                      "%s: tokenizer.ggml.merges[%" PRIu64
                      "]: expected two tokens separated by a space, got %s",
                      file, i, quote(q, sizeof q, s, len));
            break;
        }
        size_t llen = (size_t)(sp - s), rlen = len - llen - 1;
        int32_t left = tb_tok_find(t, s, llen), right = tb_tok_find(t, sp + 1, rlen);
        if (llen + rlen + 1 > both_cap) {
            both_cap = 2 * (llen + rlen + 1);
            both = realloc(both, both_cap);
            if (!both) abort();
        }
        memcpy(both, s, llen);
        memcpy(both + llen, sp + 1, rlen);
        int32_t merged = tb_tok_find(t, both, llen + rlen);
        if (left < 0 || right < 0 || merged < 0) {
            const char *what = left < 0    ? "its left side"
                               : right < 0 ? "its right side"
                                           : "its concatenation";
            const char *bad = left < 0 ? s : right < 0 ? sp + 1 : both;
            size_t bad_len = left < 0 ? llen : right < 0 ? rlen : llen + rlen;
            rc = fail(err, err_len,
                      "%s: tokenizer.ggml.merges[%" PRIu64 "] %s: %s %s is not a token", file, i,
                      quote(q, sizeof q, s, len), what, quote(q2, sizeof q2, bad, bad_len));
            break;
        }
        insert_pair(t, left, right, (int32_t)i, merged);
    }
    free(both);
    free(m);
    return rc;
}

static int load_scores(tb_tokenizer *t, const tb_gguf *g, char *err, size_t err_len)
{
    uint64_t n;
    int r = tb_gguf_get_arr_f32(g, "tokenizer.ggml.scores", &t->score, &n, err, err_len);
    if (r < 0) return -1;
    if (r == 0)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.scores: missing (a llama tokenizer merges by them)",
                    g->path);
    if (n != (uint64_t)t->n_vocab)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.scores: expected %d elements (one per token), got %" PRIu64,
                    g->path, t->n_vocab, n);
    int add = 1;
    if ((r = tb_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &add, err, err_len)) < 0)
        return -1;
    t->add_space_prefix = add;
    // Characters outside the vocabulary are written as <0xNN> byte tokens, or as the unknown
    // token where those are missing: without either they could not be encoded at all.
    int missing = 0;
    for (int b = 0; b < 256; b++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        t->byte_token[b] = tb_tok_find(t, piece, 6);
        missing += t->byte_token[b] < 0;
    }
    // Without token types, byte tokens are known by their text alone.
    if (!tb_gguf_find_kv(g, "tokenizer.ggml.token_type"))
        for (int b = 0; b < 256; b++)
            if (t->byte_token[b] >= 0) t->type[t->byte_token[b]] = TB_TOKEN_BYTE;
    if (t->unk < 0) t->unk = tb_tok_find(t, "<unk>", 5);
    if (missing && t->unk < 0)
        return fail(err, err_len,
                    "%s: tokenizer.ggml.tokens: %d of the byte tokens <0x00>..<0xFF> missing and "
                    "no unknown token (tokenizer.ggml.unknown_token_id): characters outside the "
                    "vocabulary could not be encoded",
                    g->path, missing);
    return 0;
}

int tb_tokenizer_load(const tb_gguf *g, tb_tokenizer **out, char *err, size_t err_len)
{
    *out = NULL;
    tb_tokenizer *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->bos = t->eos = t->unk = -1;
    const char *file = g->path;
    tb_gguf_str *tok = NULL;
    uint64_t n = 0;
    int r = tb_gguf_get_str(g, "tokenizer.ggml.model", t->model, sizeof t->model, err, err_len);
    if (r == 0) fail(err, err_len, "%s: tokenizer.ggml.model: missing (no tokenizer)", file);
    if (r <= 0) goto refuse;
    if (strcmp(t->model, "gpt2") == 0)
        t->kind = TB_TOK_BPE;
    else if (strcmp(t->model, "llama") == 0)
        t->kind = TB_TOK_SPM;
    else {
        fail(err, err_len,
             "%s: tokenizer.ggml.model: expected gpt2 (byte-level BPE) or llama (SentencePiece), "
             "got '%s'",
             file, t->model);
        goto refuse;
    }
    if ((r = tb_gguf_get_arr_str(g, "tokenizer.ggml.tokens", &tok, &n, err, err_len)) < 0)
        goto refuse;
    if (r == 0 || n == 0 || n > MAX_TOKENS) {
        fail(err, err_len, "%s: tokenizer.ggml.tokens: expected 1..%u tokens, got %s", file,
             MAX_TOKENS,
             r == 0   ? "none (missing)"
             : n == 0 ? "0"
                      : "more");
        goto refuse;
    }
    if (check_vocab_size(g, n, err, err_len) || load_tokens(t, tok, n, file, err, err_len) ||
        load_types(t, g, err, err_len) ||
        load_special(t, g, "tokenizer.ggml.bos_token_id", &t->bos, err, err_len) ||
        load_special(t, g, "tokenizer.ggml.eos_token_id", &t->eos, err, err_len) ||
        load_special(t, g, "tokenizer.ggml.unknown_token_id", &t->unk, err, err_len))
        goto refuse;
    if (t->kind == TB_TOK_BPE
            ? load_merges(t, g, err, err_len) || tb_bpe_prepare(t, file, err, err_len)
            : load_scores(t, g, err, err_len))
        goto refuse;
    free(tok);
    *out = t;
    return 0;
refuse:
    free(tok);
    tb_tokenizer_free(t);
    return -1;
}

void tb_tokenizer_free(tb_tokenizer *t)
{
    if (!t) return;
    tb_bpe_release(t);
    free(t->text), free(t->off), free(t->len), free(t->type), free(t->score);
    free(t->slots), free(t->pairs);
    free(t);
}

int tb_tokenizer_n_vocab(const tb_tokenizer *t)
{
    return t->n_vocab;
}
const char *tb_tokenizer_model(const tb_tokenizer *t)
{
    return t->model;
}
const char *tb_tokenizer_pre(const tb_tokenizer *t)
{
    return t->pre;
}
int tb_tokenizer_bos(const tb_tokenizer *t)
{
    return t->bos;
}
int tb_tokenizer_eos(const tb_tokenizer *t)
{
    return t->eos;
}
const char *tb_tokenizer_piece(const tb_tokenizer *t, int id)
{
    return t->text + t->off[id];
}
int tb_tokenizer_type(const tb_tokenizer *t, int id)
{
    return t->type[id];
}

// ---------------------------------------------------------------------------------------------
// Encode, decode

int tb_tokenizer_encode(const tb_tokenizer *t, const char *text, size_t len, int bos, int32_t **ids,
                        size_t *n, char *err, size_t err_len)
{
    *ids = NULL;
    *n = 0;
    size_t bad;
    if (!tb_utf8_valid(text, len, &bad))
        return fail(err, err_len, "text: expected UTF-8, got byte 0x%02X at offset %zu",
                    (uint8_t)text[bad], bad);
    if (bos && t->bos < 0)
        return fail(err, err_len, "BOS asked for, but the file has no tokenizer.ggml.bos_token_id");
    tb_id_list out = {0};
    if (bos) tb_ids_push(&out, t->bos);
    if (t->kind == TB_TOK_SPM)
        tb_spm_encode(t, text, len, &out);
    else if (tb_bpe_encode(t, text, len, &out, err, err_len)) {
        free(out.v);
        return -1;
    }
    *ids = out.v ? out.v : xmalloc(sizeof **ids);
    *n = out.n;
    return 0;
}

int tb_tokenizer_decode(const tb_tokenizer *t, const int32_t *ids, size_t n, int special,
                        char **text, size_t *len, char *err, size_t err_len)
{
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return fail(err, err_len, "id %d (position %zu): expected 0..%d", ids[i], i,
                        t->n_vocab - 1);
    tb_text_buf out = {0};
    tb_text_put(&out, "", 0);
    for (size_t i = 0; i < n; i++) {
        int type = t->type[ids[i]];
        if (type == TB_TOKEN_CONTROL || type == TB_TOKEN_UNUSED) {
            if (special) tb_text_put(&out, t->text + t->off[ids[i]], t->len[ids[i]]);
            continue;
        }
        if (t->kind == TB_TOK_SPM)
            tb_spm_decode_piece(t, ids[i], &out);
        else
            tb_bpe_decode_piece(t, ids[i], &out);
    }
    if (t->kind == TB_TOK_SPM) tb_spm_finish(t, &out);
    *text = out.s;
    *len = out.n;
    return 0;
}
