// The readers that take a path (model files, experiments, result documents, tune files) get
// each fuzz input as a file: one temporary file per process, rewritten for every input and
// removed at exit. The suffix matters to some readers (".json" for result sets). In /dev/shm
// (memory) when there is one: on this project's VMs a write to /tmp costs milliseconds, twenty
// times a parse.
#ifndef TB_FUZZ_FILE_H
#define TB_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mkstemps(char *template, int suffixlen); // glibc declares it only with _DEFAULT_SOURCE

static char fuzz_path[512];

static void fuzz_file_remove(void)
{
    if (fuzz_path[0]) unlink(fuzz_path);
}

// Writes the input to the temporary file and returns its path; aborts if it cannot (a fuzz run
// that silently tests nothing would be worse).
static const char *fuzz_file_write(const uint8_t *data, size_t size, const char *suffix)
{
    if (!fuzz_path[0]) {
        const char *dir = getenv("TMPDIR");
        if (access("/dev/shm", W_OK) == 0)
            dir = "/dev/shm";
        else if (!dir || !*dir)
            dir = "/tmp";
        snprintf(fuzz_path, sizeof fuzz_path, "%s/tritbench-fuzz-XXXXXX%s", dir, suffix);
        int fd = mkstemps(fuzz_path, (int)strlen(suffix));
        if (fd < 0) {
            perror("fuzz: temporary file");
            abort();
        }
        close(fd);
        atexit(fuzz_file_remove);
    }
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(fuzz_path);
        abort();
    }
    return fuzz_path;
}

#endif
