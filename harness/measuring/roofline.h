// The bandwidth roofline: this machine's streaming read bandwidth, measured in the same run as
// the kernels it bounds.
#ifndef TB_ROOFLINE_H
#define TB_ROOFLINE_H

#include <cjson/cJSON.h>
#include "tb_pool.h"

#include <stddef.h>

// Bytes of the last-level cache (sysconf; 64 MiB if the system does not say).
size_t tb_last_level_cache_bytes(void);

// A streaming-read probe over a buffer of `bytes` (choose it far larger than the last-level
// cache to measure DRAM), split across the pool's threads. Passes can be taken between other
// work, so that on a shared machine, whose bandwidth drifts by 2x within a minute, the probe
// sees the same conditions as what it bounds. Passes alternate between two read patterns
// (each thread reading 4 or 8 interleaved sequential streams with software prefetch), so the
// best pass is the most this machine was seen to deliver: a conservative roofline.
typedef struct tb_bw_probe tb_bw_probe;
tb_bw_probe *tb_bw_probe_open(size_t bytes);
void tb_bw_probe_close(tb_bw_probe *p);
// One timed pass on the pool's threads; returns its bytes/s and records it for that thread count.
double tb_bw_probe_pass(tb_bw_probe *p, tb_pool *pool);
// Records a pass's rate as if measured at that thread count (what tb_bw_probe_pass does after
// timing; tests use it to give the statistics known inputs).
void tb_bw_probe_record(tb_bw_probe *p, int threads, double rate);
// Passes recorded at a thread count, and their best and median bytes/s (0 if none).
int tb_bw_probe_passes(const tb_bw_probe *p, int threads);
double tb_bw_probe_best(const tb_bw_probe *p, int threads);
double tb_bw_probe_median(const tb_bw_probe *p, int threads);

// The paired roof fraction. These VMs switch between fast and slow speed states for seconds to
// minutes, so a rate compared with the best pass of a whole run is compared with the fastest
// moment of the run (and that maximum grows with the number of passes). The benchmark protocol
// compares interleaved measurements by the median of per-round ratios; the roof is compared the
// same way: work done between passes is recorded in order with them (tb_bw_probe_work: `bytes`
// streamed in `seconds`, tagged by who did it), each sample is divided by the mean of the passes
// just before and just after it at the same thread count, and the fraction is the median of
// those ratios (0 if there is none; *samples, if not NULL, gets how many).
void tb_bw_probe_work(tb_bw_probe *p, int tag, int threads, double bytes, double seconds);
double tb_bw_probe_paired_fraction(const tb_bw_probe *p, int tag, int threads, int *samples);
// Drops the work samples recorded so far (a warm-up's); passes stay.
void tb_bw_probe_forget_work(tb_bw_probe *p);

// Decode steps between two probe passes when a command interleaves them.
#define TB_PROBE_EVERY 8

// Best of reps passes of a fresh probe.
double tb_read_bandwidth(tb_pool *pool, size_t bytes, int reps);

// One roof for every command: the probe's buffer is sized to the work it bounds, never
// smaller. The bandwidth a workload gets depends on its working set (on a Zen 4 VM 2 threads
// read 47 GB/s from 256 MB but 33 GB/s from 1 GB), so a probe smaller than the work would
// report a roof the work cannot reach, and one far larger a roof it can beat.
//   decode:        the bytes a token streams (weights, head, KV cache);
//   cold kernels:  the rotated weight copies;
//   hot kernels:   one weight copy, which sits in a cache: a cache roof, labelled so.
// The buffer is work_bytes rounded up to a MiB, raised to min_bytes if that is larger (layer
// sampling needs a buffer that empties the caches; --roofline-mib asks for a larger probe),
// and capped at the plateau: far beyond the last-level cache the bandwidth no longer depends on
// the size (`tritbench info --bandwidth` shows it per machine), and a 14 GB FP16 model cannot
// be probed with a second 14 GB. A capped roof says so.
size_t tb_roof_buffer_bytes(size_t work_bytes, size_t min_bytes);
// The plateau: 8x the last-level cache, at least 4 GiB.
size_t tb_roof_plateau_bytes(void);
// "cache" if a buffer of these bytes fits the last-level cache, else "dram".
const char *tb_roof_kind(size_t buffer_bytes);
// Bytes of the probe's buffer.
size_t tb_bw_probe_bytes(const tb_bw_probe *p);
// What a result stores about its roof at one thread count: {kind, buffer_bytes, work_bytes,
// pattern, threads, passes, best_gbs, median_gbs, min_gbs}; best is the roof.
cJSON *tb_roof_to_json(const tb_bw_probe *p, int threads, size_t work_bytes);
// A document's "roofline" object (thread count as a string key -> bytes/s): keeps at each
// thread count the best read bandwidth any of its entries saw.
void tb_roofline_note(cJSON *roofline, int threads, double bytes_per_s);

#endif
