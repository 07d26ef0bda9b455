#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int tb_json_write(const cJSON *doc, const char *path)
{
    char *text = cJSON_Print(doc);
    if (!text) {
        fprintf(stderr, "tritbench: out of memory printing JSON\n");
        return -1;
    }
    size_t len = strlen(text);
    char *with_nl = malloc(len + 2);
    if (!with_nl) {
        cJSON_free(text);
        fprintf(stderr, "tritbench: out of memory printing JSON\n");
        return -1;
    }
    memcpy(with_nl, text, len);
    memcpy(with_nl + len, "\n", 2);
    cJSON_free(text);
    int rc = tb_write_file_atomic(path, with_nl);
    free(with_nl);
    return rc;
}
