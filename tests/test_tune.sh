#!/bin/sh
# tritbench tune and dispatch by measurement: bad options (exit 2); a quick tune on the tiny
# configuration writes a tune file whose choices are the fastest of its own times and which the
# loader reads back (kernels, generate, bench model follow it, the nearest thread count when not
# tuned); TRITBENCH_KERNEL and TRITBENCH_TUNE=off win over it; a file of another CPU is ignored,
# and a truncated, a foreign (wrong kind, unknown kernel) and a tampered file are refused with
# one message naming file and field; each time dispatch falls back to the rank (TRITBENCH_DEBUG).
# Usage: test_tune.sh PATH/TO/tritbench FIXTURES; TB_CLI_WRAPPER, if set, runs the binary.
tb_bin=$1
fixtures=$2/tune
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
unset TRITBENCH_KERNEL TRITBENCH_TUNE TRITBENCH_DEBUG TRITBENCH_DISABLE

expect 0 "usage: tritbench tune" tune --help
expect 2 "unknown option '--bogus'" tune --bogus
expect 2 "unexpected argument 'extra'" tune extra
expect 2 "1 is out of range" tune --m 1
expect 2 "0 is out of range" tune --threads 0
expect 2 "0 is out of range" tune --rounds 0
expect 2 "must be a number" tune --screen x
expect 2 "needs a value" tune --kernel
expect 2 "unknown configuration 'XL'" tune --model XL --out "$dir/x.json"
expect 2 "no kernel named 'nosuch'" tune --kernel nosuch --out "$dir/x.json"
expect 2 "float baseline" tune --kernel i2_scalar,f32_blas --out "$dir/x.json"
expect 2 "integer oracle" tune --kernel naive --out "$dir/x.json"
expect 2 "listed twice" tune --kernel i2_scalar,i2_scalar --out "$dir/x.json"
[ ! -e "$dir/x.json" ] && echo "ok: refused runs write nothing" ||
  { echo "FAIL: a refused tune wrote $dir/x.json"; fails=$((fails + 1)); }

# The rank's choice, and two i2 kernels and one lut2 kernel this CPU runs (a real choice, two
# formats): the portable ones and the highest-ranked i2.
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$2"; }
tb kernels --json >"$dir/kernels.json" 2>/dev/null
rank=$(py 'print(d["best"])' "$dir/kernels.json")
kernels=$(py 'print(",".join(sorted({"i2_scalar", "lut2_scalar", d["best"]})))' "$dir/kernels.json")
echo "note: tuning $kernels; rank chooses $rank"

# Tunes of the tiny configuration, 1 round of 1 ms blocks. The main one hot only, at 2 thread
# counts (1 under emulation, where qemu-user cannot start threads in this binary): it is what the
# dispatch checks below read. Cold weights (and the chunk work) cost seconds a kernel and shape
# (copies filling twice the last-level cache), so one small cold tune natively only.
threads=1,2
[ -n "${TB_CLI_WRAPPER:-}" ] && threads=1
tune="$dir/tune.json"
tb tune --model tiny --kernel "$kernels" --threads $threads --m 4,16 --rounds 1 --block-ms 1 \
  --hot-only --json --out "$tune" >"$dir/stdout.json" 2>"$dir/stderr.txt"
code=$?
[ $code -eq 0 ] && grep -q "wrote $tune" "$dir/stderr.txt" && echo "ok: tune ran" ||
  { echo "FAIL: tune exit $code:"; head -5 "$dir/stderr.txt"; fails=$((fails + 1)); }
cold="$dir/cold.json"
if [ -z "${TB_CLI_WRAPPER:-}" ]; then
  expect 0 "wrote $cold" tune --model tiny --kernel "i2_scalar,$rank" --threads 1 --m 4 --rounds 1 \
    --block-ms 1 --out "$cold"
  json_check "$cold" "tune: cold and hot GEMV, the buckets, and the decode parameters on the decode kernel" \
    "[r['regime'] for r in d['regimes']] == ['gemv_cold', 'gemv_hot', 'gemm_m4'] and len(d['driver']['threads']) == 1 and all(t['kernel'] == d['regimes'][0]['best'] for t in d['driver']['threads'])"
  # Each sweep holds its default; its choice is the fastest if that beats the default by more
  # than min_gain, else the default; the choice object repeats the sweeps' choices.
  json_check "$cold" "tune: every decode parameter chosen by its sweep's rule" \
    "all(any(c['value'] == s['default'] for c in s['candidates']) and s['fastest'] == min(s['candidates'], key=lambda c: c['layer_s'])['value'] and s['choice'] == (s['fastest'] if [c['layer_s'] for c in s['candidates'] if c['value'] == s['default']][0] / min(c['layer_s'] for c in s['candidates']) - 1 > d['driver']['min_gain'] else s['default']) and t['choice'][k] == s['choice'] for t in d['driver']['threads'] for k, s in ((k, t[k]) for k in ('prefetch_bytes', 'chunk_work')))"
fi
tb info --json >"$dir/info.json" 2>/dev/null
files=$tune
[ -z "${TB_CLI_WRAPPER:-}" ] && files="$tune $cold"
for file in $files; do
json_check "$file" "tune: a tune document with this CPU's fingerprint and revision" \
  "d['kind'] == 'tune' and d['schema'] == 'tritbench-results/1' and d['fingerprint']['cpu_slug'] == json.load(open('$dir/info.json'))['cpu_slug'] and d['fingerprint']['model_name'] == json.load(open('$dir/info.json'))['model_name'] and d['tritbench']['git_revision'] and d['fingerprint']['logical_cpus'] >= 1"
  # Every regime at every thread count; layer times weighted by the products of a layer (tiny:
  # q, k, v, o 96x96; gate, up 160x96; down 96x160 -> counts 4, 2, 1).
json_check "$file" "tune: every (regime, threads), layer = sum of count x shape median" \
  "sorted(s[2] for s in d['parameters']['shapes']) == [1, 2, 4] and len(d['regimes']) == len(d['parameters']['threads']) * (len(d['parameters']['m']) + (2 if d['parameters']['cold'] else 1)) and all(k['layer_s'] is None or abs(k['layer_s'] - sum(s[2] * t for s, t in zip(d['parameters']['shapes'], k['shape_median_s']))) <= 1e-9 * k['layer_s'] for r in d['regimes'] for k in r['kernels'])"
json_check "$file" "tune: each choice is the fastest of its regime, and of its format" \
  "all(min((k for k in r['kernels'] if k['layer_s'] is not None), key=lambda k: k['layer_s'])['kernel'] == r['best'] and all(min((k for k in r['kernels'] if k['format'] == f and k['layer_s'] is not None), key=lambda k: k['layer_s'])['kernel'] == b for f, b in r['best_by_format'].items()) and set(r['best_by_format']) == {k['format'] for k in r['kernels'] if k['layer_s'] is not None} for r in d['regimes'])"
done
json_check "$dir/stdout.json" "tune --json prints the document it writes" \
  "d['regimes'] == json.load(open('$tune'))['regimes']"

# What dispatch must take from it at 1 thread: decode = the fastest at gemv_cold (gemv_hot
# without cold), prefill = the fastest of that format at the bucket nearest the prompt (3 -> 4).
decode=$(py 'c = d["parameters"]["cold"]; print([r["best"] for r in d["regimes"] if r["threads"] == 1 and r["regime"] == ("gemv_cold" if c else "gemv_hot")][0])' "$tune")
prefill=$(py "c = d['parameters']['cold']; r0 = [r for r in d['regimes'] if r['threads'] == 1 and r['regime'] == ('gemv_cold' if c else 'gemv_hot')][0]; f = [k['format'] for k in r0['kernels'] if k['kernel'] == r0['best']][0]; print([r['best_by_format'].get(f, r0['best']) for r in d['regimes'] if r['threads'] == 1 and r['m'] == 4][0])" "$tune")
echo "note: the tune file chooses decode $decode, prefill $prefill at 1 thread"

# Round trip: the loader reads it back (kernels shows the same choices), and the engine runs
# its choice.
export TRITBENCH_TUNE="$tune"
tb kernels --json >"$dir/tuned.json" 2>/dev/null
json_check "$dir/tuned.json" "kernels: the tune file read back, the same choices" \
  "d['tuned']['status'] == 'used' and [(r['regime'], r['threads'], r['best'], r['best_by_format']) for r in d['tuned']['regimes']] == [(r['regime'], r['threads'], r['best'], r['best_by_format']) for r in json.load(open('$tune'))['regimes']] and d['tuned']['engine'][0]['decode'] == '$decode' and d['tuned']['engine'][0]['prefill']['4'] == '$prefill'"
expect 0 "tuned choice ($tune)" kernels
export TRITBENCH_DEBUG=1
expect 0 "decode kernel $decode, prefill kernel $prefill, at 1 thread: tune file $tune: .* and gemm_m4 at 1 thread" \
  generate --model tiny --prompt-tokens 1,2,3 --tokens 3
tb generate --model tiny --prompt-tokens 1,2,3 --tokens 3 --json >"$dir/gen.json" 2>/dev/null
json_check "$dir/gen.json" "generate records the kernels and where they came from" \
  "d['decode_kernel'] == '$decode' and d['prefill_kernel'] == '$prefill' and d['kernel_choice'].startswith('tune file $tune')"
tb bench model --model tiny --prompt 3 --tokens 3 --reps 1 --roofline-mib 4 --json >"$dir/bm.json" 2>/dev/null
json_check "$dir/bm.json" "bench model records the kernels and where they came from" \
  "all(e['decode_kernel'] == '$decode' and e['prefill_kernel'] == '$prefill' and e['kernel_choice'].startswith('tune file') for e in d['entries'])"
if [ -z "${TB_CLI_WRAPPER:-}" ]; then
  expect 0 "at 3 threads: tune file $tune: .* at 2 threads (3 threads not tuned: the nearest)" \
    generate --model tiny --tokens 2 --threads 3
  # With cold weights tuned, decode follows gemv_cold.
  TRITBENCH_TUNE=$cold
  expect 0 "decode kernel $(py 'print(d["regimes"][0]["best"])' "$cold"), .*: tune file $cold: gemv_cold and gemm_m4 at 1 thread" \
    generate --model tiny --prompt-tokens 1,2,3 --tokens 2
  # and the engine runs with the decode parameters tuned for its kernel; another kernel, or a
  # thread count not tuned, with the defaults, saying why.
  pf=$(py 'print(d["driver"]["threads"][0]["choice"]["prefetch_bytes"])' "$cold")
  cw=$(py 'print(d["driver"]["threads"][0]["choice"]["chunk_work"])' "$cold")
  expect 0 "at 1 thread: prefetch $pf bytes, chunk work $cw bytes: tune file $cold" \
    generate --model tiny --prompt-tokens 1,2,3 --tokens 2
  tb generate --model tiny --tokens 2 --json >"$dir/gen-cold.json" 2>/dev/null
  json_check "$dir/gen-cold.json" "generate records the tuned decode parameters" \
    "d['driver']['prefetch_bytes'] == $pf and d['driver']['chunk_work'] == $cw and d['driver']['source'] == 'tune file $cold'"
  expect 0 "i2_scalar at 1 thread: prefetch 2048 bytes, chunk work 65536 bytes: defaults (tune file $cold: tuned on $rank, not i2_scalar)" \
    generate --model tiny --tokens 2 --kernel i2_scalar
  expect 0 "at 2 threads: prefetch 2048 bytes, chunk work 65536 bytes: defaults (tune file $cold: not tuned at 2 threads)" \
    generate --model tiny --tokens 2 --threads 2
  expect 0 "engine at 1 thread: decode .*; prefetch $pf bytes, chunk work $cw bytes" kernels
  py "d['driver']['threads'][0]['chunk_work']['choice'] = 12345; json.dump(d, open('$dir/driver.json', 'w'))" "$cold"
  TRITBENCH_TUNE="$dir/driver.json"
  expect 0 "tune file refused: $dir/driver.json: field 'driver.threads\[0\].chunk_work.choice' is 12345, neither the default" \
    generate --model tiny --tokens 2
fi
# TRITBENCH_KERNEL wins over the tune file; TRITBENCH_TUNE=off disables it.
TRITBENCH_KERNEL=i2_scalar; export TRITBENCH_KERNEL
expect 0 "decode kernel i2_scalar, prefill kernel i2_scalar, at 1 thread: TRITBENCH_KERNEL" \
  generate --model tiny --tokens 2
unset TRITBENCH_KERNEL
TRITBENCH_TUNE=off
expect 0 "decode kernel $rank, prefill kernel $rank, at 1 thread: rank .*TRITBENCH_TUNE=off" \
  generate --model tiny --tokens 2

# Another CPU's file: ignored, with the debug line saying why; dispatch by rank.
TRITBENCH_TUNE="$fixtures/other-cpu.json"
expect 0 "decode kernel $rank, .*rank .*other-cpu.json was tuned on another CPU: fingerprint field" \
  generate --model tiny --tokens 2
expect 0 "tuned choice: none, dispatch by rank (mismatch" kernels
# The same file with this CPU's fingerprint is used: so it was only the fingerprint.
py "d['fingerprint'] = json.load(open('$tune'))['fingerprint']; json.dump(d, open('$dir/adopted.json', 'w'))" "$fixtures/other-cpu.json"
TRITBENCH_TUNE="$dir/adopted.json"
expect 0 "decode kernel lut2_scalar, prefill kernel lut2_scalar, at 1 thread: tune file" \
  generate --model tiny --tokens 2

# Refused files: one message naming file and field, then the rank (one run shows both).
refused() { # refused WHAT FILE PATTERN
  TRITBENCH_TUNE=$2
  tb generate --model tiny --tokens 2 >"$out" 2>&1
  got=$?
  if [ $got -eq 0 ] && grep -q -- "tune file refused: $2: $3" "$out" &&
    grep -q -- "decode kernel $rank, prefill kernel $rank, at 1 thread: rank" "$out"; then
    echo "ok: $1 tune file refused, dispatch by rank"
  else
    echo "FAIL: $1 tune file: exit $got (want 0), wanted the refusal '$3' and the rank; output:"
    sed 's/^/    /' "$out" | head -5
    fails=$((fails + 1))
  fi
  expect 0 "tuned choice: none, dispatch by rank (refused" kernels
}
head -c 300 "$tune" >"$dir/truncated.json"
refused truncated "$dir/truncated.json" "not valid JSON"
refused "wrong kind" "$fixtures/wrong-kind.json" "field 'kind' is \"kernels\", expected \"tune\""
refused "unknown kernel" "$fixtures/unknown-kernel.json" "field 'parameters.kernels\[1\]' is \"lut2_sve512\": no kernel of that name here"
py "r = d['regimes'][0]; r['best'] = max((k for k in r['kernels'] if k['layer_s']), key=lambda k: k['layer_s'])['kernel']; json.dump(d, open('$dir/tampered.json', 'w'))" "$tune"
refused "tampered choice" "$dir/tampered.json" "field 'regimes\[0\].best' is .* but .* is faster"
py "del d['regimes'][1]['threads']; json.dump(d, open('$dir/missing.json', 'w'))" "$tune"
refused "missing field" "$dir/missing.json" "field 'regimes\[1\].threads' is missing"
py "d['regimes'][0]['kernels'][0]['format'] = 'lut3'; json.dump(d, open('$dir/format.json', 'w'))" "$tune"
refused "wrong format" "$dir/format.json" "field 'regimes\[0\].kernels\[0\].format' is \"lut3\""
unset TRITBENCH_TUNE TRITBENCH_DEBUG

[ "$fails" -eq 0 ] && echo "tune tests passed" || echo "tune tests: $fails failed"
[ "$fails" -eq 0 ]
