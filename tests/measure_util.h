// Helpers for the measurement-module tests (info, energy, counters, results): checks that
// count failures, and small file-tree operations on temporary folders.
#ifndef TB_MEASURE_UTIL_H
#define TB_MEASURE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb_test.h"

#define CHECK EXPECT

static inline int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

// "a/b", malloc'd.
static inline char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) exit(1);
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static inline void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "test: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static inline void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "test: cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

// rm -rf
static inline void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            char *sub = path_join(path, de->d_name);
            remove_tree(sub);
            free(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

// cp -r from to (regular files and folders).
static inline void copy_tree(const char *from, const char *to)
{
    struct stat st;
    if (stat(from, &st) != 0) {
        fprintf(stderr, "test: no fixture %s\n", from);
        exit(1);
    }
    if (S_ISDIR(st.st_mode)) {
        make_dir(to);
        DIR *d = opendir(from);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            char *a = path_join(from, de->d_name), *b = path_join(to, de->d_name);
            copy_tree(a, b);
            free(a);
            free(b);
        }
        if (d) closedir(d);
        return;
    }
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        fprintf(stderr, "test: cannot copy %s to %s\n", from, to);
        exit(1);
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
}

// A fresh temporary folder; malloc'd path.
static inline char *temp_dir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/tritbench-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "test: mkdtemp %s: %s\n", tmpl, strerror(errno));
        exit(1);
    }
    return strdup(tmpl);
}

#endif
