#!/bin/sh
# tritbench run: experiment files refused with FILE:LINE: [section] key: problem (exit 2) before
# anything runs, points listed by --dry-run, results written one document per point, and a rerun
# after an interruption keeping the points already done. Usage: test_run.sh PATH/TO/tritbench
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

# bad NAME LINES...: writes $dir/NAME.ini from the lines.
bad() { name=$1; shift; printf '%s\n' "$@" >"$dir/$name.ini"; }
bad unknown-key "[a]" "run = bench-kernels" "model = 2B4T" "rouns = 5"
expect 2 "unknown-key.ini:4: \[a\] rouns: unknown key" run "$dir/unknown-key.ini"
bad no-run "[a]" "model = 2B4T"
expect 2 "no-run.ini:1: \[a\] run: missing" run "$dir/no-run.ini"
bad bad-run "[a]" "run = bench-everything"
expect 2 "bad-run.ini:2: \[a\] run: 'bench-everything' must be one of" run "$dir/bad-run.ini"
bad bad-number "[a]" "run = bench-kernels" "model = 2B4T" "rounds = five"
expect 2 "bad-number.ini:4: \[a\] rounds: 'five' is not a whole number" run "$dir/bad-number.ini"
bad out-of-range "[a]" "run = bench-kernels" "model = 2B4T" "threads = 1, 0"
expect 2 "out-of-range.ini:4: \[a\] threads: 0 is out of range" run "$dir/out-of-range.ini"
bad bad-kernel "[a]" "run = bench-kernels" "kernels = best, i2_avx9000" "model = 2B4T"
expect 2 "bad-kernel.ini:3: \[a\] kernels: no kernel named 'i2_avx9000'" run "$dir/bad-kernel.ini"
bad bad-model "[a]" "run = bench-model" "model = 7B, 9Z"
expect 2 "bad-model.ini:3: \[a\] model: '9Z' is neither a configuration" run "$dir/bad-model.ini"
bad no-model "[a]" "run = bench-model" "threads = 2"
expect 2 "no-model.ini:1: \[a\] model: missing" run "$dir/no-model.ini"
bad not-applicable "[a]" "run = bench-model" "model = tiny" "weights = cold"
expect 2 "not-applicable.ini:4: \[a\] weights: does not apply to run = bench-model" run "$dir/not-applicable.ini"
bad twice "[a]" "run = bench-model" "model = tiny" "model = 1B"
expect 2 "twice.ini:4: \[a\] model: given twice" run "$dir/twice.ini"
bad syntax "[a]" "run = bench-model" "this is not a key"
expect 2 "syntax.ini:3: .* not a section header or key = value" run "$dir/syntax.ini"
bad bad-top "[experiment]" "colour = blue" "[a]" "run = bench-model" "model = tiny"
expect 2 "bad-top.ini:2: \[experiment\] colour: unknown key" run "$dir/bad-top.ini"
bad no-steps "[experiment]" "description = nothing"
expect 2 "no steps" run "$dir/no-steps.ini"
expect 2 "cannot read" run "$dir/missing.ini"
expect 2 "say which experiment" run
expect 2 "unknown option '--frob'" run "$dir/no-steps.ini" --frob

# A small experiment: three accuracy points of a few milliseconds each.
bad small "[experiment]" "description = test" "[acc]" "run = validate-model" "model = tiny, tiny256" "tokens = 3" \
  "[acc1]" "run = validate-model" "kernels = i2_scalar" "model = tiny" "tokens = 2"
expect 0 "3 planned" run "$dir/small.ini" --dry-run --results "$dir/results"
[ ! -d "$dir/results" ] && echo "ok: --dry-run writes nothing" || { echo "FAIL: --dry-run wrote results"; fails=$((fails + 1)); }
# Interrupted after its first point (--only stands for the interruption), then rerun: the point
# already done is kept, the others run.
expect 0 "1 done, 0 kept" run "$dir/small.ini" --only acc1/ --results "$dir/results"
expect 0 "2 done, 1 kept" run "$dir/small.ini" --results "$dir/results"
expect 0 "0 done, 3 kept" run "$dir/small.ini" --results "$dir/results"
expect 0 "3 done, 0 kept" run "$dir/small.ini" --results "$dir/results" --force
folder=$(ls -d "$dir"/results/*/small)
json_check "$folder/acc_tiny.json" "a point's document: its key, configuration hash, revision and the runner's results" \
  'd["kind"] == "accuracy" and d["point"]["key"] == "acc/tiny" and len(d["point"]["config_hash"]) == 16 and d["point"]["revision"] and all(r["status"] in ("PASS", "SKIP") for r in d["results"])'
json_check "$folder/acc1_tiny.json" "validate-model on one kernel" \
  'len(d["results"]) == 1 and d["results"][0]["kernel"] == "i2_scalar"'
# A point whose configuration changed since (here: its recorded hash) is redone.
sed -i 's/"config_hash":[^,]*/"config_hash": "0000000000000000"/' "$folder/acc_tiny256.json"
expect 0 "1 done, 2 kept" run "$dir/small.ini" --results "$dir/results"
# A truncated point file (an interrupted writer cannot leave one, but a disk can) is redone too.
head -c 100 "$folder/acc_tiny.json" >"$folder/cut" && mv "$folder/cut" "$folder/acc_tiny.json"
expect 0 "1 done, 2 kept" run "$dir/small.ini" --results "$dir/results"
ls "$folder" | grep -q '\.tmp\.' && { echo "FAIL: temporary files left in $folder"; fails=$((fails + 1)); } || echo "ok: no temporary files left"

[ "$fails" -eq 0 ] && echo "run tests passed" || echo "run tests: $fails failed"
[ "$fails" -eq 0 ]
