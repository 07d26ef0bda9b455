#include "results.h"
#include "atomic_file.h"
#include "info.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

// Result files beyond this size are refused by the reader (a sweep is a few megabytes).
#define MAX_RESULT_BYTES ((size_t)1 << 30)

int tb_results_is_result_name(const char *name)
{
    size_t n = strlen(name);
    if (n <= 5 || strcmp(name + n - 5, ".json") != 0) return 0;
    return strstr(name, TB_TMP_INFIX) == NULL;
}

static int valid_kind(const char *kind)
{
    size_t n = strlen(kind);
    if (n == 0 || n > 40) return 0;
    for (const char *c = kind; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
            return 0;
    return 1;
}

int tb_mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (!p) return -1;
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c != '\0') continue;
        char saved = *c;
        *c = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "tritbench: cannot create folder %s: %s\n", p, strerror(errno));
            free(p);
            return -1;
        }
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "tritbench: cannot create folder %s: a file of that name exists\n", p);
            free(p);
            return -1;
        }
        *c = saved;
        if (saved == '\0') break;
    }
    free(p);
    return 0;
}

// Sets "schema" and "kind", and "created" if absent, as the document's first members (the other
// members keep their order). 0, or -1 when out of memory.
static int put_header(cJSON *doc, const char *kind, const char *created)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "schema");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "kind");
    cJSON *old = cJSON_GetObjectItemCaseSensitive(doc, "created");
    if (old && !cJSON_IsString(old)) cJSON_DeleteItemFromObjectCaseSensitive(doc, "created");
    old = cJSON_GetObjectItemCaseSensitive(doc, "created");
    if (old) old = cJSON_DetachItemViaPointer(doc, old);
    int n = cJSON_GetArraySize(doc);
    cJSON **rest = malloc(((size_t)n + 1) * sizeof *rest);
    if (!rest) {
        if (old) cJSON_AddItemToObject(doc, "created", old);
        return -1;
    }
    for (int i = 0; i < n; i++) rest[i] = cJSON_DetachItemViaPointer(doc, doc->child);
    cJSON_AddStringToObject(doc, "schema", TB_RESULTS_SCHEMA);
    cJSON_AddStringToObject(doc, "kind", kind);
    if (old)
        cJSON_AddItemToObject(doc, "created", old);
    else
        cJSON_AddStringToObject(doc, "created", created);
    for (int i = 0; i < n; i++) cJSON_AddItemToObject(doc, rest[i]->string, rest[i]);
    free(rest);
    return 0;
}

// The fields every result carries: schema, kind, created, info, sources. stamp gets the
// creation time for file names. 0, or -1 with a message on stderr.
static int complete_doc(cJSON *doc, const char *kind, char stamp[32])
{
    if (!doc || !cJSON_IsObject(doc)) {
        fprintf(stderr, "tritbench: result document is not a JSON object\n");
        return -1;
    }
    if (!kind || !valid_kind(kind)) {
        fprintf(stderr, "tritbench: result kind '%s' must be 1-40 characters of [a-z0-9_-]\n",
                kind ? kind : "(null)");
        return -1;
    }
    time_t now = time(NULL);
    struct tm tm;
    char created[32];
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(stamp, 32, "%Y%m%dT%H%M%SZ", &tm);
    if (put_header(doc, kind, created) != 0) {
        fprintf(stderr, "tritbench: out of memory writing a result\n");
        return -1;
    }
    cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    if (!cJSON_IsObject(info)) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "info");
        info = tb_info_collect(NULL, NULL);
        if (!info) {
            fprintf(stderr, "tritbench: out of memory collecting the machine information\n");
            return -1;
        }
        cJSON_AddItemToObject(doc, "info", info);
    }
    cJSON *sources = cJSON_GetObjectItemCaseSensitive(info, "sources");
    if (!cJSON_GetObjectItemCaseSensitive(doc, "sources") && sources)
        cJSON_AddItemToObject(doc, "sources", cJSON_Duplicate(sources, 1));
    return 0;
}

// The document's text with a final newline (malloc'd), or NULL when out of memory.
static char *doc_text(const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    char *body = text ? malloc(strlen(text) + 2) : NULL;
    if (body) strcpy(body, text), strcat(body, "\n");
    cJSON_free(text);
    if (!body) fprintf(stderr, "tritbench: out of memory writing a result\n");
    return body;
}

char *tb_results_write(cJSON *doc, const char *dir, const char *kind)
{
    if (!dir) dir = "results";
    char stamp[32];
    if (complete_doc(doc, kind, stamp)) return NULL;
    char *slug = tb_info_cpu_slug(cJSON_GetObjectItemCaseSensitive(doc, "info"));
    char *body = doc_text(doc);
    size_t cap = strlen(dir) + (slug ? strlen(slug) : 0) + strlen(kind) + 64;
    char *path = malloc(cap);
    if (!slug || !path || !body) {
        free(slug), free(path), free(body);
        return NULL;
    }
    snprintf(path, cap, "%s/%s", dir, slug);
    int rc = tb_mkdir_p(path);
    for (int attempt = 1; rc == 0; attempt++) {
        if (attempt == 1)
            snprintf(path, cap, "%s/%s/%s-%s.json", dir, slug, kind, stamp);
        else
            snprintf(path, cap, "%s/%s/%s-%s-%d.json", dir, slug, kind, stamp, attempt);
        rc = tb_write_file_new(path, body);
        if (rc == 1 && attempt >= 1000) {
            fprintf(stderr, "tritbench: %s: too many results with this time stamp\n", path);
            rc = -1;
        }
        if (rc != 1) break;
        rc = 0;
    }
    free(slug);
    free(body);
    if (rc != 0) {
        free(path);
        return NULL;
    }
    return path;
}

char *tb_results_folder(const char *dir, const char *sub)
{
    cJSON *info = tb_info_collect(NULL, NULL);
    char *slug = info ? tb_info_cpu_slug(info) : NULL;
    cJSON_Delete(info);
    if (!slug) return NULL;
    size_t cap = strlen(dir ? dir : "results") + strlen(slug) + strlen(sub) + 3;
    char *path = malloc(cap);
    if (path) snprintf(path, cap, "%s/%s/%s", dir ? dir : "results", slug, sub);
    free(slug);
    return path;
}

int tb_results_write_path(cJSON *doc, const char *path, const char *kind)
{
    char stamp[32];
    if (complete_doc(doc, kind, stamp)) return -1;
    char *body = doc_text(doc), *folder = strdup(path);
    char *slash = folder ? strrchr(folder, '/') : NULL;
    if (slash) *slash = '\0';
    int rc = !body || !folder ? -1 : slash ? tb_mkdir_p(folder) : 0;
    if (rc == 0) rc = tb_write_file_atomic(path, body);
    free(body), free(folder);
    return rc;
}

static cJSON *fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cJSON *fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

// Field name and the check its value must pass, where present.
static const struct {
    const char *name;
    cJSON_bool (*is)(const cJSON *);
    const char *what;
} optional_fields[] = {
    {"kind", cJSON_IsString, "a string"},        {"created", cJSON_IsString, "a string"},
    {"info", cJSON_IsObject, "an object"},       {"sources", cJSON_IsObject, "an object"},
    {"parameters", cJSON_IsObject, "an object"}, {"entries", cJSON_IsArray, "an array"},
};

cJSON *tb_results_read(const char *path, char *err, size_t err_len)
{
    return tb_results_read_status(path, NULL, err, err_len);
}

cJSON *tb_results_read_status(const char *path, int *damaged, char *err, size_t err_len)
{
    if (damaged) *damaged = 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, TB_TMP_INFIX))
        return fail(err, err_len, "%s: a temporary file of an unfinished write, not a result",
                    path);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, err_len, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fail(err, err_len, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > MAX_RESULT_BYTES) {
        fclose(f);
        return fail(err, err_len, "%s: %lld bytes, more than a result can be", path,
                    (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return fail(err, err_len, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, size, f);
    int read_error = ferror(f);
    fclose(f);
    if (got != size || read_error) {
        free(buf);
        return fail(err, err_len, "%s: read error", path);
    }
    buf[size] = '\0';
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(buf, size, &end, 0);
    if (!doc) {
        size_t at = end && end >= buf && end <= buf + size ? (size_t)(end - buf) : 0;
        free(buf);
        if (damaged) *damaged = 1;
        return fail(err, err_len, "%s: not valid JSON (at byte %zu of %zu)", path, at, size);
    }
    free(buf);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return fail(err, err_len, "%s: not a JSON object", path);
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!schema) {
        cJSON_Delete(doc);
        return fail(err, err_len, "%s: field 'schema' is missing (not a tritbench result?)", path);
    }
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, TB_RESULTS_SCHEMA) != 0) {
        char *shown = cJSON_PrintUnformatted(schema);
        fail(err, err_len, "%s: field 'schema' is %.60s, expected \"%s\"", path,
             shown ? shown : "?", TB_RESULTS_SCHEMA);
        cJSON_free(shown);
        cJSON_Delete(doc);
        return NULL;
    }
    for (size_t i = 0; i < sizeof optional_fields / sizeof optional_fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, optional_fields[i].name);
        if (v && !optional_fields[i].is(v)) {
            fail(err, err_len, "%s: field '%s' must be %s", path, optional_fields[i].name,
                 optional_fields[i].what);
            cJSON_Delete(doc);
            return NULL;
        }
    }
    return doc;
}
