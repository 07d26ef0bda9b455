// The bandwidth roofline: this machine's streaming read bandwidth, measured in the same run as
// the kernels it bounds.
#ifndef TB_ROOFLINE_H
#define TB_ROOFLINE_H

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
// Passes recorded at a thread count, and their best and median bytes/s (0 if none).
int tb_bw_probe_passes(const tb_bw_probe *p, int threads);
double tb_bw_probe_best(const tb_bw_probe *p, int threads);
double tb_bw_probe_median(const tb_bw_probe *p, int threads);

// Decode steps between two probe passes when a command interleaves them.
#define TB_PROBE_EVERY 8

// Best of reps passes of a fresh probe.
double tb_read_bandwidth(tb_pool *pool, size_t bytes, int reps);

// The buffer size the benchmarks use: 4x the last-level cache, at least 256 MiB; or `mib` MiB
// when mib > 0 (their --roofline-mib option: small buffers for quick runs and emulators,
// where the figure then measures a cache, as the output says).
size_t tb_roofline_bytes(int mib);

#endif
