// LLaMA 3's byte-level BPE (tokenizer.ggml.model "gpt2", pre "llama-bpe"): the pre-tokenizer
// regex, the byte-level alphabet and merging by rank.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer_internal.h"
#include "unicode.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// LLaMA 3's pre-tokenizer: contractions (any case), words with at most one leading non-letter,
// numbers of 1-3 digits, punctuation runs with a space before and newlines after, newline runs,
// whitespace not followed by non-space (so a run of spaces leaves its last one to the next
// word), other whitespace.
static const char pre_tokenizer[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

int tb_bpe_prepare(tb_tokenizer *t, const char *file, char *err, size_t err_len)
{
    // Every byte must be a token by itself (its alphabet character): BPE starts from those.
    for (int b = 0; b < 256; b++) {
        char ch[4];
        size_t n = tb_utf8_encode(tb_byte_to_unicode((uint8_t)b), ch);
        t->byte_token[b] = tb_tok_find(t, ch, n);
        if (t->byte_token[b] < 0) {
            snprintf(err, err_len,
                     "%s: tokenizer.ggml.tokens: byte 0x%02X (written '%.*s' in the byte-level "
                     "alphabet) is not a token: a gpt2 vocabulary needs all 256",
                     file, b, (int)n, ch);
            return -1;
        }
    }
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pre_tokenizer, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    if (!re) {
        char msg[200];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
        snprintf(err, err_len, "pre-tokenizer regex, offset %zu: %s", (size_t)at, msg);
        return -1;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); // faster where the JIT exists; matches either way
    t->regex = re;
    return 0;
}

void tb_bpe_release(tb_tokenizer *t)
{
    pcre2_code_free(t->regex);
    t->regex = NULL;
}

// ---------------------------------------------------------------------------------------------
// Merging one piece. The piece starts as one symbol per byte; the pair of adjacent symbols with
// the lowest merge rank (leftmost among equals) becomes one symbol, until no pair has a merge.
// Candidate pairs wait in a binary heap; merging changes the neighbours' pairs, so an entry is
// checked against the symbols when it comes out (stale entries are dropped).

typedef struct {
    int32_t rank;
    int32_t left; // the left symbol's index (its position in the piece)
    int32_t left_id, right_id;
} candidate;

typedef struct {
    int32_t *id, *prev, *next; // symbols as a linked list; id -1: merged into its left neighbour
    candidate *heap;
    size_t n_heap, cap;
} merge_state;

static int before(const candidate *a, const candidate *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(merge_state *m, candidate c)
{
    size_t i = m->n_heap++;
    while (i > 0 && before(&c, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = c;
}

static candidate heap_pop(merge_state *m)
{
    candidate top = m->heap[0], last = m->heap[--m->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->n_heap) break;
        if (c + 1 < m->n_heap && before(&m->heap[c + 1], &m->heap[c])) c++;
        if (!before(&m->heap[c], &last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (m->n_heap) m->heap[i] = last;
    return top;
}

static void consider(const tb_tokenizer *t, merge_state *m, int32_t left)
{
    if (left < 0 || m->next[left] < 0) return;
    const tb_tok_pair *p = tb_tok_find_pair(t, m->id[left], m->id[m->next[left]]);
    if (p) heap_push(m, (candidate){p->rank, left, m->id[left], m->id[m->next[left]]});
}

static void merge_piece(const tb_tokenizer *t, const uint8_t *bytes, size_t n, tb_id_list *ids)
{
    merge_state m;
    m.id = malloc(3 * n * sizeof *m.id);
    // Each merge adds at most two candidates, and there are fewer than n merges.
    m.cap = 3 * n;
    m.heap = malloc(m.cap * sizeof *m.heap);
    if (!m.id || !m.heap) abort();
    m.prev = m.id + n;
    m.next = m.id + 2 * n;
    m.n_heap = 0;
    for (size_t i = 0; i < n; i++) {
        m.id[i] = t->byte_token[bytes[i]];
        m.prev[i] = (int32_t)i - 1;
        m.next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++) consider(t, &m, (int32_t)i);
    while (m.n_heap) {
        candidate c = heap_pop(&m);
        int32_t right = m.next[c.left];
        if (m.id[c.left] != c.left_id || right < 0 || m.id[right] != c.right_id) continue;
        m.id[c.left] = tb_tok_find_pair(t, c.left_id, c.right_id)->merged;
        m.id[right] = -1;
        m.next[c.left] = m.next[right];
        if (m.next[right] >= 0) m.prev[m.next[right]] = c.left;
        consider(t, &m, m.prev[c.left]);
        consider(t, &m, c.left);
    }
    for (int32_t i = 0; i >= 0; i = m.next[i]) tb_ids_push(ids, m.id[i]);
    free(m.id);
    free(m.heap);
}

// One piece of the pre-tokenizer: a token by itself if its alphabet text is one (LLaMA 3's
// "ignore_merges": such a piece is never split), else merged from its bytes.
static void encode_piece(const tb_tokenizer *t, const char *s, size_t n, tb_text_buf *scratch,
                         tb_id_list *ids)
{
    scratch->n = 0;
    for (size_t i = 0; i < n; i++) {
        char ch[4];
        tb_text_put(scratch, ch, tb_utf8_encode(tb_byte_to_unicode((uint8_t)s[i]), ch));
    }
    int32_t whole = tb_tok_find(t, scratch->s, scratch->n);
    if (whole >= 0)
        tb_ids_push(ids, whole);
    else
        merge_piece(t, (const uint8_t *)s, n, ids);
}

int tb_bpe_encode(const tb_tokenizer *t, const char *text, size_t len, tb_id_list *ids, char *err,
                  size_t err_len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->regex, NULL);
    if (!md) abort();
    tb_text_buf scratch = {0};
    size_t at = 0;
    int rc = 0;
    while (at < len) {
        // The text was checked to be UTF-8: PCRE2 need not check it again at every match.
        int r = pcre2_match(t->regex, (PCRE2_SPTR)text, len, at, PCRE2_NO_UTF_CHECK, md, NULL);
        if (r == PCRE2_ERROR_NOMATCH) { // cannot happen (every character matches something)
            encode_piece(t, text + at, len - at, &scratch, ids);
            break;
        }
        if (r < 0) {
            char msg[200];
            pcre2_get_error_message(r, (PCRE2_UCHAR *)msg, sizeof msg);
            snprintf(err, err_len, "pre-tokenizer at byte %zu: %s", at, msg);
            rc = -1;
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t start = ov[0], end = ov[1];
        if (start > at) encode_piece(t, text + at, start - at, &scratch, ids); // unmatched gap
        if (end == start) end += tb_utf8_len((uint8_t)text[start]); // empty: take a character
        encode_piece(t, text + start, end - start, &scratch, ids);
        at = end;
    }
    free(scratch.s);
    pcre2_match_data_free(md);
    return rc;
}

void tb_bpe_decode_piece(const tb_tokenizer *t, int32_t id, tb_text_buf *out)
{
    const char *s = t->text + t->off[id];
    size_t n = t->len[id];
    // User-defined tokens are stored as plain text, not in the byte-level alphabet.
    if (t->type[id] == TB_TOKEN_USER_DEFINED) {
        tb_text_put(out, s, n);
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t clen;
        uint32_t cp = tb_utf8_decode(s + i, &clen);
        int b = tb_unicode_to_byte(cp);
        if (b >= 0) {
            char c = (char)b;
            tb_text_put(out, &c, 1);
        } else { // not in the alphabet: the character itself
            tb_text_put(out, s + i, clen);
        }
        i += clen;
    }
}
