// tritbench tokenize: a model file's tokenizer (engine/tokenizer.h) on text, a file, the lines
// of a corpus, or a list of ids.
#include "runners.h"
#include "tb_clock.h"
#include "tokenizer.h"
#include "unicode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT_BYTES (256u << 20) // --file, --lines: far above any prompt

void tb_tokenize_defaults(tb_tokenize_params *p)
{
    *p = (tb_tokenize_params){0};
}

// The whole file, NUL-terminated (the length in *len). NULL with err set.
static char *read_file(const char *opt, const char *path, size_t *len, tb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tb_fail(err, "%s %s: cannot open: %s", opt, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) abort();
    for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n > MAX_INPUT_BYTES) break;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf) abort();
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || n > MAX_INPUT_BYTES) {
        tb_fail(err, "%s %s: %s", opt, path,
                bad ? "read failed" : "expected at most 256 MiB, got more");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

// A JSON string of the text: sequences that are not UTF-8 (half a character decoded alone)
// become U+FFFD, as a UTF-8 decoder shows them. 1 if the text was UTF-8 throughout.
static int add_text(cJSON *o, const char *key, const char *s, size_t n)
{
    size_t bad;
    if (tb_utf8_valid(s, n, &bad)) {
        cJSON_AddStringToObject(o, key, s);
        return 1;
    }
    char *fixed = malloc(3 * n + 1), *w = fixed;
    if (!fixed) abort();
    for (size_t i = 0; i < n;) {
        size_t len = tb_utf8_len((uint8_t)s[i]);
        if (len <= n - i && tb_utf8_valid(s + i, len, NULL)) {
            memcpy(w, s + i, len);
            w += len, i += len;
        } else {
            memcpy(w, "\xEF\xBF\xBD", 3);
            w += 3, i++;
        }
    }
    *w = '\0';
    cJSON_AddStringToObject(o, key, fixed);
    free(fixed);
    return 0;
}

static cJSON *ids_array(const int32_t *ids, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    return a;
}

static int encode_text(const tb_tokenizer *t, const tb_tokenize_params *p, const char *text,
                       size_t len, const char *what, cJSON *doc, tb_error *err)
{
    int32_t *ids;
    size_t n;
    double t0 = tb_now();
    if (tb_tokenizer_encode(t, text, len, p->bos, &ids, &n, err->msg, sizeof err->msg)) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return tb_fail(err, "%s: %s", what, why);
    }
    cJSON_AddNumberToObject(doc, "encode_seconds", tb_now() - t0);
    cJSON_AddItemToObject(doc, "ids", ids_array(ids, n));
    cJSON_AddNumberToObject(doc, "n_tokens", (double)n);
    free(ids);
    return TB_OK;
}

// Each line a JSON string: encoded, and decoded back (so a test sees both at once).
static int encode_lines(const tb_tokenizer *t, const tb_tokenize_params *p, cJSON *doc,
                        tb_error *err)
{
    size_t size;
    char *buf = read_file("--lines", p->lines, &size, err);
    if (!buf) return TB_BAD_INPUT;
    cJSON *lines = cJSON_AddArrayToObject(doc, "lines");
    size_t total = 0;
    double seconds = 0;
    int rc = TB_OK, lineno = 0;
    for (char *line = buf; rc == TB_OK && line < buf + size;) {
        char *end = memchr(line, '\n', (size_t)(buf + size - line));
        if (!end) end = buf + size;
        *end = '\0';
        lineno++;
        cJSON *s = cJSON_Parse(line);
        if (!cJSON_IsString(s)) {
            rc = tb_fail(err, "--lines %s:%d: expected a JSON string, got '%.60s'", p->lines,
                         lineno, line);
        } else {
            const char *text = s->valuestring;
            size_t len = strlen(text), n, dlen;
            int32_t *ids;
            char *back;
            double t0 = tb_now();
            if (tb_tokenizer_encode(t, text, len, p->bos, &ids, &n, err->msg, sizeof err->msg)) {
                char why[sizeof err->msg];
                snprintf(why, sizeof why, "%s", err->msg);
                rc = tb_fail(err, "--lines %s:%d: %s", p->lines, lineno, why);
            } else {
                seconds += tb_now() - t0;
                total += n;
                cJSON *o = cJSON_CreateObject();
                cJSON_AddItemToObject(o, "ids", ids_array(ids, n));
                if (tb_tokenizer_decode(t, ids, n, 0, &back, &dlen, err->msg, sizeof err->msg))
                    abort(); // the encoder's ids are in range
                add_text(o, "decoded", back, dlen);
                cJSON_AddItemToArray(lines, o);
                free(back);
                free(ids);
            }
        }
        cJSON_Delete(s);
        line = end + 1;
    }
    free(buf);
    cJSON_AddNumberToObject(doc, "n_tokens", (double)total);
    cJSON_AddNumberToObject(doc, "encode_seconds", seconds);
    return rc;
}

static int decode_ids(const tb_tokenizer *t, const tb_tokenize_params *p, cJSON *doc, tb_error *err)
{
    int32_t *ids = malloc((size_t)p->n_decode * sizeof *ids);
    if (!ids) abort();
    for (int i = 0; i < p->n_decode; i++) ids[i] = p->decode[i];
    char *text;
    size_t len;
    int rc = TB_OK;
    if (tb_tokenizer_decode(t, ids, (size_t)p->n_decode, p->special, &text, &len, err->msg,
                            sizeof err->msg)) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = tb_fail(err, "--decode: %s", why);
    } else {
        cJSON_AddItemToObject(doc, "ids", ids_array(ids, (size_t)p->n_decode));
        cJSON_AddBoolToObject(doc, "text_is_utf8", add_text(doc, "text", text, len));
        free(text);
    }
    free(ids);
    return rc;
}

int tb_tokenize_run(const tb_tokenize_params *p, cJSON **doc, tb_error *err)
{
    *doc = NULL;
    if (!p->model) return tb_fail(err, "--model FILE is needed (a GGUF file with a tokenizer)");
    int inputs = (p->text != NULL) + (p->file != NULL) + (p->lines != NULL) + (p->n_decode > 0);
    if (inputs != 1)
        return tb_fail(err, "expected one of --text, --file, --lines or --decode, got %d", inputs);
    tb_gguf g;
    tb_tokenizer *t;
    if (tb_gguf_open(p->model, &g, err->msg, sizeof err->msg)) return TB_BAD_INPUT;
    int rc = tb_tokenizer_load(&g, &t, err->msg, sizeof err->msg);
    tb_gguf_close(&g);
    if (rc) return TB_BAD_INPUT;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", "tokenize");
    cJSON_AddStringToObject(d, "model", p->model);
    cJSON *info = cJSON_AddObjectToObject(d, "tokenizer");
    cJSON_AddStringToObject(info, "model", tb_tokenizer_model(t));
    cJSON_AddStringToObject(info, "pre", tb_tokenizer_pre(t));
    cJSON_AddNumberToObject(info, "n_vocab", tb_tokenizer_n_vocab(t));
    cJSON_AddNumberToObject(info, "bos_id", tb_tokenizer_bos(t));
    cJSON_AddNumberToObject(info, "eos_id", tb_tokenizer_eos(t));
    if (p->text) {
        rc = encode_text(t, p, p->text, strlen(p->text), "--text", d, err);
    } else if (p->file) {
        size_t len;
        char *text = read_file("--file", p->file, &len, err);
        rc = text ? encode_text(t, p, text, len, p->file, d, err) : TB_BAD_INPUT;
        free(text);
    } else if (p->lines) {
        rc = encode_lines(t, p, d, err);
    } else {
        rc = decode_ids(t, p, d, err);
    }
    tb_tokenizer_free(t);
    if (rc) {
        cJSON_Delete(d);
        return rc;
    }
    *doc = d;
    return TB_OK;
}
