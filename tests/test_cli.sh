#!/bin/sh
# Command-line behaviour: clear errors and exit 2 for bad usage, result documents that parse and
# say what ran, a passing validation on a small shape. Usage: test_cli.sh PATH/TO/tritbench
# TB_CLI_WRAPPER, if set, runs the binary (qemu-aarch64 for the cross build).
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

expect 2 "usage: tritbench"
expect 0 "Commands:" --help
expect 2 "unknown command 'frobnicate'" frobnicate
expect 0 "CPU features" kernels
expect 0 '"supported"' kernels --json
expect 2 "unknown option '--bogus'" kernels --bogus
expect 2 "unexpected argument 'extra'" kernels extra
expect 2 "no kernel named 'nosuch'" validate --kernel nosuch
expect 2 "0 is out of range" validate --shape 0,4
expect 2 "must be 2 comma-separated" validate --shape 4
expect 2 "must be 2 comma-separated" validate --shape 1,4,4
expect 2 "'x' is not a whole number" validate --shape x,4
expect 2 "is out of range" validate --shape -4,4
expect 2 "is out of range" validate --shape 4,4 --m 0
expect 2 "larger than TB_K_MAX" validate --shape 4,1000000
expect 2 "needs a value" validate --seed
expect 2 "not a non-negative whole number" validate --seed -3
expect 0 "PASS" validate --kernel naive --shape 5,300 --m 2
expect 0 '"status":.*"PASS"' validate --kernel i2_scalar --shape 9,513 --m 3 --json
expect 2 "say what to benchmark" bench
expect 2 "no kernel named 'nosuch'" bench kernels --kernel nosuch
expect 2 "unknown configuration 'XL'" bench kernels --model XL
expect 2 "do not go together" bench kernels --model 2B4T --shape 8,8
expect 2 "arguments after '--' need --gbench" bench kernels --shape 64,256 -- --benchmark_list_tests
expect 2 "is out of range" bench kernels --threads 0
expect 2 "comma-separated" bench kernels --m 1,,2
expect 2 "needs a value" bench kernels --baseline
expect 2 "not among the kernels timed" bench kernels --kernel naive --baseline i2_scalar --shape 8,8
expect 2 "--model CONFIG|FILE is required" bench model
expect 2 "unknown option '--frob'" bench model --model tiny --frob
expect 2 "must be 2 comma-separated" bench kernels --shape 5
expect 2 "is not one of f32, f16, q8, q4" bench model --model tiny --head f8
expect 2 "listed twice" bench model --model tiny --head q8,f16,q8
expect 2 "--head needs --model" validate --head q8

# A validation document names every kernel it checked and passes the one asked for.
tb validate --kernel naive --shape 3,7 --out "$dir/validate.json" >/dev/null 2>&1
json_check "$dir/validate.json" "validate --out writes the document" \
  'd["results"][0]["kernel"] == "naive" and d["results"][0]["status"] == "PASS" and d["results"][0]["cases"] > 0'

# Two threads, except under qemu-user: there pthread_create in a dynamically linked arm64 program
# hangs (qemu 7.2 with Debian 12's glibc; a static binary is fine), so emulated runs use one.
threads=1,2
nthreads=2
if [ -n "${TB_CLI_WRAPPER:-}" ]; then
  threads=1 nthreads=1
  echo "note: emulated: the benchmarks below run at 1 thread (qemu-user hangs starting threads in a dynamically linked program; tests/test_engine.c covers threads there, linked statically)"
fi
expect 0 "GMAC/s" bench kernels --kernel naive,i2_scalar --shape 64,256 --rounds 3 --block-ms 1 --roofline-mib 4
# Every case of the document was timed (no "error"), with positive speeds, and the document on
# stdout (--json) is the one written to --out.
tb bench kernels --kernel i2_scalar,lut2_scalar --shape 64,300 --m 1,3 --threads $threads --rounds 3 --block-ms 1 --roofline-mib 4 --json --out "$dir/bench.json" >"$dir/bench-stdout.json" 2>/dev/null
json_check "$dir/bench.json" "bench kernels: every entry timed" \
  "len(d['entries']) == 2 * 2 * $nthreads and all('error' not in e and e['gmacs'] > 0 and e['median_s'] > 0 for e in d['entries']) and d['parameters']['baseline'] == 'i2_scalar'"
# Each case's roof is probed on at least its working set (one hot copy: a cache roof), and
# every entry says which roof bounds it and how close it came.
json_check "$dir/bench.json" "bench kernels: roofs sized to the work" \
  "all(e['roof']['buffer_bytes'] >= e['roof']['work_bytes'] > 0 and e['roof']['kind'] == 'cache' and e['roof']['passes'] >= 3 and e['bound_by'] in ('bandwidth', 'compute') and e['roof_fraction'] > 0 and ('compute_roof' in e) for e in d['entries'])"
json_check "$dir/bench.json" "bench kernels: portable kernels have no compute roof, with the reason" \
  "all(e['compute_roof'] is None and ('portable C' in e['compute_roof_reason'] or 'table lookups' in e['compute_roof_reason']) and e['bound_by'] == 'bandwidth' for e in d['entries'])"
json_check "$dir/bench-stdout.json" "bench kernels --json prints the same document" \
  "d['entries'][0]['kernel'] == 'i2_scalar' and len(d['entries']) == 2 * 2 * $nthreads"
# Cold weights: kernels with different numbers of weight copies, interleaved. Packing ~2x the
# last-level cache of copies takes minutes under emulation: native runs only.
if [ -z "${TB_CLI_WRAPPER:-}" ]; then
  tb bench kernels --kernel i2_scalar,f32_blas --shape 512,512 --cold --rounds 3 --block-ms 1 --roofline-mib 4 --out "$dir/cold.json" >/dev/null 2>&1
  json_check "$dir/cold.json" "bench kernels --cold rotates weight copies" \
    "all('error' not in e and e['weight_copies'] > 1 and e['weights'] == 'cold' for e in d['entries'])"
  json_check "$dir/cold.json" "bench kernels --cold: a DRAM roof on all the copies" \
    "all(e['roof']['kind'] == 'dram' and e['roof']['buffer_bytes'] >= e['roof']['work_bytes'] >= e['weight_copies'] * e['weight_gbs'] * e['median_s'] * 1e9 * 0.999 for e in d['entries'])"
fi
tb bench model --model tiny --prompt 4 --tokens 3 --reps 1 --threads $threads --kernel i2_scalar,naive --roofline-mib 4 --out "$dir/model.json" >/dev/null 2>&1
json_check "$dir/model.json" "bench model: every kernel and thread count measured" \
  "len(d['entries']) == 2 * $nthreads and all(e['decode_tokens_per_s'] > 0 and e['prefill_tokens_per_s'] > 0 for e in d['entries'])"
json_check "$dir/model.json" "bench model: the roof is probed on at least the bytes a token streams" \
  "all(e['roof']['buffer_bytes'] >= e['roof']['work_bytes'] >= e['bytes_read_per_token'] and abs(e['roof']['best_gbs'] * 1e9 - e['read_bandwidth_bytes_per_s']) <= 1e-9 * e['read_bandwidth_bytes_per_s'] for e in d['entries'])"
# 20 tokens: probe passes between decode steps too (2 before, 2 inside each of 2 reps, 2 after).
tb bench model --model tiny --prompt 4 --tokens 20 --reps 1 --threads $threads --kernel i2_scalar --roofline-mib 4 --json >"$dir/passes.json" 2>/dev/null
json_check "$dir/passes.json" "bench model: probe passes between the decode steps" \
  "all(e['read_bandwidth_passes'] == 8 for e in d['entries'])"

# Machine fingerprint: live, JSON, a fixture ARM machine, bad options.
fixtures=$(dirname "$0")/fixtures
expect 0 "slug:" info
expect 0 '"cpu_slug"' info --json
# The roofs on their own: a small buffer (a cache roof), compute paths, likwid skipped.
expect 0 "read bandwidth, GB/s" info --bandwidth --mib 8 --no-likwid --threads 1
expect 0 '"kind":.*"cache"' info --bandwidth --mib 8 --no-likwid --json
expect 0 "compute peak, GMAC/s" info --compute
expect 2 "describe another machine" info --bandwidth --cpuinfo "$(dirname "$0")/fixtures/cpuinfo-neoverse-n1.txt"
expect 0 "arm-neoverse-n1" info --cpuinfo "$fixtures/cpuinfo-neoverse-n1.txt" --sysfs "$fixtures/sysfs-arm"
expect 0 '"part_name":.*"Neoverse-N1"' info --json --cpuinfo "$fixtures/cpuinfo-neoverse-n1.txt"
expect 2 "unknown option '--bogus'" info --bogus
expect 2 "cpuinfo /nonexistent" info --cpuinfo /nonexistent
expect 2 "not a folder" info --sysfs /nonexistent

[ "$fails" -eq 0 ] && echo "cli tests passed" || echo "cli tests: $fails failed"
[ "$fails" -eq 0 ]
