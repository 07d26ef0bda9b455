// What the tokenizer's files share (tokenizer.c: loading and the maps; tokenizer_bpe.c,
// tokenizer_spm.c: the two algorithms). Not part of the engine's interface.
#ifndef TB_TOKENIZER_INTERNAL_H
#define TB_TOKENIZER_INTERNAL_H

#include "tokenizer.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { TB_TOK_BPE, TB_TOK_SPM } tb_tok_kind;

// A merge of the byte-level BPE: the pair (left, right) of token ids, its rank (lower merges
// first) and the token it makes.
typedef struct {
    uint64_t key; // (left << 32 | right) + 1, so that 0 marks an empty slot
    int32_t rank, merged;
} tb_tok_pair;

struct tb_tokenizer {
    tb_tok_kind kind;
    char model[16], pre[32];
    int32_t n_vocab;
    char *text;     // every piece, NUL-terminated, one after another
    size_t *off;    // piece i starts at text + off[i]
    uint32_t *len;  // and has len[i] bytes
    int32_t *type;  // TB_TOKEN_*
    float *score;   // SPM only
    int32_t *slots; // token text -> id + 1 (0: empty), open addressing
    size_t slot_mask;
    tb_tok_pair *pairs; // BPE merges, open addressing
    size_t pair_mask;
    int32_t byte_token[256]; // BPE: the token of byte b's alphabet character; SPM: <0xNN> or -1
    int32_t bos, eos, unk;   // -1 if undefined
    int add_space_prefix;    // SPM
    void *regex;             // BPE: the compiled pre-tokenizer (pcre2_code)
};

// The id of the token whose text is s[0..len), or -1.
int32_t tb_tok_find(const tb_tokenizer *t, const char *s, size_t len);
// The merge of tokens (left, right), or NULL if there is none.
const tb_tok_pair *tb_tok_find_pair(const tb_tokenizer *t, int32_t left, int32_t right);

// A growable array of ids.
typedef struct {
    int32_t *v;
    size_t n, cap;
} tb_id_list;
void tb_ids_push(tb_id_list *l, int32_t id);
// A growable byte buffer, kept NUL-terminated.
typedef struct {
    char *s;
    size_t n, cap;
} tb_text_buf;
void tb_text_put(tb_text_buf *b, const char *s, size_t n);

// Compiles the pre-tokenizer (BPE) and checks the byte alphabet is in the vocabulary. 0, or -1
// with a message (file named by `file`).
int tb_bpe_prepare(tb_tokenizer *t, const char *file, char *err, size_t err_len);
void tb_bpe_release(tb_tokenizer *t);
// Encodes UTF-8 text that was checked to be valid, appending to ids.
int tb_bpe_encode(const tb_tokenizer *t, const char *text, size_t len, tb_id_list *ids, char *err,
                  size_t err_len);
void tb_bpe_decode_piece(const tb_tokenizer *t, int32_t id, tb_text_buf *out);
void tb_spm_encode(const tb_tokenizer *t, const char *text, size_t len, tb_id_list *ids);
void tb_spm_decode_piece(const tb_tokenizer *t, int32_t id, tb_text_buf *out);
// After the pieces: space marks to spaces, the prepended space removed.
void tb_spm_finish(const tb_tokenizer *t, tb_text_buf *out);

#endif
