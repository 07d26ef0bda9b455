// Tune files read back: the document `tritbench tune` writes (kind "tune",
// results/<cpu>/tune.json), checked field by field, matched against this CPU, and turned into
// the kernels an engine runs (dispatch by measurement).
//
// The document (results/README.md has the full schema):
//   fingerprint  the CPU it was measured on: cpu_slug, model_name, arch, vendor, family, model
//                (x86) or implementer, part (ARM), isa_mask and isa (raw features, before
//                TRITBENCH_DISABLE), logical_cpus; used only where every field matches
//   tritbench    version and git_revision of the build that measured
//   parameters   what was asked for (model, shapes with their count in a layer, threads, ...)
//   regimes[]    per product regime (gemv_cold, gemv_hot, gemm_m<M>) and thread count: every
//                kernel's layer time (null with a reason when not timed), the fastest kernel
//                ("best") and the fastest of each packed format ("best_by_format")
//   driver       optional: the decode path's runtime parameters per thread count (prefetch
//                distance, chunk work; tune.h), each chosen by a sweep of the decode layer
//
// This part of the tuning room sits above the runners (their dispatch reads tune files);
// `tritbench tune` itself (tune.h) sits below them.
#ifndef TB_TUNE_FILE_H
#define TB_TUNE_FILE_H

#include "tb_kernel.h"
#include "tb_pool.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define TB_TUNE_KIND       "tune"
#define TB_TUNE_KERNELS    64 // kernels of one regime
#define TB_TUNE_NAME_BYTES 24

typedef struct {
    const tb_kernel *kernel;
    double layer_s; // seconds of one layer's products; < 0: not timed
} tb_tune_time;

typedef struct {
    char name[TB_TUNE_NAME_BYTES]; // "gemv_cold", "gemv_hot", "gemm_m32"
    int m, cold, threads;
    tb_tune_time times[TB_TUNE_KERNELS];
    int ntimes;
    const tb_kernel *best;                         // the lowest layer time
    const tb_kernel *format_best[TB_TUNE_KERNELS]; // the lowest of each format timed
    int nformats;
} tb_tune_regime;

typedef struct {
    int threads;
    const tb_kernel *kernel; // the decode kernel they were tuned on
    tb_driver_params params; // the choice (guided_div: the defaults' of the file)
} tb_tune_driver_choice;

typedef struct {
    tb_tune_regime *regimes;
    int nregimes;
    tb_tune_driver_choice *drivers;
    int ndrivers;
    cJSON *fingerprint; // the file's
} tb_tune;

// Name of a regime: "gemv_cold" / "gemv_hot" for m == 1, "gemm_m<m>" otherwise.
void tb_tune_regime_name(int m, int cold, char *buf, size_t len);

// Reads and checks a tune file: every field, every kernel known here and of the format stated,
// every choice the fastest of its list. 0, or -1 with one message naming the file and the field
// ("results/x/tune.json: field 'regimes[2].best': ...") in err.
int tb_tune_load(const char *path, tb_tune *t, char *err, size_t err_len);
void tb_tune_free(tb_tune *t);

// This CPU's fingerprint as a tune file records it, from its info (tb_info_collect(NULL, NULL);
// NULL: collected here). Caller frees.
cJSON *tb_tune_fingerprint(const cJSON *info);
// 1 if a file's fingerprint f is this CPU's (every field equal, both ways); else 0 and why
// ("field 'model_name' is \"X\" there, \"Y\" here").
int tb_tune_matches(const cJSON *f, char *why, size_t len);

// The engine's kernels from a tune, for `threads` threads (the nearest tuned count if that one
// was not tuned) and a prefill of about `prompt` tokens: decode is the fastest kernel of the
// decode regime (gemv_cold; gemv_hot if cold was not tuned); prefill the fastest kernel of the
// decode kernel's packed format at the GEMM bucket nearest `prompt` (the decode kernel when no
// bucket timed that format). A tuned kernel this CPU cannot run (TRITBENCH_DISABLE) is refused.
typedef struct {
    const tb_kernel *decode, *prefill;
    int threads;    // the tuned thread count used
    char note[300]; // "gemv_cold and gemm_m128 at 2 threads (3 threads not tuned: the nearest)"
} tb_tune_pick;
// 0, or -1 with why.
int tb_tune_pick_engine(const tb_tune *t, int threads, int prompt, tb_tune_pick *pick, char *why,
                        size_t len);

// The driver parameters tuned for decode kernel kn at exactly `threads` threads: 0, or -1 and
// why not ("not tuned at 3 threads", "tuned on i2_avx2, not i2_avx512vnni").
int tb_tune_pick_driver(const tb_tune *t, const tb_kernel *kn, int threads, tb_driver_params *p,
                        char *why, size_t len);

// The tune file dispatch uses, once per process (and value of TRITBENCH_TUNE): TRITBENCH_TUNE=FILE,
// else results/<cpu-slug>/tune.json under the working directory; TRITBENCH_TUNE=off: none.
// A file that fails its checks is reported on stderr once (the message of tb_tune_load).
typedef enum {
    TB_TUNE_OFF,      // TRITBENCH_TUNE=off
    TB_TUNE_NONE,     // no file there
    TB_TUNE_REFUSED,  // the file failed its checks
    TB_TUNE_MISMATCH, // measured on another CPU
    TB_TUNE_USED,
} tb_tune_status;
typedef struct {
    tb_tune_status status;
    char path[512];
    char why[900]; // why it is not used
    tb_tune tune;  // TB_TUNE_USED: the file
} tb_tune_state;
const tb_tune_state *tb_tune_dispatch(void);

#endif
