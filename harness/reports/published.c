// The published tables (experiments/published/*.tsv): '#' comment lines, then a header line of
// tab-separated column names, then rows with as many fields. Columns cpu, model and comparison
// hold text; every other field is a number or '-' (not published).
#include "report_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_text_col(const char *name)
{
    return strcmp(name, "cpu") == 0 || strcmp(name, "model") == 0 ||
           strcmp(name, "comparison") == 0;
}

// Splits line (modified) at tabs into at most max fields; returns the count.
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    for (char *s = line; n < max; s++) {
        f[n++] = s;
        s = strchr(s, '\t');
        if (!s) break;
        *s = '\0';
    }
    return n;
}

static int check_row(const tb_pub_table *t, char **f, int n, int lineno, tb_error *err)
{
    if (n != t->ncols)
        return tb_fail(err, "%s:%d: %d tab-separated fields, the header has %d", t->file, lineno, n,
                       t->ncols);
    for (int c = 0; c < n; c++) {
        char *end;
        if (!f[c][0])
            return tb_fail(err, "%s:%d: column '%s' is empty", t->file, lineno, t->cols[c]);
        if (is_text_col(t->cols[c]) || strcmp(f[c], "-") == 0) continue;
        strtod(f[c], &end);
        if (*end)
            return tb_fail(err, "%s:%d: column '%s' is '%s', not a number or '-'", t->file, lineno,
                           t->cols[c], f[c]);
    }
    return TB_OK;
}

static char **dup_fields(char **f, int n)
{
    char **row = malloc((size_t)n * sizeof *row);
    for (int i = 0; row && i < n; i++) row[i] = strdup(f[i]);
    return row;
}

static int add_line(tb_pub_table *t, char *line, int lineno, tb_error *err)
{
    char *f[64];
    int n = split_tabs(line, f, 64);
    if (!t->cols) {
        for (int i = 0; i < n; i++)
            if (!f[i][0])
                return tb_fail(err, "%s:%d: header column %d is empty", t->file, lineno, i + 1);
        t->cols = dup_fields(f, n), t->ncols = n;
        return TB_OK;
    }
    if (check_row(t, f, n, lineno, err)) return TB_BAD_INPUT;
    char ***rows = realloc(t->rows, (size_t)(t->nrows + 1) * sizeof *rows);
    if (!rows) return tb_fail(err, "%s: out of memory", t->file);
    t->rows = rows;
    t->rows[t->nrows++] = dup_fields(f, n);
    return TB_OK;
}

static int read_table(tb_pub_table *t, tb_error *err)
{
    FILE *fp = fopen(t->file, "r");
    if (!fp) return tb_fail(err, "%s: cannot read the published table", t->file);
    char line[4096];
    int lineno = 0, rc = TB_OK;
    while (rc == TB_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        rc = add_line(t, line, lineno, err);
    }
    fclose(fp);
    if (rc == TB_OK && !t->cols) rc = tb_fail(err, "%s: no header line", t->file);
    return rc;
}

static int is_tsv(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".tsv") == 0;
}

int tb_published_load(tb_published *pub, const char *dir, tb_error *err)
{
    if (!dir) { // no published tables: the report shows measurements only
        *pub = (tb_published){0};
        return TB_OK;
    }
    struct dirent **names;
    int n = scandir(dir, &names, is_tsv, alphasort);
    if (n < 0) return tb_fail(err, "%s: cannot read the folder of published tables", dir);
    pub->t = calloc((size_t)(n ? n : 1), sizeof *pub->t);
    int rc = pub->t ? TB_OK : tb_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        if (rc == TB_OK) {
            size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
            tb_pub_table *t = &pub->t[pub->n++];
            t->file = malloc(len);
            snprintf(t->file, len, "%s/%s", dir, names[i]->d_name);
            rc = read_table(t, err);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

void tb_published_free(tb_published *pub)
{
    for (int i = 0; i < pub->n; i++) {
        tb_pub_table *t = &pub->t[i];
        for (int r = 0; r < t->nrows; r++) {
            for (int c = 0; c < t->ncols; c++) free(t->rows[r][c]);
            free(t->rows[r]);
        }
        for (int c = 0; t->cols && c < t->ncols; c++) free(t->cols[c]);
        free(t->cols), free(t->rows), free(t->file);
    }
    free(pub->t);
    *pub = (tb_published){0};
}

int tb_published_col(const tb_pub_table *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c], name) == 0) return c;
    return -1;
}

const char *tb_published_get(const tb_published *pub, const char *cpu, const char *model,
                             const char *col)
{
    for (int i = 0; i < pub->n; i++) {
        const tb_pub_table *t = &pub->t[i];
        int cc = tb_published_col(t, "cpu"), cm = tb_published_col(t, "model"),
            cv = tb_published_col(t, col);
        if (cc < 0 || cm < 0 || cv < 0) continue;
        for (int r = 0; r < t->nrows; r++)
            if (strcmp(t->rows[r][cc], cpu) == 0 && strcmp(t->rows[r][cm], model) == 0)
                return strcmp(t->rows[r][cv], "-") == 0 ? NULL : t->rows[r][cv];
    }
    return NULL;
}
