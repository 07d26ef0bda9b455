// SentencePiece BPE (tokenizer.ggml.model "llama"): merging by score, byte fallback.
#include "tokenizer_internal.h"
#include "unicode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPACE_MARK     "\xE2\x96\x81" // U+2581, how SentencePiece writes a space
#define SPACE_MARK_LEN 3

// Pieces text may merge into: not control, unused or byte tokens, which never stand for text
// ("<0x41>" typed in is seven characters, not the byte 0x41).
static int32_t find_text_piece(const tb_tokenizer *t, const char *s, size_t n)
{
    int32_t id = tb_tok_find(t, s, n);
    if (id < 0) return -1;
    int type = t->type[id];
    return type == TB_TOKEN_NORMAL || type == TB_TOKEN_USER_DEFINED || type == TB_TOKEN_UNDEFINED
               ? id
               : -1;
}

// The text as SentencePiece sees it: a space mark before it, and one for every space.
static void normalize(const tb_tokenizer *t, const char *text, size_t len, tb_text_buf *out)
{
    tb_text_put(out, "", 0);
    if (t->add_space_prefix) tb_text_put(out, SPACE_MARK, SPACE_MARK_LEN);
    for (size_t i = 0; i < len; i++)
        if (text[i] == ' ')
            tb_text_put(out, SPACE_MARK, SPACE_MARK_LEN);
        else
            tb_text_put(out, text + i, 1);
}

// Symbols are substrings of the normalized text, so a pair's concatenation is the substring
// from the left one's start to the right one's end. Candidates wait in a heap, best first:
// highest score, leftmost among equals; an entry is stale if its symbols changed since.
typedef struct {
    float score;
    int32_t left;
    uint32_t len; // bytes of the pair when it was a candidate: a different length means stale
} candidate;

typedef struct {
    uint32_t *start, *len;
    int32_t *prev, *next;
    candidate *heap;
    size_t n_heap;
} spm_state;

static int before(const candidate *a, const candidate *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(spm_state *m, candidate c)
{
    size_t i = m->n_heap++;
    while (i > 0 && before(&c, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = c;
}

static candidate heap_pop(spm_state *m)
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

static void consider(const tb_tokenizer *t, spm_state *m, const char *s, int32_t left)
{
    if (left < 0 || m->next[left] < 0) return;
    uint32_t len = m->len[left] + m->len[m->next[left]];
    int32_t id = find_text_piece(t, s + m->start[left], len);
    if (id >= 0) heap_push(m, (candidate){t->score[id], left, len});
}

void tb_spm_encode(const tb_tokenizer *t, const char *text, size_t len, tb_id_list *ids)
{
    if (len == 0) return; // nothing to encode, not even the space prefix
    tb_text_buf norm = {0};
    normalize(t, text, len, &norm);
    const char *s = norm.s;
    // One symbol per character, at most one per byte.
    size_t n = 0, cap = norm.n;
    spm_state m;
    m.start = malloc(cap * sizeof *m.start);
    m.len = malloc(cap * sizeof *m.len);
    m.prev = malloc(cap * sizeof *m.prev);
    m.next = malloc(cap * sizeof *m.next);
    m.heap = malloc(3 * cap * sizeof *m.heap); // fewer than n first pairs, two more per merge
    if (!m.start || !m.len || !m.prev || !m.next || !m.heap) abort();
    m.n_heap = 0;
    for (size_t i = 0; i < norm.n; n++) {
        m.start[n] = (uint32_t)i;
        m.len[n] = (uint32_t)tb_utf8_len((uint8_t)s[i]);
        m.prev[n] = (int32_t)n - 1;
        m.next[n] = -1;
        if (n) m.next[n - 1] = (int32_t)n;
        i += m.len[n];
    }
    for (size_t i = 0; i + 1 < n; i++) consider(t, &m, s, (int32_t)i);
    while (m.n_heap) {
        candidate c = heap_pop(&m);
        int32_t right = m.next[c.left];
        if (m.len[c.left] == 0 || right < 0 || m.len[c.left] + m.len[right] != c.len) continue;
        m.len[c.left] = c.len;
        m.len[right] = 0; // merged away
        m.next[c.left] = m.next[right];
        if (m.next[right] >= 0) m.prev[m.next[right]] = c.left;
        consider(t, &m, s, m.prev[c.left]);
        consider(t, &m, s, c.left);
    }
    for (int32_t i = 0; i >= 0; i = m.next[i]) {
        int32_t id = find_text_piece(t, s + m.start[i], m.len[i]);
        if (id >= 0) {
            tb_ids_push(ids, id);
            continue;
        }
        // A character outside the vocabulary: its UTF-8 bytes (loading made sure that each has
        // a byte token or there is an unknown token).
        for (uint32_t k = 0; k < m.len[i]; k++) {
            int32_t b = t->byte_token[(uint8_t)s[m.start[i] + k]];
            tb_ids_push(ids, b >= 0 ? b : t->unk);
        }
    }
    free(m.start), free(m.len), free(m.prev), free(m.next), free(m.heap);
    free(norm.s);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

void tb_spm_decode_piece(const tb_tokenizer *t, int32_t id, tb_text_buf *out)
{
    const char *s = t->text + t->off[id];
    size_t n = t->len[id];
    int type = t->type[id];
    if (type == TB_TOKEN_BYTE && n == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' &&
        hex_digit(s[3]) >= 0 && hex_digit(s[4]) >= 0) {
        char b = (char)(hex_digit(s[3]) * 16 + hex_digit(s[4]));
        tb_text_put(out, &b, 1);
        return;
    }
    if (type == TB_TOKEN_UNKNOWN) { // as SentencePiece shows it: " ⁇ "
        tb_text_put(out, " \xE2\x81\x87 ", 5);
        return;
    }
    tb_text_put(out, s, n); // space marks become spaces over the whole text: tb_spm_finish
}

void tb_spm_finish(const tb_tokenizer *t, tb_text_buf *out)
{
    // Every space mark is a space, also one that came as byte tokens (a vocabulary without
    // "▁" writes it as <0xE2> <0x96> <0x81>).
    size_t w = 0;
    for (size_t i = 0; i < out->n;) {
        if (out->n - i >= SPACE_MARK_LEN && memcmp(out->s + i, SPACE_MARK, SPACE_MARK_LEN) == 0) {
            out->s[w++] = ' ';
            i += SPACE_MARK_LEN;
        } else {
            out->s[w++] = out->s[i++];
        }
    }
    // Encoding prepended a space the text did not have.
    size_t skip = t->add_space_prefix && w > 0 && out->s[0] == ' ';
    memmove(out->s, out->s + skip, w - skip);
    out->n = w - skip;
    out->s[out->n] = '\0';
}
