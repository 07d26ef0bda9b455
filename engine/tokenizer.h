// Tokenizers read from a GGUF file's metadata (tokenizer.ggml.*): text to token ids and back.
//
//   tokenizer.ggml.model = "gpt2" with tokenizer.ggml.pre = "llama-bpe": LLaMA 3's byte-level
//     BPE. The text is split by LLaMA 3's pre-tokenizer regex (PCRE2, Unicode properties), each
//     piece's bytes are written in the byte-level alphabet (unicode.h), and a piece that is not
//     itself a token is merged pairwise by the lowest rank of tokenizer.ggml.merges.
//   tokenizer.ggml.model = "llama": SentencePiece BPE. Spaces become U+2581, one is prepended
//     (tokenizer.ggml.add_space_prefix, default true), and adjacent pieces are merged while
//     their concatenation is a token, highest tokenizer.ggml.scores first; characters that stay
//     outside the vocabulary are written as their UTF-8 bytes (<0xNN> tokens).
//
// Loading checks everything encoding relies on and refuses a file with one line naming file,
// key and problem: missing keys, arrays of the wrong type or length, tokens that are not UTF-8,
// merges naming unknown tokens, ids out of range, a token count that is not the model's
// vocabulary (the rows of token_embd.weight, <arch>.vocab_size).
//
// Text is always text: "<|begin_of_text|>" in the input is encoded as its characters, never as
// the control token (a caller adds BOS explicitly).
#ifndef TB_TOKENIZER_H
#define TB_TOKENIZER_H

#include "gguf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tb_tokenizer tb_tokenizer;

// Token types (tokenizer.ggml.token_type).
enum {
    TB_TOKEN_UNDEFINED = 0,
    TB_TOKEN_NORMAL = 1,
    TB_TOKEN_UNKNOWN = 2,
    TB_TOKEN_CONTROL = 3,
    TB_TOKEN_USER_DEFINED = 4,
    TB_TOKEN_UNUSED = 5,
    TB_TOKEN_BYTE = 6,
};

// Reads the tokenizer of an open file (the tokenizer keeps copies: g may be closed after). 0, or
// -1 with "FILE: KEY: problem" in err.
int tb_tokenizer_load(const tb_gguf *g, tb_tokenizer **out, char *err, size_t err_len);
void tb_tokenizer_free(tb_tokenizer *t);

int tb_tokenizer_n_vocab(const tb_tokenizer *t);
const char *tb_tokenizer_model(const tb_tokenizer *t); // "gpt2" or "llama"
const char *tb_tokenizer_pre(const tb_tokenizer *t);   // "llama-bpe", or "" for llama
int tb_tokenizer_bos(const tb_tokenizer *t);           // -1 if the file names none
int tb_tokenizer_eos(const tb_tokenizer *t);
// Token i's text as stored (byte-level alphabet for gpt2, U+2581 for spaces for llama).
const char *tb_tokenizer_piece(const tb_tokenizer *t, int id);
int tb_tokenizer_type(const tb_tokenizer *t, int id);

// Encodes text[0..len) (UTF-8), BOS first if bos. *ids is a new array of *n ids (caller frees).
// 0, or -1 with a message: text not UTF-8 (the offset named), BOS asked for but undefined.
int tb_tokenizer_encode(const tb_tokenizer *t, const char *text, size_t len, int bos, int32_t **ids,
                        size_t *n, char *err, size_t err_len);
// Decodes ids into a new NUL-terminated buffer *text of *len bytes (caller frees). Control and
// unused tokens are left out unless special. 0, or -1 with a message naming an id out of range.
int tb_tokenizer_decode(const tb_tokenizer *t, const int32_t *ids, size_t n, int special,
                        char **text, size_t *len, char *err, size_t err_len);

#endif
