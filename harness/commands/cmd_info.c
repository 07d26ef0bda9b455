// tritbench info: this machine's fingerprint, as every result records it.
#include "commands.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

static const char *help =
    "usage: tritbench info [--json] [--out FILE] [--cpuinfo FILE] [--sysfs DIR]\n"
    "       tritbench info --bandwidth [--mib LIST] [--no-likwid] [--compute] [--threads LIST]\n"
    "\n"
    "Shows what every result records about the machine: CPU vendor and model, family/model/\n"
    "stepping (x86) or implementer/part (ARM), the ISA features that matter to the kernels,\n"
    "logical CPUs, cores, caches, frequency and governor, OS kernel, compiler and flags, the\n"
    "tritbench revision, and for energy (RAPL), hardware counters (PAPI) and likwid whether\n"
    "each is available here or the precise reason it is not.\n"
    "  --json           the document on standard output instead of the table\n"
    "  --out FILE       also write the document to FILE (atomically)\n"
    "  --cpuinfo FILE   parse this /proc/cpuinfo text instead of the live one (ISA features\n"
    "                   then come from its flags line)\n"
    "  --sysfs DIR      read caches, topology, cpufreq and powercap under DIR instead of /sys\n"
    "\n"
    "The roofs results are measured against (harness/measuring/roofline.h, compute_roof.h):\n"
    "  --bandwidth      streaming read bandwidth at each buffer size and thread count, beside\n"
    "                   likwid-bench's load kernel on the same size (if installed): commands\n"
    "                   probe exactly the bytes their work streams, capped at the plateau\n"
    "  --mib LIST       buffer sizes in MiB (default 64,256,1024 and the plateau)\n"
    "  --no-likwid      do not run likwid-bench\n"
    "  --compute        peak multiply-accumulate rate of every compute path this CPU has\n"
    "  --threads LIST   thread counts (default 1)\n";

typedef struct {
    tb_info_params run;
    tb_roofs_params roofs;
    int json, no_likwid;
    const char *out;
} info_options;

static const tb_option options[] = {
    TB_OPT_FLAG_ROW("json", info_options, json),
    TB_OPT_STRING_ROW("out", info_options, out),
    TB_OPT_STRING_ROW("cpuinfo", info_options, run.cpuinfo),
    TB_OPT_STRING_ROW("sysfs", info_options, run.sysfs),
    TB_OPT_FLAG_ROW("bandwidth", info_options, roofs.bandwidth),
    TB_OPT_INTS_ROW("mib", info_options, roofs.mib, roofs.nmib, 1, 1 << 20, 1, TB_LIST_MAX),
    TB_OPT_FLAG_ROW("no-likwid", info_options, no_likwid),
    TB_OPT_FLAG_ROW("compute", info_options, roofs.compute),
    TB_OPT_INTS_ROW("threads", info_options, roofs.threads, roofs.nthreads, 1, TB_THREADS_MAX, 1,
                    TB_LIST_MAX),
};

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *txt(const cJSON *o, const char *key)
{
    const char *s = str(o, key);
    return s ? s : "?";
}

static int num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static void line(const char *label, const char *value)
{
    printf("%-11s %s\n", label, value && *value ? value : "-");
}

static void print_source(const cJSON *sources, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(sources, key);
    char buf[700];
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "available")))
        snprintf(buf, sizeof buf, "available");
    else
        snprintf(buf, sizeof buf, "unavailable (%s)", txt(s, "reason"));
    char label[32];
    snprintf(label, sizeof label, "%s:", key);
    line(label, buf);
}

static void print_cpu(const cJSON *info)
{
    char buf[1024];
    const cJSON *v;
    if (str(info, "note")) line("note:", str(info, "note"));
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(info, "family"))) {
        snprintf(buf, sizeof buf, "%s (%s, family %d model %d stepping %d)",
                 txt(info, "model_name"), txt(info, "vendor"), num(info, "family"),
                 num(info, "model"), num(info, "stepping"));
    } else if (str(info, "implementer")) {
        snprintf(buf, sizeof buf, "%s (implementer %s, part %s, variant %s, revision %d)",
                 txt(info, "model_name"), txt(info, "implementer"), txt(info, "part"),
                 txt(info, "variant"), num(info, "revision"));
    } else {
        snprintf(buf, sizeof buf, "%s (%s)", txt(info, "model_name"), txt(info, "vendor"));
    }
    line("cpu:", buf);
    line("arch:", txt(info, "arch"));
    const char *isa = str(info, "isa");
    snprintf(buf, sizeof buf, "%s  [%s]", isa && *isa ? isa : "(none)", txt(info, "isa_source"));
    line("isa:", buf);
    if (str(info, "isa_detected_before_disable"))
        line("isa (raw):", txt(info, "isa_detected_before_disable"));
    v = cJSON_GetObjectItemCaseSensitive(info, "cores");
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(info, "packages");
    char cores[160];
    if (cJSON_IsNumber(v))
        snprintf(cores, sizeof cores, "%d cores", v->valueint);
    else
        snprintf(cores, sizeof cores, "cores %s", txt(info, "cores"));
    const cJSON *logical = cJSON_GetObjectItemCaseSensitive(info, "logical_cpus");
    snprintf(buf, sizeof buf, "%d logical, %s", cJSON_IsNumber(logical) ? logical->valueint : 0,
             cores);
    if (cJSON_IsNumber(pk))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %d package%s", pk->valueint,
                 pk->valueint == 1 ? "" : "s");
    line("cpus:", buf);
}

static void print_caches(const cJSON *info)
{
    char buf[1024];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, "caches");
    if (cJSON_IsArray(v)) {
        buf[0] = '\0';
        const cJSON *c;
        cJSON_ArrayForEach(c, v)
        {
            const char *type = str(c, "type");
            const char *t = !type                              ? ""
                            : strcmp(type, "Data") == 0        ? "d"
                            : strcmp(type, "Instruction") == 0 ? "i"
                                                               : "";
            size_t used = strlen(buf);
            snprintf(buf + used, sizeof buf - used, "%sL%d%s %s", used ? ", " : "", num(c, "level"),
                     t, txt(c, "size"));
            if (str(c, "shared_cpu_list")) {
                used = strlen(buf);
                snprintf(buf + used, sizeof buf - used, " (cpus %s)", txt(c, "shared_cpu_list"));
            }
        }
        line("caches:", buf);
    } else {
        line("caches:", txt(info, "caches"));
    }
}

static void print_system(const cJSON *info)
{
    char buf[1024];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, "frequency");
    if (cJSON_IsObject(v)) {
        char now_s[64] = "?", max_s[64] = "?";
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(v, "cur_mhz");
        const cJSON *max = cJSON_GetObjectItemCaseSensitive(v, "max_mhz");
        if (cJSON_IsNumber(cur)) snprintf(now_s, sizeof now_s, "%.0f MHz", cur->valuedouble);
        if (cJSON_IsNumber(max)) snprintf(max_s, sizeof max_s, "%.0f MHz", max->valuedouble);
        snprintf(buf, sizeof buf, "governor %s, driver %s, now %s, max %s", txt(v, "governor"),
                 txt(v, "driver"), now_s, max_s);
        line("frequency:", buf);
    } else {
        line("frequency:", txt(info, "frequency"));
    }
    v = cJSON_GetObjectItemCaseSensitive(info, "cpuinfo_mhz");
    if (cJSON_IsNumber(v)) {
        snprintf(buf, sizeof buf, "%.1f MHz (cpuinfo 'cpu MHz')", v->valuedouble);
        line("clock:", buf);
    }
    const cJSON *os = cJSON_GetObjectItemCaseSensitive(info, "os");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(os, "memory_bytes");
    snprintf(buf, sizeof buf, "%s, %s, %s", txt(os, "kernel"), txt(os, "distribution"),
             txt(os, "machine"));
    if (cJSON_IsNumber(mem))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", %.1f GiB memory",
                 mem->valuedouble / (1024.0 * 1024 * 1024));
    line("os:", buf);
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(info, "compiler");
    snprintf(buf, sizeof buf, "%s (%s), %s build, %s", txt(cc, "id"), txt(cc, "version"),
             txt(cc, "build_type"), txt(cc, "flags"));
    line("compiler:", buf);
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(info, "tritbench");
    snprintf(buf, sizeof buf, "%s, git %s", txt(tb, "version"), txt(tb, "git_revision"));
    line("tritbench:", buf);
    line("slug:", txt(info, "cpu_slug"));
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(info, "sources");
    print_source(sources, "energy");
    print_source(sources, "counters");
    print_source(sources, "likwid");
}

static void print_info(const cJSON *info)
{
    print_cpu(info);
    print_caches(info);
    print_system(info);
}

static void print_roofs(const cJSON *doc)
{
    const cJSON *e;
    if (cJSON_GetObjectItem(doc, "bandwidth")) {
        printf("read bandwidth, GB/s (best of the passes; commands cap their probe at %.0f MiB)\n",
               tb_jnum(doc, "plateau_bytes") / (1 << 20));
        printf("  %10s %7s %6s %8s %8s %8s %9s  %s\n", "buffer MiB", "threads", "kind", "best",
               "median", "min", "likwid", "likwid test");
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "bandwidth"))
        {
            char lk[32] = "-";
            if (cJSON_GetObjectItem(e, "likwid_gbs"))
                snprintf(lk, sizeof lk, "%.1f", tb_jnum(e, "likwid_gbs"));
            printf("  %10.0f %7d %6s %8.1f %8.1f %8.1f %9s  %s\n",
                   tb_jnum(e, "buffer_bytes") / (1 << 20), (int)tb_jnum(e, "threads"),
                   tb_jstr(e, "kind"), tb_jnum(e, "best_gbs"), tb_jnum(e, "median_gbs"),
                   tb_jnum(e, "min_gbs"), lk,
                   cJSON_GetObjectItem(e, "likwid_reason") ? tb_jstr(e, "likwid_reason")
                                                           : tb_jstr(e, "likwid_test"));
        }
    }
    if (cJSON_GetObjectItem(doc, "compute")) {
        printf("compute peak, GMAC/s (8-bit products for the integer paths, FP32 lanes for FMA)\n");
        printf("  %7s %-16s %10s\n", "threads", "path", "GMAC/s");
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "compute"))
            printf("  %7d %-16s %10.1f\n", (int)tb_jnum(e, "threads"), tb_jstr(e, "path"),
                   tb_jnum(e, "peak_gmacs"));
    }
}

int cmd_info(int argc, char **argv)
{
    info_options o = {0};
    tb_roofs_defaults(&o.roofs);
    int rc = tb_parse_options("info", help, options, TB_COUNT(options), argc, argv, &o, NULL);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.roofs.bandwidth || o.roofs.compute) {
        if (o.run.cpuinfo || o.run.sysfs)
            return tb_usage_error("info", "--cpuinfo and --sysfs describe another machine; its "
                                          "roofs cannot be measured here");
        o.roofs.likwid = !o.no_likwid;
        tb_progress prog;
        tb_observer obs = tb_progress_observer(&prog, 1);
        cJSON *doc;
        tb_error err;
        rc = tb_roofs_run(&o.roofs, &obs, &doc, &err);
        tb_progress_done(&prog);
        if (rc) return tb_run_error("info", rc, &err);
        if (!o.json) print_roofs(doc);
        return tb_output(doc, o.json, o.out, TB_OK);
    }
    cJSON *doc;
    tb_error err;
    if ((rc = tb_info_run(&o.run, &doc, &err))) return tb_run_error("info", rc, &err);
    if (!o.json) print_info(doc);
    return tb_output(doc, o.json, o.out, TB_OK);
}
