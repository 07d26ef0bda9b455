#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void tb_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tritbench %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'tritbench %s --help')\n", cmd);
    va_end(ap);
    exit(TB_EXIT_USAGE);
}

int tb_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}

const char *tb_opt(const char *cmd, int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0) return NULL;
    if (a[len] == '=') return a + len + 1;
    if (a[len] != '\0') return NULL;
    if (*i + 1 >= argc) tb_usage_error(cmd, "%s needs a value", name);
    *i += 1;
    return argv[*i];
}

long long tb_parse_int(const char *cmd, const char *what, const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno)
        tb_usage_error(cmd, "%s: '%s' is not a whole number", what, s);
    if (v < lo || v > hi)
        tb_usage_error(cmd, "%s: %lld is out of range [%lld, %lld]", what, v, lo, hi);
    return v;
}

uint64_t tb_parse_u64(const char *cmd, const char *what, const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno)
        tb_usage_error(cmd, "%s: '%s' is not a non-negative whole number", what, s);
    return (uint64_t)v;
}

void tb_parse_ints(const char *cmd, const char *what, const char *s, int count, int *out)
{
    char buf[128], *save = NULL;
    if (strlen(s) >= sizeof buf) tb_usage_error(cmd, "%s: '%s' is too long", what, s);
    strcpy(buf, s);
    int got = 0;
    for (const char *c = s; *c; c++)
        if (*c == ',') got++;
    if (got != count - 1 || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
        tb_usage_error(cmd, "%s: '%s' must be %d comma-separated whole numbers", what, s, count);
    got = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        out[got++] = (int)tb_parse_int(cmd, what, t, 1, 1 << 30);
}

double tb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tb_progress_start(tb_progress *p, int enabled)
{
    p->enabled = enabled && isatty(STDERR_FILENO);
    p->start = tb_now();
}

void tb_progress_show(tb_progress *p, const char *what, int done, int total)
{
    if (!p->enabled) return;
    fprintf(stderr, "\r\033[K%s  %d/%d  %.1fs", what, done, total, tb_now() - p->start);
    fflush(stderr);
}

void tb_progress_done(tb_progress *p)
{
    if (!p->enabled) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

void (*tb_write_atomic_test_hook)(const char *tmp_path) = NULL;

// fsync the folder holding path, so that a rename into it survives a power cut.
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    // Some file systems cannot fsync a folder (EINVAL); the rename itself has happened.
    if (rc != 0 && errno == EINVAL) rc = 0;
    close(fd);
    return rc;
}

// Temporary file "PATH.tmp.XXXXXX" in the same folder, written and fsynced, then moved to
// path: by rename (replacing), or by link (no_clobber: fails with EEXIST, returns 1).
static int write_atomic(const char *path, const char *text, int no_clobber)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        fprintf(stderr, "tritbench: out of memory writing %s\n", path);
        return -1;
    }
    snprintf(tmp, len + 16, "%s" TB_TMP_INFIX "XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "tritbench: cannot create a temporary file beside %s: %s\n", path,
                strerror(errno));
        free(tmp);
        return -1;
    }
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            break;
        }
        off += (size_t)w;
    }
    // mkstemp creates 0600; results and JSON outputs are meant to be shared.
    int ok = off == n && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (ok && tb_write_atomic_test_hook) tb_write_atomic_test_hook(tmp);
    int exists = 0;
    if (ok && no_clobber) {
        ok = link(tmp, path) == 0;
        if (!ok && errno == EEXIST) exists = 1;
        int saved = errno;
        unlink(tmp);
        errno = saved;
    } else if (ok) {
        ok = rename(tmp, path) == 0;
    }
    if (ok) ok = fsync_parent(path) == 0;
    if (!ok && !exists) {
        fprintf(stderr, "tritbench: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return exists ? 1 : ok ? 0 : -1;
}

int tb_write_file_atomic(const char *path, const char *text)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return 0;
    }
    return write_atomic(path, text, 0);
}

int tb_write_file_new(const char *path, const char *text)
{
    return write_atomic(path, text, 1);
}

int tb_emit_json(cJSON *doc, const char *path)
{
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!text) {
        fprintf(stderr, "tritbench: out of memory printing JSON\n");
        return -1;
    }
    size_t len = strlen(text);
    char *with_nl = malloc(len + 2);
    memcpy(with_nl, text, len);
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    cJSON_free(text);
    int rc = tb_write_file_atomic(path ? path : "-", with_nl);
    free(with_nl);
    return rc;
}
