// Figures: data files written by the report, drawn by gnuplot from the scripts of plots/
// (`gnuplot -e "data='...'; out='...'; title='...'; n=N" plots/KIND.gp`), PNG written under a
// temporary name and renamed when gnuplot exits 0.
#include "report_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// The last line of the file at path that says something (gnuplot's error comes last, after
// the echoed command and a caret line), into out.
static void last_line(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[strspn(line, " ^")]) snprintf(out, len, "%s", line + strspn(line, " "));
    }
    if (f) fclose(f);
}

// Runs gnuplot with -e expr on script, its output to log; returns the exit status (127: could
// not start).
static int run_gnuplot(const char *prog, const char *expr, const char *script, const char *log)
{
    pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_TRUNC);
        if (fd >= 0) dup2(fd, STDOUT_FILENO), dup2(fd, STDERR_FILENO), close(fd);
        execlp(prog, prog, "-e", expr, script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Draws name.png from name.dat with script; TB_OK, or TB_BAD_INPUT naming the script.
static int draw(tb_report_ctx *c, const char *script, const char *name, const char *title,
                int n_series)
{
    const char *dir = c->p->out_dir;
    char png[1024], tmp[1040], log[1040], expr[3200], why[300];
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    snprintf(tmp, sizeof tmp, "%s/%s.png.tmp.XXXXXX", dir, name);
    snprintf(log, sizeof log, "%s/%s.log.tmp.XXXXXX", dir, name);
    int fd1 = mkstemp(tmp), fd2 = fd1 < 0 ? -1 : mkstemp(log);
    if (fd1 < 0 || fd2 < 0) {
        if (fd1 >= 0) close(fd1), unlink(tmp);
        return tb_fail(c->err, "%s: cannot create a temporary file", dir);
    }
    close(fd1), close(fd2);
    snprintf(expr, sizeof expr, "data='%s/%s.dat'; out='%s'; title='%s'; n=%d", dir, name, tmp,
             title, n_series);
    int rc = run_gnuplot(c->p->gnuplot, expr, script, log);
    last_line(log, why, sizeof why);
    unlink(log);
    if (rc == 0 && rename(tmp, png) == 0) {
        cJSON_AddItemToArray(c->files, cJSON_CreateString(png));
        return TB_OK;
    }
    unlink(tmp);
    return tb_fail(c->err, "%s: gnuplot failed (exit status %d)%s%s", script, rc,
                   why[0] ? ": " : "", why);
}

int tb_report_figure(tb_report_ctx *c, const char *script, const char *name, const char *title,
                     const tb_sbuf *data, int n_series)
{
    char file[600], path[1024];
    snprintf(file, sizeof file, "%s.dat", name);
    if (tb_report_write(c, file, data)) return TB_BAD_INPUT;
    if (!c->figures) {
        tb_sb_printf(&c->md, "(Figure *%s* unavailable: %s; its data: `%s`.)\n\n", title, c->why,
                     file);
        return TB_OK;
    }
    snprintf(path, sizeof path, "%s/%s.gp", c->p->plots, script);
    if (strchr(c->p->out_dir, '\'') || strchr(path, '\''))
        return tb_fail(c->err, "%s: a folder name with a quote cannot be given to gnuplot",
                       c->p->out_dir);
    if (access(path, R_OK) != 0) return tb_fail(c->err, "%s: no such gnuplot script", path);
    if (draw(c, path, name, title, n_series)) return TB_BAD_INPUT;
    tb_sb_printf(&c->md, "![%s](%s.png)\n\n", title, name);
    return TB_OK;
}

// One data block per series: its title, then rows "x y sampled".
static void block_start(tb_sbuf *b, int *n, const char *title)
{
    tb_sb_printf(b, "%s\"%s\"\n", *n ? "\n\n" : "", title);
    (*n)++;
}

// Measured decode tokens/s against model size: per CPU, ternary and FP16, at the largest thread
// count of each size.
static void size_series(tb_report_ctx *c, tb_sbuf *b, int *n, int fp16)
{
    for (int cpu = 0; cpu < c->ncpu; cpu++) {
        int started = 0;
        for (int i = 0; i < c->nrows; i++) {
            const tb_model_row *r = &c->rows[i];
            int last = i + 1 == c->nrows || c->rows[i + 1].cpu != r->cpu ||
                       strcmp(c->rows[i + 1].size, r->size) != 0; // largest thread count
            double y = fp16 ? r->fp16 : r->tern, x = tb_size_value(r->size);
            if (r->cpu != cpu || !last || isnan(y) || isnan(x)) continue;
            if (!started++) {
                char t[200];
                snprintf(t, sizeof t, "%s %s (measured)", c->cpus[cpu], fp16 ? "FP16" : "ternary");
                block_start(b, n, t);
            }
            tb_sb_printf(b, "%g %g %d\n", x, y, r->sampled[0] != 0);
        }
    }
}

// The published tokens/s of one CPU and column, every model size of the first table with it.
static void published_series(tb_report_ctx *c, tb_sbuf *b, int *n, const char *cpu, const char *col,
                             const char *label)
{
    for (int t = 0; t < c->pub.n; t++) {
        const tb_pub_table *tab = &c->pub.t[t];
        int cc = tb_published_col(tab, "cpu"), cm = tb_published_col(tab, "model");
        int cv = tb_published_col(tab, col), started = 0;
        if (cc < 0 || cm < 0 || cv < 0) continue;
        for (int r = 0; r < tab->nrows; r++) {
            char **row = tab->rows[r];
            if (strcmp(row[cc], cpu) || !strcmp(row[cv], "-") || isnan(tb_size_value(row[cm])))
                continue;
            if (!started++) block_start(b, n, label);
            tb_sb_printf(b, "%g %s 0\n", tb_size_value(row[cm]), row[cv]);
        }
        return;
    }
}

static int threads_figure(tb_report_ctx *c);

int tb_report_model_figures(tb_report_ctx *c)
{
    tb_sbuf b = {0};
    int n = 0;
    size_series(c, &b, &n, 0);
    size_series(c, &b, &n, 1);
    published_series(c, &b, &n, "i7-13700H", "ternary_tokens_per_s",
                     "i7-13700H ternary (published)");
    published_series(c, &b, &n, "i7-13700H", "fp16_tokens_per_s", "i7-13700H FP16 (published)");
    published_series(c, &b, &n, "M2 Ultra", "ternary_tokens_per_s", "M2 Ultra ternary (published)");
    published_series(c, &b, &n, "M2 Ultra", "fp16_tokens_per_s", "M2 Ultra FP16 (published)");
    char title[512];
    tb_report_title(c, "Decode tokens/s vs model size", -1, title, sizeof title);
    int rc = n ? tb_report_figure(c, "tg_vs_size", "tg-vs-size", title, &b, n) : TB_OK;
    tb_sb_free(&b);
    return rc ? rc : threads_figure(c);
}

// Decode tokens/s against threads, one series per CPU, size and kernel kind, for the sizes
// measured at several thread counts.
static int threads_figure(tb_report_ctx *c)
{
    tb_sbuf b = {0};
    int n = 0;
    for (int i = 0; i < c->nrows; i++) {
        const tb_model_row *r = &c->rows[i];
        int first = i == 0 || c->rows[i - 1].cpu != r->cpu || strcmp(c->rows[i - 1].size, r->size);
        int several = i + 1 < c->nrows && c->rows[i + 1].cpu == r->cpu &&
                      strcmp(c->rows[i + 1].size, r->size) == 0;
        if (!first || !several) continue;
        for (int fp16 = 0; fp16 < 2; fp16++) {
            char t[256];
            snprintf(t, sizeof t, "%s %s %s", c->cpus[r->cpu], r->size, fp16 ? "FP16" : "ternary");
            int any = 0;
            for (int j = i;
                 j < c->nrows && c->rows[j].cpu == r->cpu && !strcmp(c->rows[j].size, r->size); j++)
                any |= !isnan(fp16 ? c->rows[j].fp16 : c->rows[j].tern);
            if (any) block_start(&b, &n, t);
            for (int j = i;
                 j < c->nrows && c->rows[j].cpu == r->cpu && !strcmp(c->rows[j].size, r->size);
                 j++) {
                double y = fp16 ? c->rows[j].fp16 : c->rows[j].tern;
                if (!isnan(y))
                    tb_sb_printf(&b, "%d %g %d\n", c->rows[j].threads, y,
                                 c->rows[j].sampled[0] != 0);
            }
        }
    }
    int rc = TB_OK;
    if (n) {
        tb_sb_printf(&c->md, "### Tokens/s vs threads\n\n");
        char title[512];
        tb_report_title(c, "Decode tokens/s vs threads", -1, title, sizeof title);
        rc = tb_report_figure(c, "tg_vs_threads", "tg-vs-threads", title, &b, n);
    }
    tb_sb_free(&b);
    return rc;
}

void tb_report_title(const tb_report_ctx *c, const char *what, int cpu, char *out, size_t len)
{
    snprintf(out, len, "%s: ", what);
    int first = 1;
    for (int i = 0; i < c->ncpu; i++)
        if (cpu < 0 || cpu == i) {
            snprintf(out + strlen(out), len - strlen(out), "%s%s", first ? "" : ", ", c->cpus[i]);
            first = 0;
        }
}
