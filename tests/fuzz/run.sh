#!/usr/bin/env bash
# CI's fuzz step: builds the fuzz targets (clang, libFuzzer, ASan + UBSan) in BUILD and runs
# each for SECONDS on a copy of its committed corpus (libFuzzer adds what it finds to the
# folder it is given), two at a time (the CI machine has two cores). Fails if any target
# crashes, leaks or times out; the input that did it is saved as BUILD/crash-TARGET-*, to be
# turned into a regression test. amd64 only: elsewhere it says so and succeeds.
#   usage: tests/fuzz/run.sh [BUILD [SECONDS [TARGET...]]]   (default: build-fuzz 50, all six)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
secs=${2:-50}
targets=(fuzz_gguf fuzz_model fuzz_tokenizer fuzz_experiment fuzz_results fuzz_tune)
[ $# -gt 2 ] && targets=("${@:3}")
if [ "$(uname -m)" != x86_64 ]; then
  echo "fuzz: skipped on $(uname -m) (the fuzz step runs on amd64)"
  exit 0
fi
start=$SECONDS
[ -d "$build" ] || CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dwerror=true \
  -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C "$build" "${targets[@]}"
echo "fuzz: built in $((SECONDS - start)) s"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Runs one target; its log is BUILD/TARGET.log, its exit status BUILD/TARGET.rc.
run_one() {
  local t=$1 corpus=$build/corpus-$1 rc=0
  rm -rf "$corpus"
  cp -r "tests/fuzz/corpus/$t" "$corpus"
  "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crash-$t-" "$corpus" >"$build/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build/$t.rc"
}

for t in "${targets[@]}"; do
  run_one "$t" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
done
wait

failed=0
for t in "${targets[@]}"; do
  rc=$(cat "$build/$t.rc")
  execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$build/$t.log")
  cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$build/$t.log" | tail -1 |
    grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $t ok: ${execs:-?} executions, ${cov:-no coverage line}"
  else
    echo "FAIL: fuzz: $t exited $rc after ${execs:-?} executions; the end of its log:"
    tail -80 "$build/$t.log"
    ls "$build"/crash-"$t"-* 2>/dev/null || true
    failed=1
  fi
done
echo "fuzz: step took $((SECONDS - start)) s"
exit "$failed"
