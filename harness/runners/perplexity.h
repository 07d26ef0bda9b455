// tritbench perplexity: perplexity over a text per kernel, with each kernel's KL divergence
// and top-1 agreement against a reference kernel (perplexity.c says how it is scored).
#ifndef TB_PERPLEXITY_H
#define TB_PERPLEXITY_H

#include "runners.h"

typedef struct {
    const char *model;       // a GGUF file (its tokenizer reads --text) or a configuration
    const char *text_path;   // the text, tokenized by the model's own tokenizer
    const char *tokens_path; // or token ids (whitespace- or comma-separated)
    const char *kernels;     // "all" or a comma list
    const char *reference;   // the kernel KL and top-1 are taken against (default naive)
    int ctx;                 // tokens per chunk (even; the second half is scored)
    int chunks;              // at most this many chunks (0: as many as the text holds)
    int threads;
    uint64_t seed; // of a synthetic configuration's weights
    int ffn;       // --ffn: TB_FFN_* forced on the model, or -1: its own
} tb_perplexity_params;
void tb_perplexity_defaults(tb_perplexity_params *p);

// The document: {model, config..., text, tokens, ctx, chunks, bos_token_id, reference, head,
// results: [{kernel, exact, perplexity, perplexity_stderr, nll_mean, kl_vs_reference,
// kl_stderr, top1_vs_reference, reference, scored_tokens, seconds}]} (the reference first).
// TB_OK, or TB_BAD_INPUT with err naming the problem (a text shorter than one chunk, a model
// without a tokenizer for --text, ...).
int tb_perplexity_run(const tb_perplexity_params *p, const tb_observer *obs, cJSON **doc,
                      tb_error *err);

// The text of path as token ids by the tokenizer of the GGUF file model (ids checked against
// vocab), and its BOS id (-1: none). TB_OK or TB_BAD_INPUT.
int tb_perplexity_tokenize(const char *model, const char *path, int vocab, int **ids, int *n,
                           int *bos, tb_error *err);

#endif
