// CPU fingerprint: fixture /proc/cpuinfo texts and sysfs trees for an x86 machine (this
// development VM) and an ARM Neoverse-N1 server; slugs; bad input; the live system (which
// under qemu-user is the x86 host's /proc/cpuinfo for an aarch64 program).
// Usage: test_info FIXTURES_DIR
#include "info.h"
#include "measure_util.h"

static const char *fixtures;

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

#define CHECK_STR(o, key, want)                                                                    \
    CHECK(str(o, key) && strcmp(str(o, key), want) == 0, "%s is '%s', want '%s'", key,             \
          str(o, key) ? str(o, key) : "(none)", want)
#define CHECK_NUM(o, key, want)                                                                    \
    CHECK(num(o, key) == (want), "%s is %g, want %g", key, num(o, key), (double)(want))

static cJSON *collect(const char *cpuinfo, const char *sysfs)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/%s", fixtures, cpuinfo);
    snprintf(b, sizeof b, "%s/%s", fixtures, sysfs);
    cJSON *info = tb_info_collect(a, b);
    if (!info) {
        fprintf(stderr, "FAIL: tb_info_collect(%s) returned NULL\n", a);
        exit(1);
    }
    return info;
}

static void test_x86(void)
{
    cJSON *info = collect("cpuinfo-x86.txt", "sysfs-x86");
    CHECK_STR(info, "arch", "x86_64");
    CHECK_STR(info, "vendor", "GenuineIntel");
    CHECK_STR(info, "model_name", "Intel(R) Xeon(R) Processor @ 2.80GHz");
    CHECK_NUM(info, "family", 6);
    CHECK_NUM(info, "model", 106);
    CHECK_NUM(info, "stepping", 6);
    CHECK_STR(info, "isa", "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni avx512vbmi");
    CHECK_STR(info, "isa_source", "cpuinfo flags");
    CHECK_NUM(info, "logical_cpus", 2);
    CHECK_NUM(info, "cores", 2);
    CHECK_NUM(info, "packages", 1);
    CHECK_NUM(info, "last_level_cache_bytes", 48.0 * 1024 * 1024);
    const cJSON *caches = cJSON_GetObjectItemCaseSensitive(info, "caches");
    CHECK(cJSON_GetArraySize(caches) == 4, "%d caches", cJSON_GetArraySize(caches));
    const cJSON *l1d = cJSON_GetArrayItem(caches, 0);
    CHECK_NUM(l1d, "level", 1);
    CHECK_STR(l1d, "type", "Data");
    CHECK_STR(l1d, "size", "48K");
    CHECK_NUM(l1d, "bytes", 49152);
    CHECK(contains(str(info, "frequency"), "unavailable (no ") &&
              contains(str(info, "frequency"), "cpufreq"),
          "frequency '%s'", str(info, "frequency"));
    CHECK(num(info, "cpuinfo_mhz") > 2793 && num(info, "cpuinfo_mhz") < 2794, "cpuinfo_mhz %g",
          num(info, "cpuinfo_mhz"));
    const cJSON *energy = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(info, "sources"), "energy");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(energy, "available")), "energy available");
    CHECK(contains(str(energy, "reason"), "class/powercap"), "energy reason '%s'",
          str(energy, "reason"));
    CHECK_STR(info, "cpu_slug", "intel-xeon-processor-2-80ghz");
    char *slug = tb_info_cpu_slug(info);
    CHECK(strcmp(slug, "intel-xeon-processor-2-80ghz") == 0, "slug '%s'", slug);
    free(slug);
    cJSON_Delete(info);
}

static void test_arm(void)
{
    cJSON *info = collect("cpuinfo-neoverse-n1.txt", "sysfs-arm");
    CHECK_STR(info, "arch", "aarch64");
    CHECK_STR(info, "vendor", "ARM");
    CHECK_STR(info, "model_name", "ARM Neoverse-N1");
    CHECK_STR(info, "implementer", "0x41");
    CHECK_STR(info, "part", "0xd0c");
    CHECK_STR(info, "part_name", "Neoverse-N1");
    CHECK_STR(info, "variant", "0x3");
    CHECK_NUM(info, "revision", 1);
    CHECK_NUM(info, "architecture", 8);
    CHECK(!cJSON_GetObjectItemCaseSensitive(info, "family"), "ARM with an x86 family field");
    CHECK_STR(info, "isa", "neon dotprod fp16");
    CHECK_NUM(info, "logical_cpus", 4);
    CHECK_NUM(info, "cores", 4);
    CHECK_NUM(info, "last_level_cache_bytes", 1024 * 1024);
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(info, "frequency");
    CHECK(cJSON_IsObject(fr), "frequency is not an object");
    CHECK_STR(fr, "governor", "performance");
    CHECK_STR(fr, "driver", "cppc_cpufreq");
    CHECK_NUM(fr, "max_mhz", 2500);
    CHECK_NUM(fr, "min_mhz", 1000);
    CHECK_STR(info, "cpu_slug", "arm-neoverse-n1");
    cJSON_Delete(info);
}

static void test_bad_input(void)
{
    // No such file: an object that says so, never a crash.
    cJSON *info = collect("no-such-cpuinfo", "no-such-sysfs");
    CHECK(contains(str(info, "cpuinfo"), "unavailable (") &&
              contains(str(info, "cpuinfo"), strerror(ENOENT)),
          "cpuinfo '%s'", str(info, "cpuinfo"));
    CHECK(contains(str(info, "caches"), "unavailable (no "), "caches '%s'", str(info, "caches"));
    CHECK_STR(info, "cpu_slug", "unknown-cpu");
    cJSON_Delete(info);
    // Not a cpuinfo text at all (a README), and a folder.
    info = collect("powercap-empty/README", "sysfs-x86");
    CHECK_STR(info, "cpu_slug", "unknown-cpu");
    CHECK_NUM(info, "logical_cpus", 0);
    cJSON_Delete(info);
    info = collect("sysfs-x86", "sysfs-x86");
    CHECK_STR(info, "cpu_slug", "unknown-cpu");
    cJSON_Delete(info);
}

static void check_slug(const char *json, const char *want)
{
    cJSON *o = cJSON_Parse(json);
    char *slug = tb_info_cpu_slug(o);
    CHECK(strcmp(slug, want) == 0, "slug of %s is '%s', want '%s'", json, slug, want);
    size_t n = strlen(slug);
    CHECK(n <= 64 && slug[n - 1] != '-', "slug '%s' too long or ends in '-'", slug);
    for (const char *c = slug; *c; c++)
        CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-',
              "slug '%s' has '%c'", slug, *c);
    free(slug);
    cJSON_Delete(o);
}

static void test_slugs(void)
{
    check_slug("{\"model_name\": \"AMD EPYC 9R14 96-Core Processor\"}",
               "amd-epyc-9r14-96-core-processor");
    check_slug("{\"model_name\": \"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz\"}",
               "intel-core-i7-8700-cpu-3-20ghz");
    check_slug("{\"model_name\": \"  --Weird__Name!! \"}", "weird-name");
    check_slug("{\"arch\": \"aarch64\", \"vendor\": \"Apple\", \"part_name\": \"M2-Avalanche\"}",
               "apple-m2-avalanche");
    check_slug("{\"arch\": \"aarch64\", \"vendor\": \"ARM\", \"part_name\": \"unknown\", "
               "\"part\": \"0xd99\"}",
               "arm-part-0xd99");
    check_slug("{\"model_name\": \"unavailable (no 'model name')\"}", "unknown-cpu");
    check_slug("{}", "unknown-cpu");
    check_slug("{\"model_name\": \"A very long processor name that goes on and on and on and "
               "on beyond sixty four characters\"}",
               "a-very-long-processor-name-that-goes-on-and-on-and-on-and-on-bey");
    char *slug = tb_info_cpu_slug(NULL);
    CHECK(strcmp(slug, "unknown-cpu") == 0, "slug of NULL '%s'", slug);
    free(slug);
}

static void test_live(void)
{
    cJSON *info = tb_info_collect(NULL, NULL);
    CHECK(info != NULL, "live info NULL");
    if (!info) return;
    CHECK(contains(str(info, "isa_source"), "running CPU"), "isa_source '%s'",
          str(info, "isa_source"));
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(info, "compiler");
    CHECK(str(cc, "version") && str(cc, "version")[0], "no compiler version");
    CHECK(str(cc, "build_type") && str(cc, "flags"), "no build type/flags");
    const cJSON *tb = cJSON_GetObjectItemCaseSensitive(info, "tritbench");
    CHECK(str(tb, "git_revision") && str(tb, "git_revision")[0], "no git revision");
    const cJSON *os = cJSON_GetObjectItemCaseSensitive(info, "os");
    CHECK(contains(str(os, "kernel"), "Linux"), "kernel '%s'", str(os, "kernel"));
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(info, "sources");
    const char *keys[] = {"energy", "counters", "likwid"};
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(sources, keys[i]);
        const cJSON *avail = cJSON_GetObjectItemCaseSensitive(s, "available");
        CHECK(cJSON_IsBool(avail), "sources.%s.available missing", keys[i]);
        CHECK(str(s, "reason") && (cJSON_IsTrue(avail) || str(s, "reason")[0]),
              "sources.%s unavailable without a reason", keys[i]);
    }
    char *slug = tb_info_cpu_slug(info);
    CHECK(slug && slug[0], "empty live slug");
    printf("live: %s, isa '%s', slug %s, git %s\n", str(info, "model_name"), str(info, "isa"), slug,
           str(tb, "git_revision"));
    free(slug);
    cJSON_Delete(info);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_info FIXTURES_DIR\n");
        return 2;
    }
    fixtures = argv[1];
    test_x86();
    test_arm();
    test_bad_input();
    test_slugs();
    test_live();
    if (failures)
        fprintf(stderr, "%d info checks failed\n", failures);
    else
        printf("info tests passed\n");
    return failures ? 1 : 0;
}
