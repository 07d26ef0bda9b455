// The work behind every tritbench command, as a library. Each run function takes its
// parameters as a struct, does the work and returns a result document (cJSON): it never parses
// argv, never exits and never prints (progress goes through an observer). `tritbench COMMAND`
// is a thin layer around these (parse options into the struct, run, render the document);
// `tritbench run` (experiments) calls them directly.
//
// Every run function has the form
//     int tb_X_run(const tb_X_params *p, const tb_observer *obs, cJSON **doc, tb_error *err)
// and returns TB_OK with *doc set; TB_CHECK_FAILED with *doc set (a check failed and the
// document says which); or TB_BAD_INPUT with *doc NULL and err->msg naming the problem
// ("--model: unknown model 'XL'"). Fill a params struct with tb_X_defaults first: the defaults
// are the commands' defaults.
#ifndef TB_RUNNERS_H
#define TB_RUNNERS_H

#include "transformer.h"

#include <cjson/cJSON.h>
#include <stdint.h>

// Status of a run, and the exit status of the command that ran it.
enum { TB_OK = 0, TB_CHECK_FAILED = 1, TB_BAD_INPUT = 2 };

typedef struct {
    char msg[768];
} tb_error;
// Formats err->msg and returns TB_BAD_INPUT.
int tb_fail(tb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Where a long run reports how far it is ("threads 2, 2560x2560, m=1: round", 3, 15).
typedef struct {
    void (*progress)(void *ctx, const char *what, int done, int total);
    void *ctx;
} tb_observer;
void tb_observe(const tb_observer *obs, const char *what, int done, int total);
// An observer for a runner called by another: what the inner runner says goes to `outer` behind
// `prefix` ("tune 2/5 gemv_hot: threads 1, 2560x2560, m=1: round"). Set prefix at will.
typedef struct {
    const tb_observer *outer;
    char prefix[256];
} tb_prefixed_progress;
tb_observer tb_prefixed_observer(tb_prefixed_progress *p);

// Sizes of the parameter lists, the same for every command.
#define TB_LIST_MAX    16   // values of --m, --threads
#define TB_THREADS_MAX 256  // largest thread count
#define TB_KERNELS_MAX 64   // kernels selected at once
#define TB_SHAPES_MAX  64   // weight shapes of one run
#define TB_PROMPT_MAX  4096 // prompt token ids
#define TB_TOKENS_MAX  (1 << 16)
#define TB_M_MAX       4096 // activation rows of one product

// ---- tritbench kernels: every kernel built here, and whether this CPU runs it ----
// Also the peers (peers.h) from the directory peer_lib (NULL: the default), when a ggml library
// is there: "peers": {"dir", "source", "status": "loaded"|"none", and the library's version,
// commit and CPU variant, or the reason}. A directory named by --peer-lib that cannot be used
// is an error (TB_BAD_INPUT); the default directory missing is not.
int tb_kernels_run(const char *peer_lib, cJSON **doc, tb_error *err);

// ---- tritbench info: the machine's fingerprint ----
typedef struct {
    const char *cpuinfo; // a /proc/cpuinfo text instead of the live one (NULL: live)
    const char *sysfs;   // a sysfs tree instead of /sys (NULL: live)
} tb_info_params;
int tb_info_run(const tb_info_params *p, cJSON **doc, tb_error *err);

// ---- tritbench info --bandwidth --compute: this machine's roofs ----
typedef struct {
    int bandwidth;              // probe the read bandwidth at each size and thread count
    int mib[TB_LIST_MAX], nmib; // buffer sizes (nmib = 0: 64 MiB, 256 MiB, 1 GiB, the plateau)
    int likwid;                 // also run likwid-bench's load kernel on the same sizes
    int compute;                // probe the peak of every compute path this CPU has
    int threads[TB_LIST_MAX], nthreads;
    int passes; // of each probe; the best is the roof
} tb_roofs_params;
void tb_roofs_defaults(tb_roofs_params *p);
// {"kind": "roofs", "info", "bandwidth": [{threads, buffer_bytes, kind, best_gbs, median_gbs,
// min_gbs, passes, likwid_test, likwid_gbs | likwid_reason}], "compute": [{threads, path,
// peak_gmacs}]}.
int tb_roofs_run(const tb_roofs_params *p, const tb_observer *obs, cJSON **doc, tb_error *err);

// ---- tritbench validate: kernels against the integer oracle ----
typedef struct {
    const char *kernel; // a name, or "all"
    int shape[2];       // N, K of one weight shape; {0, 0}: the whole conformance suite
    int m;              // activation rows of that shape
    uint64_t seed;
    const char *peer_lib; // --peer-lib: directory of the peers' libraries (NULL: peers.h default)
} tb_validate_params;
void tb_validate_defaults(tb_validate_params *p);
int tb_validate_run(const tb_validate_params *p, const tb_observer *obs, cJSON **doc,
                    tb_error *err);

// ---- tritbench validate --model: the engine on every kernel against the float model ----
typedef struct {
    const char *model;  // configuration name or GGUF file
    const char *kernel; // a name, or "all"
    int tokens;         // greedy tokens compared
    int prompt[TB_PROMPT_MAX], n_prompt;
    int threads;
    uint64_t seed;
    // Output head formats whose cost is measured (tb_head_compare) on the kernel named, or on
    // the one dispatch picks when all are validated; none if nheads is 0.
    tb_head_format heads[TB_HEAD_COUNT];
    int nheads;
    int ffn; // --ffn: TB_FFN_* forced on the model (engine and reference), or -1: its own
} tb_validate_model_params;
void tb_validate_model_defaults(tb_validate_model_params *p);
int tb_validate_model_run(const tb_validate_model_params *p, const tb_observer *obs, cJSON **doc,
                          tb_error *err);

// ---- tritbench bench kernels: kernels timed interleaved, with their roofline ----
typedef struct {
    const char *kernels; // "all" or a comma list
    const char *model;   // configuration whose linear shapes are timed, or NULL: shapes[]
    int shapes[TB_SHAPES_MAX][2], nshapes; // N, K
    int m[TB_LIST_MAX], nm;
    int threads[TB_LIST_MAX], nthreads;
    int rounds;           // interleaved rounds
    double block_ms;      // target length of one kernel's block in a round
    const char *baseline; // NULL: the best FP16 baseline among the kernels
    int cold;             // rotate weight copies larger than the last-level cache
    uint64_t seed;
    int roofline_mib;     // the bandwidth probe reads at least this many MiB (0: exactly the work)
    const char *peer_lib; // --peer-lib: directory of the peers' libraries (NULL: peers.h default)
} tb_bench_kernels_params;
void tb_bench_kernels_defaults(tb_bench_kernels_params *p);
int tb_bench_kernels_run(const tb_bench_kernels_params *p, const tb_observer *obs, cJSON **doc,
                         tb_error *err);
// The same selection as Google Benchmark benchmarks: its own repetitions, statistics and JSON
// (to out_path, atomically, if not NULL); gb_argv are its --benchmark_* flags. Prints through
// Google Benchmark; returns TB_OK, or TB_BAD_INPUT with err set.
int tb_bench_kernels_gbench(const tb_bench_kernels_params *p, const char *out_path, int gb_argc,
                            char **gb_argv, tb_error *err);

// ---- tritbench bench model: end-to-end token rates ----
typedef struct {
    const char *model;   // configuration name or GGUF file
    const char *kernels; // comma list; NULL: the best kernel this CPU runs
    int threads[TB_LIST_MAX], nthreads;
    int prompt; // prompt tokens (one prefill)
    int tokens; // decoded tokens per repetition
    int reps;   // timed repetitions after one warm-up
    // Output heads (transformer.h), each timed on the same built engine, in this order; ratios
    // are taken against the first.
    tb_head_format heads[TB_HEAD_COUNT];
    int nheads;
    uint64_t seed;
    int roofline_mib;
    // Layer-sampled: time the configuration with a few of its layers and extrapolate to all of
    // them (for models larger than this machine's memory); every figure is labelled so.
    int sample_layers;
    // Another engine timed on the same GGUF file in the same run, repetition by repetition:
    // "llama.cpp" (peers/llama_peer.h) or NULL; peer_lib: its directory (--peer-lib), NULL for
    // the default (tb_peer_dir). A configuration name is written to a temporary TQ2_0 file that
    // both engines then read.
    const char *peer, *peer_lib;
    int ffn; // --ffn: TB_FFN_* forced on the model, or -1: its own (the peer reads the file's)
} tb_bench_model_params;
void tb_bench_model_defaults(tb_bench_model_params *p);
int tb_bench_model_run(const tb_bench_model_params *p, const tb_observer *obs, cJSON **doc,
                       tb_error *err);

// ---- tritbench generate: the engine on one kernel ----
typedef struct {
    const char *model;
    const char *kernel; // NULL: the best kernel this CPU runs
    int prompt[TB_PROMPT_MAX], n_prompt;
    int tokens;
    int threads;
    uint64_t seed;      // of a synthetic model and of sampling
    double temperature; // 0: greedy
    tb_head_format head;
    int profile; // time each phase of the steady decode steps
    int ffn;     // --ffn: TB_FFN_* forced on the model, or -1: its own
    // Text in and out (a GGUF model with its tokenizer): the prompt as text (NULL: the ids of
    // prompt[]), or the file holding it; the 2B4T chat template around it (with a system
    // message, NULL: none). Generation then stops at the end-of-text tokens, and on_text (NULL:
    // none) gets the generated text as it comes, piece by piece.
    const char *text, *text_path;
    int chat;
    const char *system;
    void (*on_text)(void *ctx, const char *piece, size_t len);
    void *on_text_ctx;
} tb_generate_params;
void tb_generate_defaults(tb_generate_params *p);
int tb_generate_run(const tb_generate_params *p, const tb_observer *obs, cJSON **doc,
                    tb_error *err);

// ---- tritbench model create | info ----
typedef struct {
    const char *config, *out;
    uint64_t seed;
    const char *format;            // i2_s, tq2_0, tq1_0, f32
    const char *embedding_type;    // f32, f16, q8_0, q4_0, q6_k; NULL: f16 if exact, else f32
    const char *arch;              // bitnet-b1.58, bitnet-25, bitnet; NULL: by format
    const char *hidden_activation; // relu2 (default), silu, or none (no key written)
    int tensor_scales;             // write blk.N.<projection>.scale tensors (architecture bitnet)
    const char *tokenizer_from;    // a GGUF file whose tokenizer the model gets (its vocabulary
                                   // size too); NULL: a placeholder vocabulary
} tb_model_create_params;
void tb_model_create_defaults(tb_model_create_params *p);
int tb_model_create_run(const tb_model_create_params *p, cJSON **doc, tb_error *err);
int tb_model_info_run(const char *model, cJSON **doc, tb_error *err);

// ---- tritbench tokenize: text to token ids and back, by the model file's tokenizer ----
typedef struct {
    const char *model; // a GGUF file with tokenizer.ggml.* metadata
    const char *text;  // encode this text,
    const char *file;  // or the bytes of this file,
    const char *lines; // or each line of this file, a JSON string (each also decoded back),
    int decode[TB_PROMPT_MAX], n_decode; // or decode these ids (n_decode > 0)
    int bos;                             // encoding: BOS first
    int special;                         // decoding: control tokens' text too
} tb_tokenize_params;
void tb_tokenize_defaults(tb_tokenize_params *p);
// {"kind": "tokenize", "model", "tokenizer": {model, pre, n_vocab, bos_id, eos_id}, then
// encoding: "ids", "n_tokens", "encode_seconds"; decoding: "ids", "text" (bytes that are not
// UTF-8, such as half a character, shown as U+FFFD, and "text_is_utf8": false); lines: "lines":
// [{"ids", "decoded"}], "n_tokens", "encode_seconds"}. TB_BAD_INPUT for a file without a usable
// tokenizer (file, key and problem named), text that is not UTF-8, ids out of range.
int tb_tokenize_run(const tb_tokenize_params *p, cJSON **doc, tb_error *err);

#endif
