// One generation as the engine runs it: the prompt in one prefill call (the kernel's GEMM
// path), then tokens one at a time (GEMV path). `generate` and `bench model` both run this one
// loop, so they time exactly the same thing.
#ifndef TB_DECODE_H
#define TB_DECODE_H

#include "energy.h"
#include "roofline.h"
#include "transformer.h"

#include <stdint.h>

typedef struct {
    float temperature; // 0: greedy (argmax)
    uint64_t rng;      // state of the sampling draws
    // Called with every token sampled, outside the timed steps (NULL: none): `generate --prompt`
    // prints the text as it comes. Nonzero stops the generation there (an end-of-text token).
    int (*on_token)(void *ctx, int token);
    void *on_token_ctx;
} tb_sampler;

typedef struct {
    double prefill_s;           // the prefill forward call
    double ttft_s;              // prefill and the first token's sampling
    double first_step_s;        // decode step 1 (cold caches, first pages of the KV cache)
    double steady_s;            // decode steps 2 .. n-1
    double kv_first, kv_steady; // bytes of KV cache read by step 1, by the steady steps
    double joules;              // package energy of the decode steps; -1: not metered
    int steps;                  // decode steps run (n - 1)
} tb_gen_stats;

// Prefill of prompt[0..n_prompt) gives out[0]; decode step i (1 <= i < n) forwards out[i-1] at
// position n_prompt + i - 1 and samples out[i]. Every probe_every steps a pass of the bandwidth
// probe (if not NULL) runs between two steps, outside the timed and metered time, so the
// roofline sees the conditions the steps saw (TB_PROBE_EVERY). With probe_every = 1 a pass also
// runs before the prefill: every step then starts with caches emptied by the probe's buffer
// (at least twice the last-level cache), as in a model far larger than the cache (layer
// sampling).
// energy (NULL: none) meters the decode steps; prof (NULL: off) times the phases of the steady
// steps. Returns the tokens generated: n, or fewer when s->on_token stopped it (st->steps says
// the decode steps run).
int tb_generate_tokens(tb_transformer *t, const int *prompt, int n_prompt, int *out, int n,
                       tb_sampler *s, tb_bw_probe *probe, int probe_every, tb_energy *energy,
                       tb_profile *prof, tb_gen_stats *st);

#endif
