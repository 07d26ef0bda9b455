// Fuzz target: the tokenizer loader on whatever the GGUF reader accepts (tokenizer.ggml.*
// metadata of any shape: wrong types, lengths, ids, tokens that are not UTF-8, merges naming
// nothing), and, for a tokenizer it loads, encoding texts that exercise the pre-tokenizer and
// merges and decoding every id (each alone, with and without control tokens).
#include "gguf.h"
#include "tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
    "",
    " ",
    "Hello world!",
    "  the   quick\n\n\tfox's DON'T 12345 ...!!!\r\n",
    "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
    "<|begin_of_text|><0x41>\xE2\x96\x81",
    "a\xFF", // the last is not UTF-8: refused
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_gguf g;
    tb_tokenizer *t;
    char err[512];
    if (tb_gguf_parse(data, size, "fuzz.gguf", &g, err, sizeof err) != 0) return 0;
    int rc = tb_tokenizer_load(&g, &t, err, sizeof err);
    tb_gguf_close(&g);
    if (rc) return 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int32_t *ids;
        size_t n;
        char *back;
        size_t len;
        if (tb_tokenizer_encode(t, texts[i], strlen(texts[i]), 1, &ids, &n, err, sizeof err) == 0) {
            for (size_t k = 0; k < n; k++)
                if (ids[k] < 0 || ids[k] >= tb_tokenizer_n_vocab(t)) abort(); // ids in range
            if (tb_tokenizer_decode(t, ids, n, 0, &back, &len, err, sizeof err) == 0) free(back);
            free(ids);
        }
    }
    for (int32_t id = 0; id < tb_tokenizer_n_vocab(t) && id < 4096; id++)
        for (int special = 0; special < 2; special++) {
            char *back;
            size_t len;
            if (tb_tokenizer_decode(t, &id, 1, special, &back, &len, err, sizeof err) == 0)
                free(back);
        }
    tb_tokenizer_free(t);
    return 0;
}
