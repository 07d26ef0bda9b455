// UTF-8 and the byte-level alphabet of GPT-2 style BPE vocabularies.
//
// Byte-level BPE (GPT-2, LLaMA 3) works on bytes, but stores its pieces as printable text: each
// byte is shown as one code point. The printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand
// for themselves; the other 68 bytes (controls, space, DEL, 0x80..0xA0, 0xAD), in increasing
// order, become U+0100, U+0101, ... So a space is 'Ġ' (U+0120), a newline 'Ċ' (U+010A).
#ifndef TB_UNICODE_H
#define TB_UNICODE_H

#include <stddef.h>
#include <stdint.h>

// Is s[0..n) well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF)?
// 1 yes; 0 no, with the offset of the first bad sequence in *bad_at (if not NULL).
int tb_utf8_valid(const char *s, size_t n, size_t *bad_at);
// Length of the sequence starting at s[0] in well-formed UTF-8 (1..4) from its lead byte.
size_t tb_utf8_len(uint8_t lead);
// The code point of the well-formed sequence at s (of *len bytes, set).
uint32_t tb_utf8_decode(const char *s, size_t *len);
// Writes cp (<= U+10FFFF, not a surrogate) as UTF-8 into out; returns its length.
size_t tb_utf8_encode(uint32_t cp, char out[4]);

// The byte-level alphabet: the code point standing for byte b, and the byte a code point stands
// for (-1 if it stands for none).
uint32_t tb_byte_to_unicode(uint8_t b);
int tb_unicode_to_byte(uint32_t cp);

#endif
