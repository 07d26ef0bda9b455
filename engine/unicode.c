// UTF-8 and the byte-level alphabet (unicode.h).
#include "unicode.h"

int tb_utf8_valid(const char *str, size_t n, size_t *bad_at)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = tb_utf8_len(c);
        uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        // Continuation bytes and 0xF8..0xFF never lead a sequence.
        int ok = len == 1 ? c < 0x80 : (c & 0xC0) == 0xC0 && c < 0xF8 && len <= n - i;
        uint32_t cp = len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (s[i + k] & 0xC0) == 0x80;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (ok && len > 1) ok = cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        if (!ok) {
            if (bad_at) *bad_at = i;
            return 0;
        }
        i += len;
    }
    return 1;
}

size_t tb_utf8_len(uint8_t lead)
{
    if (lead < 0xC0) return 1; // ASCII (and stray continuation bytes, refused by the validator)
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    return 4;
}

uint32_t tb_utf8_decode(const char *str, size_t *len)
{
    const uint8_t *s = (const uint8_t *)str;
    *len = tb_utf8_len(s[0]);
    if (*len == 1) return s[0];
    uint32_t cp = *len == 2 ? s[0] & 0x1Fu : *len == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
    for (size_t k = 1; k < *len; k++) cp = cp << 6 | (s[k] & 0x3Fu);
    return cp;
}

size_t tb_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// Bytes shown as themselves (see unicode.h).
static int printable(unsigned b)
{
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t tb_byte_to_unicode(uint8_t b)
{
    if (printable(b)) return b;
    // The others count up from U+0100 in byte order: b's rank among the non-printable bytes.
    // Below '!' all 33 bytes are non-printable; 0x7F..0xA0 are the next 34; 0xAD the last.
    if (b < '!') return 0x100u + b;
    if (b <= 0xA0) return 0x100u + 33 + (b - 0x7Fu);
    return 0x100u + 67; // 0xAD
}

int tb_unicode_to_byte(uint32_t cp)
{
    if (cp < 0x100) return printable(cp) ? (int)cp : -1;
    if (cp < 0x100 + 33) return (int)(cp - 0x100);
    if (cp < 0x100 + 67) return (int)(cp - 0x100 - 33 + 0x7F);
    if (cp == 0x100 + 67) return 0xAD;
    return -1;
}
