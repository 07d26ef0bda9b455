// CPU feature detection, done once. x86: CPUID says what the core implements, XGETBV says
// whether the OS saves the wider register state; a feature counts only if both agree.
// aarch64: the kernel's HWCAP bits. Feature names here are the ones users type.
#define _GNU_SOURCE
#include "tb_kernel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

static const struct {
    uint32_t bit;
    const char *name;
} isa_names[] = {
    {TB_ISA_AVX2, "avx2"},
    {TB_ISA_FMA, "fma"},
    {TB_ISA_F16C, "f16c"},
    {TB_ISA_AVX512F, "avx512f"},
    {TB_ISA_AVX512BW, "avx512bw"},
    {TB_ISA_AVX512VL, "avx512vl"},
    {TB_ISA_AVX512VNNI, "avx512vnni"},
    {TB_ISA_AVX512VBMI, "avx512vbmi"},
    {TB_ISA_AVX512BF16, "avx512bf16"},
    {TB_ISA_AVX512FP16, "avx512fp16"},
    {TB_ISA_AVXVNNI, "avxvnni"},
    {TB_ISA_AMX, "amx"},
    {TB_ISA_NEON, "neon"},
    {TB_ISA_DOTPROD, "dotprod"},
    {TB_ISA_I8MM, "i8mm"},
    {TB_ISA_SVE, "sve"},
    {TB_ISA_FP16, "fp16"},
};

uint32_t tb_isa_bit(const char *name)
{
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (strcmp(isa_names[i].name, name) == 0) return isa_names[i].bit;
    return 0;
}

void tb_isa_names(uint32_t mask, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0) return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++) {
        if (!(mask & isa_names[i].bit)) continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "", isa_names[i].name);
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
}

#if defined(__x86_64__)
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t detect(void)
{
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;         // SSE and AVX state
    int zmm_os = (xcr0 & 0xe6) == 0xe6;       // plus opmask, ZMM_Hi256, Hi16_ZMM
    int amx_os = (xcr0 & 0x60000) == 0x60000; // XTILECFG, XTILEDATA
    if (!ymm_os) return 0;
    if ((c >> 12) & 1) f |= TB_ISA_FMA;
    if ((c >> 29) & 1) f |= TB_ISA_F16C;
    unsigned a7, b7, c7, d7, a71 = 0, b71, c71, d71;
    if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return f;
    if (a7 >= 1) __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
    if ((b7 >> 5) & 1) f |= TB_ISA_AVX2;
    if ((a71 >> 4) & 1) f |= TB_ISA_AVXVNNI;
    if (zmm_os) {
        if ((b7 >> 16) & 1) f |= TB_ISA_AVX512F;
        if ((b7 >> 30) & 1) f |= TB_ISA_AVX512BW;
        if ((b7 >> 31) & 1) f |= TB_ISA_AVX512VL;
        if ((c7 >> 1) & 1) f |= TB_ISA_AVX512VBMI;
        if ((c7 >> 11) & 1) f |= TB_ISA_AVX512VNNI;
        if ((d7 >> 23) & 1) f |= TB_ISA_AVX512FP16;
        if ((a71 >> 5) & 1) f |= TB_ISA_AVX512BF16;
    }
    if (amx_os && ((d7 >> 24) & 1)) f |= TB_ISA_AMX;
    return f;
}
#elif defined(__aarch64__)
// Bit positions from the Linux arm64 uapi hwcap.h, spelled out so old headers still build.
#define TB_HWCAP_ASIMD   (1ul << 1)
#define TB_HWCAP_ASIMDHP (1ul << 10)
#define TB_HWCAP_ASIMDDP (1ul << 20)
#define TB_HWCAP_SVE     (1ul << 22)
#define TB_HWCAP2_I8MM   (1ul << 13)

static uint32_t detect(void)
{
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    uint32_t f = 0;
    if (hw & TB_HWCAP_ASIMD) f |= TB_ISA_NEON;
    if (hw & TB_HWCAP_ASIMDHP) f |= TB_ISA_FP16;
    if (hw & TB_HWCAP_ASIMDDP) f |= TB_ISA_DOTPROD;
    if (hw & TB_HWCAP_SVE) f |= TB_ISA_SVE;
    if (hw2 & TB_HWCAP2_I8MM) f |= TB_ISA_I8MM;
    return f;
}
#else
static uint32_t detect(void)
{
    return 0;
}
#endif

// Written once, by detect_once under pthread_once: threads asking for the first time at the same
// moment wait for that one detection instead of racing to write these.
static pthread_once_t detect_done = PTHREAD_ONCE_INIT;
static uint32_t raw_features, features;

static void detect_once(void)
{
    raw_features = features = detect();
    const char *off = getenv("TRITBENCH_DISABLE");
    if (off && *off) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", off);
        for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            uint32_t bit = tb_isa_bit(t);
            if (!bit)
                fprintf(stderr, "tritbench: TRITBENCH_DISABLE: unknown feature '%s' ignored\n", t);
            features &= ~bit;
        }
    }
}

uint32_t tb_cpu_features(void)
{
    pthread_once(&detect_done, detect_once);
    return features;
}

uint32_t tb_cpu_features_raw(void)
{
    pthread_once(&detect_done, detect_once);
    return raw_features;
}
