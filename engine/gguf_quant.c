// ggml block formats <-> f32 (layouts and arithmetic: gguf_quant.h).
#include "gguf_quant.h"
#include "gguf.h"
#include "model.h" // tb_f16_to_f32, tb_f32_to_f16

#include <math.h>
#include <stdio.h>
#include <string.h>

static float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return tb_f16_to_f32(h);
}

static void put_f16(uint8_t *p, uint16_t h)
{
    memcpy(p, &h, 2);
}

// ---------------------------------------------------------------------------------------------
// Decoders: one block each. A block whose scale is not finite is refused by the caller, which
// knows the block's index.

static void dequant_q4_0(const uint8_t *b, float *y)
{
    float d = f16_at(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0xf) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

static void dequant_q8_0(const uint8_t *b, float *y)
{
    float d = f16_at(b);
    for (int i = 0; i < 32; i++) y[i] = (float)(int8_t)b[2 + i] * d;
}

// The 6-bit code of value e (0..127) of a Q6_K half whose bytes start at ql and qh.
static int q6_k_code(const uint8_t *ql, const uint8_t *qh, int e)
{
    int l = e % 32, g = e / 32;
    int low = (ql[l + 32 * (g & 1)] >> (4 * (g >> 1))) & 0xf;
    int high = (qh[l] >> (2 * g)) & 3;
    return low | high << 4;
}

static void dequant_q6_k(const uint8_t *b, float *y)
{
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    float d = f16_at(b + 208);
    for (int i = 0; i < 256; i++) {
        int h = i / 128;
        int q = q6_k_code(ql + 64 * h, qh + 32 * h, i % 128);
        y[i] = d * (float)scales[i / 16] * (float)(q - 32);
    }
}

// Scale and min (6 bits each) of Q4_K sub-block s (0..7) from the 12 packed bytes.
static void q4_k_scale_min(const uint8_t *sc, int s, int *scale, int *min)
{
    if (s < 4) {
        *scale = sc[s] & 63;
        *min = sc[s + 4] & 63;
    } else {
        *scale = (sc[s + 4] & 0xf) | (sc[s - 4] >> 6) << 4;
        *min = (sc[s + 4] >> 4) | (sc[s] >> 6) << 4;
    }
}

static void dequant_q4_k(const uint8_t *b, float *y)
{
    float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *qs = b + 16;
    for (int s = 0; s < 8; s++) {
        int scale, min;
        q4_k_scale_min(b + 4, s, &scale, &min);
        float ds = d * (float)scale, dm = dmin * (float)min;
        // Sub-block s: the low nibbles (s even) or high nibbles (s odd) of qs[32 * (s / 2) ..].
        const uint8_t *q = qs + 32 * (s / 2);
        for (int l = 0; l < 32; l++)
            y[32 * s + l] = ds * (float)((q[l] >> (4 * (s & 1))) & 0xf) - dm;
    }
}

typedef struct {
    uint32_t type;
    int block, bytes;
    void (*decode)(const uint8_t *b, float *y);
    int scales[2]; // byte offsets of the f16 scales in a block (-1: none)
} quant_format;

static const quant_format formats[] = {
    {TB_GGML_Q4_0, TB_Q4_0_BLOCK, TB_Q4_0_BYTES, dequant_q4_0, {0, -1}},
    {TB_GGML_Q8_0, TB_Q8_0_BLOCK, TB_Q8_0_BYTES, dequant_q8_0, {0, -1}},
    {TB_GGML_Q4_K, TB_QK_K, TB_Q4_K_BYTES, dequant_q4_k, {0, 2}},
    {TB_GGML_Q6_K, TB_QK_K, TB_Q6_K_BYTES, dequant_q6_k, {208, -1}},
};

static const quant_format *find_format(uint32_t type)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].type == type) return &formats[i];
    return NULL;
}

int tb_dequant_supported(uint32_t type)
{
    return find_format(type) != NULL;
}

int tb_dequantize(uint32_t type, const uint8_t *in, size_t count, float *out, const char *name,
                  char *err, size_t err_len)
{
    const quant_format *f = find_format(type);
    const char *tname = tb_ggml_type_name(type);
    if (!f || count % (size_t)f->block) {
        snprintf(err, err_len,
                 "tensor '%s': %s (%u) with %zu values: not a block type decoded here", name,
                 tname ? tname : "unknown type", type, count);
        return -1;
    }
    for (size_t b = 0; b < count / (size_t)f->block; b++) {
        const uint8_t *blk = in + b * (size_t)f->bytes;
        for (int s = 0; s < 2 && f->scales[s] >= 0; s++) {
            float v = f16_at(blk + f->scales[s]);
            if (!isfinite(v)) {
                snprintf(err, err_len,
                         "tensor '%s': %s block %zu scale %s = %g: expected a finite number", name,
                         tname, b, s ? "dmin" : "d", (double)v);
                return -1;
            }
        }
        f->decode(blk, out + b * (size_t)f->block);
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Quantizers

// The value of largest magnitude, the first one if several tie (ggml's choice for Q4_0).
static float signed_absmax(const float *x, int n)
{
    float m = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > fabsf(m)) m = x[i];
    return m;
}

// Q8_0, as quantize_row_q8_0_ref. -1 if d does not fit f16.
static int quant_q8_0(const float *x, uint8_t *b)
{
    float amax = fabsf(signed_absmax(x, 32));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t h = tb_f32_to_f16(d);
    if (!isfinite(tb_f16_to_f32(h))) return -1;
    if (tb_f16_to_f32(h) == 0.0f) id = 0.0f; // all codes 0, as for an all-zero block
    put_f16(b, h);
    for (int i = 0; i < 32; i++) {
        // |x * id| <= 127 up to a rounding: the clamp never changes a code, it only bounds it.
        float q = fminf(127.0f, fmaxf(-127.0f, roundf(x[i] * id)));
        b[2 + i] = (uint8_t)(int8_t)q;
    }
    return 0;
}

// Q4_0, as quantize_row_q4_0_ref. -1 if d does not fit f16.
static int quant_q4_0(const float *x, uint8_t *b)
{
    float max = signed_absmax(x, 32);
    float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t h = tb_f32_to_f16(d);
    if (!isfinite(tb_f16_to_f32(h))) return -1;
    if (tb_f16_to_f32(h) == 0.0f) {
        h = tb_f32_to_f16(-0.0f); // ggml's all-zero block: max = 0, d = 0 / -8 = -0, codes 8
        id = 0.0f;
    }
    put_f16(b, h);
    for (int j = 0; j < 16; j++) {
        // x * id + 8.5 lies in [0.5, 16.5] up to a rounding: ggml's (int8_t) truncation is a
        // floor there, and min(15, ...) keeps the code a nibble.
        // Two roundings, as in ggml: ISO C lets a compiler fuse a * b + c within one
        // expression (clang does where the ISA has an fma), never across statements.
        float lo = x[j] * id, hi = x[j + 16] * id;
        lo += 8.5f;
        hi += 8.5f;
        int qlo = (int)fminf(15.0f, fmaxf(0.0f, floorf(lo)));
        int qhi = (int)fminf(15.0f, fmaxf(0.0f, floorf(hi)));
        b[2 + j] = (uint8_t)(qlo | qhi << 4);
    }
    return 0;
}

// The f16 nearest to x on the side of zero (|result| <= |x|). x finite.
static uint16_t f16_toward_zero(float x)
{
    uint16_t h = tb_f32_to_f16(x);
    if (fabsf(tb_f16_to_f32(h)) > fabsf(x)) h--; // one step down in magnitude (inf -> 65504)
    return h;
}

// Q6_K, our own quantizer. With M the super-block's value of largest magnitude:
//   d = M / 4096 rounded to f16 toward zero (4096 = 128 * 32: M gets scale -128 and code -32);
//   each sub-block of 16, with m its value of largest magnitude: scale = m / (-32 d) rounded
//   toward zero, clamped to -128..127 (so m reaches code -32 or beyond, and is clamped there);
//   each value: q - 32 = x / (d * scale) rounded to nearest, clamped to -32..31.
// The roundings toward zero make it a fixed point: decoded, the super-block's largest value is
// exactly 4096 d and each sub-block's is exactly -32 d scale, so quantizing the decoded values
// finds the same d, scales and codes. Error: at most |M| / 64 a value (half a step of the
// coarsest sub-block; a clamped sub-block maximum loses less than 36 d = 36 |M| / 4096).
// A super-block whose d is zero in f16 (|M| < 2^-12) is written all zero, as ggml writes one.
static void quant_q6_k(const float *x, uint8_t *b)
{
    memset(b, 0, TB_Q6_K_BYTES);
    uint16_t h = f16_toward_zero(signed_absmax(x, 256) / 4096.0f);
    float d = tb_f16_to_f32(h);
    if (d == 0.0f) return;
    put_f16(b + 208, h);
    uint8_t *ql = b, *qh = b + 128;
    for (int s = 0; s < 16; s++) {
        const float *xs = x + 16 * s;
        float r = signed_absmax(xs, 16) / (-32.0f * d);
        int scale = (int)truncf(fminf(127.0f, fmaxf(-128.0f, r)));
        b[192 + s] = (uint8_t)(int8_t)scale;
        float step = d * (float)scale;
        for (int j = 0; j < 16; j++) {
            int q = 32; // value 0 when the scale is 0
            if (scale) q += (int)roundf(fminf(31.0f, fmaxf(-32.0f, xs[j] / step)));
            // Element i = 16 s + j goes where gguf_quant.h draws it.
            int i = 16 * s + j, half = i / 128, e = i % 128, l = e % 32, g = e / 32;
            ql[64 * half + l + 32 * (g & 1)] |= (uint8_t)((q & 0xf) << (4 * (g >> 1)));
            qh[32 * half + l] |= (uint8_t)((q >> 4) << (2 * g));
        }
    }
}

int tb_quant_supported(uint32_t type)
{
    return type == TB_GGML_Q4_0 || type == TB_GGML_Q8_0 || type == TB_GGML_Q6_K;
}

int tb_quantize(uint32_t type, const float *x, size_t count, uint8_t *out, const char *name,
                char *err, size_t err_len)
{
    const quant_format *f = find_format(type);
    if (!f || !tb_quant_supported(type) || count % (size_t)f->block) {
        snprintf(err, err_len, "tensor '%s': %zu values: cannot be written as %s", name, count,
                 tb_ggml_type_name(type) ? tb_ggml_type_name(type) : "an unknown type");
        return -1;
    }
    for (size_t b = 0; b < count / (size_t)f->block; b++) {
        const float *xb = x + b * (size_t)f->block;
        uint8_t *blk = out + b * (size_t)f->bytes;
        for (int i = 0; i < f->block; i++)
            if (!isfinite(xb[i])) {
                snprintf(err, err_len,
                         "tensor '%s': %s block %zu: value %zu is %g: expected a finite number",
                         name, tb_ggml_type_name(type), b, b * (size_t)f->block + (size_t)i,
                         (double)xb[i]);
                return -1;
            }
        int rc = 0;
        if (type == TB_GGML_Q8_0) rc = quant_q8_0(xb, blk);
        if (type == TB_GGML_Q4_0) rc = quant_q4_0(xb, blk);
        if (type == TB_GGML_Q6_K) quant_q6_k(xb, blk);
        if (rc) {
            snprintf(err, err_len,
                     "tensor '%s': %s block %zu: largest magnitude %g needs a scale beyond f16 "
                     "(65504)",
                     name, tb_ggml_type_name(type), b, (double)fabsf(signed_absmax(xb, f->block)));
            return -1;
        }
    }
    return 0;
}
