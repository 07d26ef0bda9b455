// The bandwidth roofline: this machine's streaming read bandwidth, measured in the same run as
// the kernels it bounds.
#ifndef TB_ROOFLINE_H
#define TB_ROOFLINE_H

#include "tb_pool.h"

#include <stddef.h>

// Bytes of the last-level cache (sysconf; 64 MiB if the system does not say).
size_t tb_last_level_cache_bytes(void);

// Read bandwidth in bytes/s of a streaming read over a buffer of `bytes` (choose it far larger
// than the last-level cache to measure DRAM), split across the pool's threads; best of reps.
double tb_read_bandwidth(tb_pool *pool, size_t bytes, int reps);

// The buffer size the benchmarks use: 4x the last-level cache, at least 256 MiB; or `mib` MiB
// when mib > 0 (their --roofline-mib option: small buffers for quick runs and emulators,
// where the figure then measures a cache, as the output says).
size_t tb_roofline_bytes(int mib);

#endif
