// ggml's block-quantized float formats, as model files hold a token embedding or an output head
// in them (bitnet.cpp writes the 2B4T embedding Q6_K by default, Q8_0 on request; llama.cpp
// writes Q8_0, Q6_K, Q4_0, Q4_K): decoders to f32 exactly as the formats define the values, and
// quantizers for Q8_0, Q4_0 and Q6_K (`model create --embedding-type`).
//
// Blocks run along a row (ne[0]); a tensor is its blocks one after another. Layouts (bytes,
// little-endian; f16 = IEEE binary16), from ggml's block structs (ggml/src/ggml-common.h) and
// its dequantize_row_* (ggml/src/ggml-quants.c):
//
//   Q4_0, 32 values in 18 bytes:  | f16 d | qs[16] |
//     qs[j] = value j in its low nibble, value j + 16 in its high nibble; value = d * (nibble - 8)
//   Q8_0, 32 values in 34 bytes:  | f16 d | int8 q[32] |          value i = d * q[i]
//   Q6_K, 256 values in 210 bytes: | ql[128] | qh[64] | int8 scales[16] | f16 d |
//     two halves of 128 values; half h uses ql[64h ..], qh[32h ..]. For l in 0..31, value
//     128h + l + 32g (g = 0..3) has the 6-bit code q = low 4 bits | high 2 bits << 4 where
//       g = 0: low nibble of ql[64h + l],       bits 1:0 of qh[32h + l]
//       g = 1: low nibble of ql[64h + l + 32],  bits 3:2
//       g = 2: high nibble of ql[64h + l],      bits 5:4
//       g = 3: high nibble of ql[64h + l + 32], bits 7:6
//     value i = d * scales[i / 16] * (q - 32)
//   Q4_K, 256 values in 144 bytes: | f16 d | f16 dmin | scales[12] | qs[128] |
//     eight sub-blocks of 32, each with a 6-bit scale sc and a 6-bit min m packed in scales[]:
//       bytes 0-3:  sc0..sc3 in bits 5:0, bits 5:4 of sc4..sc7 in bits 7:6
//       bytes 4-7:  m0..m3 in bits 5:0,   bits 5:4 of m4..m7 in bits 7:6
//       bytes 8-11: bits 3:0 of sc4..sc7 in the low nibble, of m4..m7 in the high nibble
//     qs[32c + l] holds value 64c + l (sub-block 2c) in its low nibble and value 64c + 32 + l
//     (sub-block 2c + 1) in its high nibble; value = d * sc * q - dmin * m
//
// The arithmetic is ggml's, in f32: the f16 scales converted to f32 (exactly), then multiplied
// by the integers (Q6_K: (d * scale) * (q - 32); Q4_K: (d * sc) * q - dmin * m). Every product
// is exact in f32: an f16 has at most 11 significant bits, the integers multiplying it at most
// 7 + 5 (Q6_K), 6 + 4 (Q4_K), 7 (Q8_0) and 4 (Q4_0), within f32's 24. So neither the order of
// the products nor a fused multiply-add can change a value: each is the format's value exactly,
// except Q4_K's final subtraction, which is rounded once to nearest (even), as in ggml.
#ifndef TB_GGUF_QUANT_H
#define TB_GGUF_QUANT_H

#include <stddef.h>
#include <stdint.h>

#define TB_Q4_0_BLOCK 32
#define TB_Q4_0_BYTES 18
#define TB_Q8_0_BLOCK 32
#define TB_Q8_0_BYTES 34
#define TB_QK_K       256 // values in a K-quant super-block
#define TB_Q4_K_BYTES 144
#define TB_Q6_K_BYTES 210

// 1 if tb_dequantize decodes this ggml type (Q4_0, Q8_0, Q4_K, Q6_K).
int tb_dequant_supported(uint32_t type);

// Decodes count values (a multiple of the type's block) of blocks at in to out. name labels the
// message. 0, or -1 with "tensor 'NAME': Q8_0 block 3 scale d = nan: expected a finite number"
// (a block whose scale is infinite or NaN), or with a message for a type it does not decode.
int tb_dequantize(uint32_t type, const uint8_t *in, size_t count, float *out, const char *name,
                  char *err, size_t err_len);

// 1 if tb_quantize writes this type (Q4_0, Q8_0, Q6_K).
int tb_quant_supported(uint32_t type);

// Encodes count values (a multiple of the block) into blocks at out (count / block * bytes
// bytes). 0, or -1 with a message naming the tensor and block: a value that is not finite, or a
// block whose scale does not fit f16.
//   Q8_0, Q4_0: ggml's reference quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref):
//     Q8_0 d = absmax / 127, q = round(x / d) (half away from zero); Q4_0 d = max / -8 where max
//     is the value of largest magnitude (the first one), code = min(15, floor(x / d + 8.5)).
//     The codes are computed with the f32 d, as ggml does; d is stored rounded to f16.
//     One difference: a block whose d rounds to zero in f16 is written as ggml writes an
//     all-zero block (it decodes to zeros either way), so that encoding what a file decodes to
//     gives the file's bytes again.
//   Q6_K: our own (need not match ggml's search): see gguf_quant.c.
// Encoding the decoded values again gives the same bytes, for every block (tests/test_gguf.c).
int tb_quantize(uint32_t type, const float *x, size_t count, uint8_t *out, const char *name,
                char *err, size_t err_len);

#endif
