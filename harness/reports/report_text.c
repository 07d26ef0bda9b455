// Text pieces of the report: a growing string and Markdown tables with natural row order.
#include "report_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tb_sb_printf(tb_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || b->failed) return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s, b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tb_sb_free(tb_sbuf *b)
{
    free(b->s);
    *b = (tb_sbuf){0};
}

// Leading number of s with its K/M/B/T multiplier; *rest after them. NAN if none.
static double leading_value(const char *s, const char **rest)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s) {
        *rest = s;
        return NAN;
    }
    const char *units = "KMBT";
    const char *u = *end ? strchr(units, *end) : NULL;
    if (u) v *= pow(1e3, (double)(u - units + 1)), end++;
    *rest = end;
    return v;
}

double tb_size_value(const char *s)
{
    const char *rest;
    double v = leading_value(s, &rest);
    return rest > s && rest[-1] >= 'A' && rest[-1] <= 'Z' ? v : NAN;
}

int tb_natural_cmp(const char *a, const char *b)
{
    const char *ra, *rb;
    double va = leading_value(a, &ra), vb = leading_value(b, &rb);
    if (!isnan(va) && !isnan(vb) && va != vb) return va < vb ? -1 : 1;
    if (isnan(va) != isnan(vb)) return isnan(va) ? 1 : -1;
    return strcmp(a, b);
}

struct tb_grid {
    int nkeys, ncols, nrows, cap;
    char **names; // nkeys key names, then ncols headers
    char ***rows; // rows[r]: nkeys keys, then ncols values (NULL: empty)
};

tb_grid *tb_grid_new(int nkeys, const char *const *key_names)
{
    tb_grid *g = calloc(1, sizeof *g);
    if (!g || !(g->names = calloc((size_t)nkeys, sizeof *g->names))) return free(g), NULL;
    g->nkeys = nkeys;
    for (int i = 0; i < nkeys; i++) g->names[i] = strdup(key_names[i]);
    return g;
}

int tb_grid_col(tb_grid *g, const char *header)
{
    for (int i = 0; i < g->ncols; i++)
        if (strcmp(g->names[g->nkeys + i], header) == 0) return i;
    char **names = realloc(g->names, (size_t)(g->nkeys + g->ncols + 1) * sizeof *names);
    if (!names) abort();
    g->names = names;
    g->names[g->nkeys + g->ncols] = strdup(header);
    for (int r = 0; r < g->nrows; r++) {
        char **row = realloc(g->rows[r], (size_t)(g->nkeys + g->ncols + 1) * sizeof *row);
        if (!row) abort();
        row[g->nkeys + g->ncols] = NULL;
        g->rows[r] = row;
    }
    return g->ncols++;
}

static char **grid_row(tb_grid *g, const char *const *keys)
{
    for (int r = 0; r < g->nrows; r++) {
        int same = 1;
        for (int k = 0; k < g->nkeys && same; k++) same = strcmp(g->rows[r][k], keys[k]) == 0;
        if (same) return g->rows[r];
    }
    if (g->nrows == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->rows = realloc(g->rows, (size_t)g->cap * sizeof *g->rows);
        if (!g->rows) abort();
    }
    char **row = calloc((size_t)(g->nkeys + g->ncols + 1), sizeof *row);
    if (!row) abort();
    for (int k = 0; k < g->nkeys; k++) row[k] = strdup(keys[k]);
    return g->rows[g->nrows++] = row;
}

void tb_grid_set(tb_grid *g, const char *const *keys, int col, const char *value)
{
    char **row = grid_row(g, keys);
    free(row[g->nkeys + col]);
    row[g->nkeys + col] = strdup(value);
}

int tb_grid_rows(const tb_grid *g)
{
    return g->nrows;
}

static int g_nkeys; // qsort has no context argument
static int row_cmp(const void *a, const void *b)
{
    char *const *ra = *(char **const *)a, *const *rb = *(char **const *)b;
    for (int k = 0; k < g_nkeys; k++) {
        int c = tb_natural_cmp(ra[k], rb[k]);
        if (c) return c;
    }
    return 0;
}

void tb_grid_markdown(tb_grid *g, tb_sbuf *out)
{
    int w = g->nkeys + g->ncols;
    g_nkeys = g->nkeys;
    if (g->nrows) qsort(g->rows, (size_t)g->nrows, sizeof *g->rows, row_cmp);
    for (int i = 0; i < w; i++) tb_sb_printf(out, "| %s ", g->names[i]);
    tb_sb_printf(out, "|\n");
    for (int i = 0; i < w; i++) tb_sb_printf(out, "|%s", i < g->nkeys ? "---" : "---:");
    tb_sb_printf(out, "|\n");
    for (int r = 0; r < g->nrows; r++) {
        for (int i = 0; i < w; i++) tb_sb_printf(out, "| %s ", g->rows[r][i] ? g->rows[r][i] : "-");
        tb_sb_printf(out, "|\n");
    }
    tb_sb_printf(out, "\n");
}

void tb_grid_free(tb_grid *g)
{
    if (!g) return;
    int w = g->nkeys + g->ncols;
    for (int r = 0; r < g->nrows; r++) {
        for (int i = 0; i < w; i++) free(g->rows[r][i]);
        free(g->rows[r]);
    }
    for (int i = 0; i < w; i++) free(g->names[i]);
    free(g->names), free(g->rows), free(g);
}
