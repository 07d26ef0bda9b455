#include "options.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTIONS 40
#define HELP_VAL    'h'
#define FIRST_VAL   256 // getopt_long value of opts[0]; opts[i] returns FIRST_VAL + i

static int parse_whole(const char *cmd, const char *opt, const char *s, double lo, double hi,
                       long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno)
        return tb_usage_error(cmd, "--%s: '%s' is not a whole number", opt, s);
    if ((double)*v < lo || (double)*v > hi)
        return tb_usage_error(cmd, "--%s: %lld is out of range [%.0f, %.0f]", opt, *v, lo, hi);
    return 0;
}

static int parse_ints(const char *cmd, const tb_option *o, const char *s, int *out, int *count)
{
    if (!*s || *s == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")) {
        if (o->min_count == o->max_count)
            return tb_usage_error(cmd, "--%s: '%s' must be %d comma-separated whole numbers",
                                  o->name, s, o->min_count);
        return tb_usage_error(cmd, "--%s: '%s' must be comma-separated whole numbers", o->name, s);
    }
    int n = 1;
    for (const char *c = s; *c; c++) n += *c == ',';
    if (o->min_count == o->max_count && n != o->min_count)
        return tb_usage_error(cmd, "--%s: '%s' must be %d comma-separated whole numbers", o->name,
                              s, o->min_count);
    if (n > o->max_count)
        return tb_usage_error(cmd, "--%s: more than %d values", o->name, o->max_count);
    char *buf = strdup(s), *save = NULL;
    if (!buf) abort();
    int got = 0, rc = 0;
    for (char *t = strtok_r(buf, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        long long v;
        rc = parse_whole(cmd, o->name, t, o->lo, o->hi, &v);
        out[got++] = (int)v;
    }
    free(buf);
    *count = got;
    return rc;
}

static int parse_choice(const char *cmd, const tb_option *o, const char *s, int *out)
{
    const char *c = o->choices;
    for (int i = 0; *c; i++) {
        size_t len = strcspn(c, ",");
        if (strlen(s) == len && strncmp(s, c, len) == 0) {
            *out = i;
            return 0;
        }
        c += len + (c[len] == ',');
    }
    char list[200];
    snprintf(list, sizeof list, "%s", o->choices);
    char *last = strrchr(list, ',');
    if (last) { // "f16,f32" -> "f16 or f32"
        char tail[100];
        snprintf(tail, sizeof tail, "%s", last + 1);
        snprintf(last, sizeof list - (size_t)(last - list), " or %s", tail);
    }
    for (char *p = list; (p = strchr(p, ',')); p++) *p = '/';
    return tb_usage_error(cmd, "--%s: '%s' must be %s", o->name, s, list);
}

// Stores the value of one option into its field.
static int store(const char *cmd, const tb_option *o, const char *v, char *out)
{
    void *f = out + o->field;
    long long i;
    switch (o->type) {
    case TB_OPT_FLAG:
        *(int *)f = 1;
        return 0;
    case TB_OPT_STRING:
        *(const char **)f = v;
        return 0;
    case TB_OPT_INT:
        if (parse_whole(cmd, o->name, v, o->lo, o->hi, &i)) return TB_EXIT_USAGE;
        *(int *)f = (int)i;
        return 0;
    case TB_OPT_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (*v == '\0' || *v == '-' || *end != '\0' || errno)
            return tb_usage_error(cmd, "--%s: '%s' is not a non-negative whole number", o->name, v);
        *(uint64_t *)f = (uint64_t)u;
        return 0;
    }
    case TB_OPT_DOUBLE: {
        char *end;
        double d = strtod(v, &end);
        if (*v == '\0' || *end || !(d >= o->lo && d <= o->hi))
            return tb_usage_error(cmd, "--%s: '%s' must be a number in [%g, %g]", o->name, v, o->lo,
                                  o->hi);
        *(double *)f = d;
        return 0;
    }
    case TB_OPT_INTS:
        return parse_ints(cmd, o, v, (int *)f, (int *)(out + o->count_field));
    case TB_OPT_CHOICE:
        return parse_choice(cmd, o, v, (int *)f);
    }
    return TB_EXIT_USAGE;
}

int tb_parse_options(const char *cmd, const char *help, const tb_option *opts, int nopts, int argc,
                     char **argv, void *out, int *rest)
{
    struct option lo[MAX_OPTIONS + 2];
    if (nopts > MAX_OPTIONS) abort();
    for (int i = 0; i < nopts; i++)
        lo[i] = (struct option){opts[i].name,
                                opts[i].type == TB_OPT_FLAG ? no_argument : required_argument, NULL,
                                FIRST_VAL + i};
    lo[nopts] = (struct option){"help", no_argument, NULL, HELP_VAL};
    lo[nopts + 1] = (struct option){NULL, 0, NULL, 0};
    // "+": stop at the first non-option (no reordering); ":": a missing value returns ':'.
    optind = 0, opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
        if (c == HELP_VAL) return fputs(help, stdout), -1;
        if (c == ':') return tb_usage_error(cmd, "%s needs a value", argv[optind - 1]);
        if (c == '?') return tb_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        if (store(cmd, &opts[c - FIRST_VAL], optarg, out)) return TB_EXIT_USAGE;
    }
    int after_dashes = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
    if (optind < argc && !after_dashes)
        return tb_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (rest)
        *rest = optind;
    else if (after_dashes && optind < argc)
        return tb_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return 0;
}

// 1 if argument a ("--name" without "=value") is an option of the table that takes a value.
static int takes_value(const tb_option *opts, int nopts, const char *a)
{
    if (strncmp(a, "--", 2) != 0 || strchr(a, '=')) return 0;
    for (int i = 0; i < nopts; i++)
        if (strcmp(a + 2, opts[i].name) == 0) return opts[i].type != TB_OPT_FLAG;
    return 0;
}

int tb_take_operands(const tb_option *opts, int nopts, int *argc, char **argv,
                     const char **operands, int max)
{
    int n = 0, kept = 1, i = 1;
    for (; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            argv[kept++] = argv[i];
            if (takes_value(opts, nopts, argv[i]) && i + 1 < *argc) argv[kept++] = argv[++i];
        } else {
            if (n < max) operands[n] = argv[i];
            n++;
        }
    }
    while (i < *argc) argv[kept++] = argv[i++];
    *argc = kept;
    return n;
}
