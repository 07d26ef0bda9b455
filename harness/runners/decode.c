#include "decode.h"
#include "sources.h"
#include "tb_clock.h"

static int sample(tb_sampler *s, const float *logits, int n)
{
    return s->temperature > 0 ? tb_sample_temperature(logits, n, s->temperature, &s->rng)
                              : tb_sample_argmax(logits, n);
}

// Adds a metered stretch's joules; one stretch without a figure makes the whole run unmetered.
static void add_joules(tb_gen_stats *st, double j)
{
    st->joules = j < 0 || st->joules < 0 ? -1 : st->joules + j;
}

// The steps since the last probe pass, as one work sample of the probe (roofline.h).
static void flush_segment(tb_bw_probe *probe, const tb_transformer *t, double *bytes,
                          double *seconds)
{
    if (probe) tb_bw_probe_work(probe, 0, tb_pool_threads(t->pool), *bytes, *seconds);
    *bytes = *seconds = 0;
}

int tb_generate_tokens(tb_transformer *t, const int *prompt, int n_prompt, int *out, int n,
                       tb_sampler *s, tb_bw_probe *probe, int probe_every, tb_energy *energy,
                       tb_profile *prof, tb_gen_stats *st)
{
    const int V = t->cfg.vocab_size;
    *st = (tb_gen_stats){.steps = n - 1};
    if (probe && probe_every == 1) tb_bw_probe_pass(probe, t->pool);
    double t0 = tb_now();
    float *lg = tb_transformer_forward(t, prompt, n_prompt, 0, 0);
    st->prefill_s = tb_now() - t0;
    out[0] = sample(s, lg, V);
    st->ttft_s = tb_now() - t0;
    if (s->on_token && s->on_token(s->on_token_ctx, out[0])) n = 1, st->steps = 0;
    const double weight_read = (double)tb_transformer_weight_read_bytes(t);
    double seg_bytes = 0, seg_s = 0;
    tb_energy_start(energy);
    for (int i = 1; i < n; i++) {
        if (probe && i % probe_every == 0) {
            add_joules(st, tb_energy_package_joules(energy));
            flush_segment(probe, t, &seg_bytes, &seg_s);
            tb_bw_probe_pass(probe, t->pool);
            tb_energy_start(energy);
        }
        const int pos = n_prompt + i - 1;
        t->prof = i > 1 ? prof : NULL;
        double s0 = tb_now();
        lg = tb_transformer_forward(t, &out[i - 1], 1, pos, 0);
        out[i] = sample(s, lg, V);
        double dt = tb_now() - s0;
        double kv = (double)tb_transformer_kv_read_bytes(t, pos);
        seg_bytes += weight_read + kv, seg_s += dt;
        if (i == 1)
            st->first_step_s = dt, st->kv_first = kv;
        else
            st->steady_s += dt, st->kv_steady += kv;
        if (s->on_token && s->on_token(s->on_token_ctx, out[i])) n = i + 1, st->steps = i;
    }
    t->prof = NULL;
    if (seg_s > 0) flush_segment(probe, t, &seg_bytes, &seg_s);
    add_joules(st, tb_energy_package_joules(energy));
    return n;
}
