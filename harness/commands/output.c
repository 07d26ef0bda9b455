// What every command shares around its runner: usage errors, the progress line, the output of
// the result document.
#include "commands.h"
#include "atomic_file.h"
#include "tb_clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int tb_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tritbench %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'tritbench %s --help')\n", cmd);
    va_end(ap);
    return TB_EXIT_USAGE;
}

int tb_run_error(const char *cmd, int status, const tb_error *err)
{
    if (status == TB_BAD_INPUT) fprintf(stderr, "tritbench %s: %s\n", cmd, err->msg);
    return status;
}

static void show(void *ctx, const char *what, int done, int total)
{
    tb_progress *p = ctx;
    if (!p->enabled) return;
    double elapsed = tb_now() - p->start;
    fprintf(stderr, "\r\033[K%s  %d/%d  %.1fs", what, done, total, elapsed);
    if (done > 0 && done < total) { // time left at the pace so far
        double left = elapsed / done * (total - done);
        fprintf(stderr, ", ETA %dm%02ds", (int)(left / 60), (int)left % 60);
    }
    fflush(stderr);
}

tb_observer tb_progress_observer(tb_progress *p, int enabled)
{
    p->enabled = enabled && isatty(STDERR_FILENO);
    p->start = tb_now();
    return (tb_observer){show, p};
}

void tb_progress_done(tb_progress *p)
{
    if (!p->enabled) return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

int tb_output(cJSON *doc, int json, const char *out, int status)
{
    if (json && tb_json_write(doc, "-")) status = TB_EXIT_FAIL;
    if (out && tb_json_write(doc, out)) status = TB_EXIT_FAIL;
    cJSON_Delete(doc);
    return status;
}

const char *tb_jstr(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
    return s ? s : "";
}

double tb_jnum(const cJSON *o, const char *key)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItem(o, key));
}

int tb_parse_heads(const char *cmd, const char *list, tb_head_format *heads, int *n)
{
    *n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[16] = "";
        if (len < sizeof name) memcpy(name, p, len);
        int h = tb_head_parse(name);
        if (h < 0)
            return tb_usage_error(cmd, "--head: '%.*s' is not one of f32, f16, q8, q4", (int)len,
                                  p);
        for (int i = 0; i < *n; i++)
            if (heads[i] == (tb_head_format)h)
                return tb_usage_error(cmd, "--head: '%s' is listed twice", name);
        heads[(*n)++] = h;
        p += len + (p[len] == ',');
    }
    return *n ? 0 : tb_usage_error(cmd, "--head: no format given");
}
