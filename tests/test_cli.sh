#!/bin/sh
# Command-line behaviour: clear errors and exit 2 for bad usage, JSON output, a passing
# validation on a small shape. Usage: test_cli.sh PATH/TO/tritbench
# TB_CLI_WRAPPER, if set, runs the binary (qemu-aarch64 for the cross build).
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
trap 'rm -f "$out" "$out".json "$out".bench.json' EXIT

expect 2 "usage: tritbench"
expect 0 "Commands:" --help
expect 2 "unknown command 'frobnicate'" frobnicate
expect 0 "CPU features" kernels
expect 0 '"supported"' kernels --json
expect 2 "unknown option '--bogus'" kernels --bogus
expect 2 "no kernel named 'nosuch'" validate --kernel nosuch
expect 2 "'0' is out of range\|0 is out of range" validate --shape 0,4,4
expect 2 "must be 3 comma-separated" validate --shape 1,4
expect 2 "must be 3 comma-separated" validate --shape 1,4,4,4
expect 2 "'x' is not a whole number" validate --shape 1,x,4
expect 2 "is out of range" validate --shape 1,-4,4
expect 2 "larger than TB_K_MAX" validate --shape 1,4,1000000
expect 2 "needs a value" validate --seed
expect 2 "not a non-negative whole number" validate --seed -3
expect 0 "PASS" validate --kernel naive --shape 2,5,300
expect 0 '"status":.*"PASS"' validate --kernel i2_scalar --shape 3,9,513 --json
expect 2 "say what to benchmark" bench
expect 2 "no kernel named 'nosuch'" bench kernels --kernel nosuch
expect 2 "unknown configuration 'XL'" bench kernels --model XL
expect 2 "arguments after '--' need --gbench" bench kernels --shape 64,256 -- --benchmark_list_tests
expect 2 "is out of range" bench kernels --threads 0
expect 2 "comma-separated" bench kernels --m 1,,2
expect 2 "needs a value" bench kernels --baseline
expect 2 "not among the kernels timed" bench kernels --kernel naive --baseline i2_scalar --shape 8,8
expect 2 "--model CONFIG|FILE is required" bench model
expect 2 "unknown option '--frob'" bench model --model tiny --frob
expect 2 "must be 2 comma-separated" bench kernels --shape 5
# Two threads, except under qemu-user: there pthread_create in a dynamically linked arm64 program
# hangs (qemu 7.2 with Debian 12's glibc; a static binary is fine), so emulated runs use one.
threads=1,2
[ -z "${TB_CLI_WRAPPER:-}" ] || threads=1
expect 0 "GMAC/s" bench kernels --kernel naive,i2_scalar --shape 64,256 --rounds 3 --block-ms 1 --roofline-mib 4
expect 0 "roof%" bench kernels --kernel i2_scalar,lut2_scalar --shape 64,300 --m 1,3 --threads $threads --rounds 3 --block-ms 1 --roofline-mib 4 --json "$out".bench.json
# Cold weights: kernels with different numbers of weight copies, interleaved. Packing ~2x the
# last-level cache of copies takes minutes under emulation: native runs only.
[ -n "${TB_CLI_WRAPPER:-}" ] || expect 0 "roof%" bench kernels --kernel i2_scalar,f32_blas --shape 512,512 --cold --rounds 3 --block-ms 1 --roofline-mib 4
expect 0 "decode/s" bench model --model tiny --prompt 4 --tokens 3 --reps 1 --threads $threads --kernel i2_scalar,naive --roofline-mib 4
# 20 tokens: probe passes between decode steps too (2 before, 2 inside each of 2 reps, 2 after).
expect 0 '"read_bandwidth_passes":	8' bench model --model tiny --prompt 4 --tokens 20 --reps 1 --threads $threads --kernel i2_scalar --roofline-mib 4 --json -

# Machine fingerprint: live, JSON, a fixture ARM machine, bad options.
fixtures=$(dirname "$0")/fixtures
expect 0 "slug:" info
expect 0 '"cpu_slug"' info --json
expect 0 "arm-neoverse-n1" info --cpuinfo "$fixtures/cpuinfo-neoverse-n1.txt" --sysfs "$fixtures/sysfs-arm"
expect 0 '"part_name":.*"Neoverse-N1"' info --json --cpuinfo "$fixtures/cpuinfo-neoverse-n1.txt"
expect 2 "unknown option '--bogus'" info --bogus
expect 2 "cpuinfo /nonexistent" info --cpuinfo /nonexistent
expect 2 "not a folder" info --sysfs /nonexistent

# JSON written to a file parses (when python3 is at hand to parse it).
if tb validate --kernel naive --shape 1,3,7 --json >"$out".json && command -v python3 >/dev/null; then
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["results"][0]["status"]=="PASS"' "$out".json; then
    echo "ok: validate --json parses"
  else
    echo "FAIL: validate --json is not valid JSON"; fails=$((fails + 1))
  fi
fi

[ "$fails" -eq 0 ] && echo "cli tests passed" || echo "cli tests: $fails failed"
[ "$fails" -eq 0 ]
