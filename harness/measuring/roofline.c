#include "roofline.h"
#include "stats.h"
#include "tb_clock.h"
#include "tb_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t tb_last_level_cache_bytes(void)
{
    long v = -1;
#ifdef _SC_LEVEL3_CACHE_SIZE
    v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (v <= 0) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return v > 0 ? (size_t)v : (size_t)64 << 20;
}

size_t tb_roof_plateau_bytes(void)
{
    size_t b = tb_align_up(8 * tb_last_level_cache_bytes(), (size_t)1 << 20);
    return b > ((size_t)4 << 30) ? b : (size_t)4 << 30;
}

size_t tb_roof_buffer_bytes(size_t work_bytes, size_t min_bytes)
{
    const size_t mib = (size_t)1 << 20;
    size_t b = work_bytes > min_bytes ? work_bytes : min_bytes;
    if (b > tb_roof_plateau_bytes()) b = tb_roof_plateau_bytes();
    return b < mib ? mib : tb_align_up(b, mib);
}

const char *tb_roof_kind(size_t buffer_bytes)
{
    return buffer_bytes <= tb_last_level_cache_bytes() ? "cache" : "dram";
}

// A pass reads at least this many bytes: a cache-sized buffer is swept several times, so that
// a pass lasts long enough to time.
#define PASS_MIN_BYTES ((size_t)64 << 20)

typedef struct {
    int tag, threads;
    int after; // passes recorded before it
    double rate;
} work_sample;

struct tb_bw_probe {
    uint64_t *buf;
    size_t words;
    int sweeps;    // of the buffer per pass
    int streams;   // of the next pass: 4 or 8
    double *rates; // bytes/s of each pass
    int *threads;  // and its thread count
    int n, cap;
    work_sample *work; // rates of the work the probe bounds, in order with the passes
    int nwork, work_cap;
    uint64_t sink[64];
};

// Each thread sums its contiguous slice in independent chains, so the loop is bound by the
// memory system, not by the adds. The portable loop reads one stream; on x86 the AVX2 version
// reads S streams of the slice (S = 4 or 8, S equal parts) in lockstep, 64 bytes of each at a
// time, prefetching 2 KB ahead in each: one sequential stream leaves DRAM bandwidth unused on
// these machines, and the kernels read their weights that way (i2_layout.h). Prefetching past
// the end of a stream is harmless: prefetches never fault.
static uint64_t sum_portable(const uint64_t *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t w = 0;
    for (; w + 4 <= n; w += 4) a += p[w], b += p[w + 1], c += p[w + 2], d += p[w + 3];
    for (; w < n; w++) a += p[w];
    return a + b + c + d;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define PROBE_AHEAD_WORDS 256 // 2 KB

__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint64_t *p, size_t n, int S)
{
    const size_t q = n / (size_t)S / 8 * 8; // words a stream, a multiple of 64 bytes
    __m256i a = _mm256_setzero_si256(), b = a;
    for (size_t w = 0; w < q; w += 8)
        for (int s = 0; s < S; s++) {
            const uint64_t *r = p + (size_t)s * q + w;
            _mm_prefetch((const char *)(r + PROBE_AHEAD_WORDS), _MM_HINT_T0);
            a = _mm256_add_epi64(a, _mm256_loadu_si256((const __m256i *)r));
            b = _mm256_add_epi64(b, _mm256_loadu_si256((const __m256i *)(r + 4)));
        }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, _mm256_add_epi64(a, b));
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] +
           sum_portable(p + (size_t)S * q, n - (size_t)S * q);
}
#endif

static void read_part(void *ctx, int t, int nthreads)
{
    tb_bw_probe *j = ctx;
    size_t w0 = j->words * (size_t)t / (size_t)nthreads;
    size_t w1 = j->words * (size_t)(t + 1) / (size_t)nthreads;
    uint64_t s = 0;
    for (int sweep = 0; sweep < j->sweeps; sweep++) {
#if defined(__x86_64__)
        if (tb_cpu_features() & TB_ISA_AVX2)
            s += sum_avx2(j->buf + w0, w1 - w0, j->streams);
        else
#endif
            s += sum_portable(j->buf + w0, w1 - w0);
    }
    j->sink[t % 64] += s;
}

tb_bw_probe *tb_bw_probe_open(size_t bytes)
{
    tb_bw_probe *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->words = bytes / sizeof(uint64_t);
    p->sweeps = bytes >= PASS_MIN_BYTES ? 1 : (int)((PASS_MIN_BYTES + bytes - 1) / bytes);
    p->buf = tb_alloc(p->words * sizeof(uint64_t));
    for (size_t w = 0; w < p->words; w++) p->buf[w] = w; // touch every page before timing
    p->streams = 4;
    return p;
}

void tb_bw_probe_close(tb_bw_probe *p)
{
    if (!p) return;
    tb_free(p->buf);
    free(p->work);
    free(p->rates);
    free(p->threads);
    free(p);
}

double tb_bw_probe_pass(tb_bw_probe *p, tb_pool *pool)
{
    double t0 = tb_now();
    tb_pool_run(pool, read_part, p);
    double rate = (double)p->sweeps * (double)(p->words * sizeof(uint64_t)) / (tb_now() - t0);
    p->streams = p->streams == 4 ? 8 : 4;
    tb_bw_probe_record(p, tb_pool_threads(pool), rate);
    return rate;
}

void tb_bw_probe_record(tb_bw_probe *p, int threads, double rate)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->rates = realloc(p->rates, (size_t)p->cap * sizeof(double));
        p->threads = realloc(p->threads, (size_t)p->cap * sizeof(int));
        if (!p->rates || !p->threads) abort();
    }
    p->threads[p->n] = threads;
    p->rates[p->n++] = rate;
}

// The recorded rates at a thread count, into v (p->n entries); returns how many.
static int rates_at(const tb_bw_probe *p, int threads, double *v)
{
    int n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->threads[i] == threads) v[n++] = p->rates[i];
    return n;
}

int tb_bw_probe_passes(const tb_bw_probe *p, int threads)
{
    int n = 0;
    for (int i = 0; i < p->n; i++) n += p->threads[i] == threads;
    return n;
}

double tb_bw_probe_best(const tb_bw_probe *p, int threads)
{
    double best = 0;
    for (int i = 0; i < p->n; i++)
        if (p->threads[i] == threads && p->rates[i] > best) best = p->rates[i];
    return best;
}

double tb_bw_probe_median(const tb_bw_probe *p, int threads)
{
    double *v = malloc((size_t)(p->n + 1) * sizeof(double));
    if (!v) abort();
    int n = rates_at(p, threads, v);
    double m = n ? tb_quantile(v, n, 0.5) : 0;
    free(v);
    return m;
}

double tb_read_bandwidth(tb_pool *pool, size_t bytes, int reps)
{
    tb_bw_probe *p = tb_bw_probe_open(bytes);
    for (int r = 0; r < reps; r++) tb_bw_probe_pass(p, pool);
    double best = tb_bw_probe_best(p, tb_pool_threads(pool));
    tb_bw_probe_close(p);
    return best;
}

void tb_bw_probe_work(tb_bw_probe *p, int tag, int threads, double bytes, double seconds)
{
    if (!(seconds > 0)) return;
    if (p->nwork == p->work_cap) {
        p->work_cap = p->work_cap ? 2 * p->work_cap : 64;
        p->work = realloc(p->work, (size_t)p->work_cap * sizeof *p->work);
        if (!p->work) abort();
    }
    p->work[p->nwork++] = (work_sample){tag, threads, p->n, bytes / seconds};
}

void tb_bw_probe_forget_work(tb_bw_probe *p)
{
    p->nwork = 0;
}

double tb_bw_probe_paired_fraction(const tb_bw_probe *p, int tag, int threads, int *samples)
{
    double *v = malloc((size_t)(p->nwork + 1) * sizeof(double));
    if (!v) abort();
    int n = 0;
    for (int i = 0; i < p->nwork; i++) {
        const work_sample *w = &p->work[i];
        if (w->tag != tag || w->threads != threads) continue;
        double sum = 0;
        int k = 0;
        for (int j = w->after - 1; j >= 0; j--) // the pass just before
            if (p->threads[j] == threads) {
                sum += p->rates[j], k++;
                break;
            }
        for (int j = w->after; j < p->n; j++) // and just after
            if (p->threads[j] == threads) {
                sum += p->rates[j], k++;
                break;
            }
        if (k) v[n++] = w->rate / (sum / k);
    }
    double f = n ? tb_quantile(v, n, 0.5) : 0;
    free(v);
    if (samples) *samples = n;
    return f;
}

size_t tb_bw_probe_bytes(const tb_bw_probe *p)
{
    return p->words * sizeof(uint64_t);
}

cJSON *tb_roof_to_json(const tb_bw_probe *p, int threads, size_t work_bytes)
{
    double *v = malloc((size_t)(p->n + 1) * sizeof(double));
    if (!v) abort();
    int n = rates_at(p, threads, v);
    cJSON *o = cJSON_CreateObject();
    size_t bytes = tb_bw_probe_bytes(p);
    cJSON_AddStringToObject(o, "kind", tb_roof_kind(bytes));
    cJSON_AddNumberToObject(o, "buffer_bytes", (double)bytes);
    cJSON_AddNumberToObject(o, "work_bytes", (double)work_bytes);
    if (bytes < work_bytes)
        cJSON_AddStringToObject(o, "note",
                                "buffer capped at the plateau (roofline.h): 8x the "
                                "last-level cache, at least 4 GiB");
#if defined(__x86_64__)
    cJSON_AddStringToObject(o, "pattern",
                            tb_cpu_features() & TB_ISA_AVX2
                                ? "read, each thread its slice in 4 or 8 interleaved sequential "
                                  "streams (alternate passes), AVX2 loads, prefetch 2 KB ahead"
                                : "read, each thread its slice in one sequential stream");
#else
    cJSON_AddStringToObject(o, "pattern", "read, each thread its slice in one sequential stream");
#endif
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "passes", n);
    cJSON_AddNumberToObject(o, "best_gbs", n ? tb_quantile(v, n, 1.0) / 1e9 : 0);
    cJSON_AddNumberToObject(o, "median_gbs", n ? tb_quantile(v, n, 0.5) / 1e9 : 0);
    cJSON_AddNumberToObject(o, "min_gbs", n ? tb_quantile(v, n, 0.0) / 1e9 : 0);
    free(v);
    return o;
}

void tb_roofline_note(cJSON *roofline, int threads, double bytes_per_s)
{
    char key[16];
    snprintf(key, sizeof key, "%d", threads);
    cJSON *seen = cJSON_GetObjectItem(roofline, key);
    if (!seen)
        cJSON_AddNumberToObject(roofline, key, bytes_per_s);
    else if (bytes_per_s > seen->valuedouble)
        cJSON_SetNumberValue(seen, bytes_per_s);
}
