#!/bin/bash
# Fleet runs without a cluster (issue 15): the sbatch script `run --slurm --dry-run` writes (its
# options, bash syntax, and one array task of it run by hand), submission through a stand-in
# sbatch (job ids, a refusal), the refusals of bad requests, shards that together make the
# whole experiment, a run killed mid-point (`fleet status`: running, not reached; the report
# says which; a rerun resumes), a failed point with its reason, a hidden feature making another
# CPU folder, and compare across those two CPUs. The real SLURM cluster is test_slurm.sh.
# Usage: test_fleet.sh PATH/TO/tritbench
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
# qemu-user hangs when an emulated binary starts gnuplot (test_report.sh): no figures there.
[ -z "${TB_CLI_WRAPPER:-}" ] || export TRITBENCH_GNUPLOT=/nonexistent/gnuplot
dir=$(mktemp -d)
trap 'kill -9 $bg 2>/dev/null; rm -rf "$out" "$dir"' EXIT
bg=

check() { # check WHAT COMMAND...: the command succeeds
  what=$1
  shift
  if "$@"; then echo "ok: $what"; else
    echo "FAIL: $what"
    fails=$((fails + 1))
    fail_fast
  fi
}

# A small experiment: three kernel points (one slow enough to be killed in) and two accuracy.
cat >"$dir/small.ini" <<'INI'
[experiment]
description = fleet test
[k]
run = bench-kernels
kernels = best, fp16
shape = 256,512
m = 1, 4
threads = 1
rounds = 3
block-ms = 2
[slow]
run = bench-kernels
kernels = best, fp16
shape = 1024,1024
m = 1
threads = 1
rounds = 40
block-ms = 100
[acc]
run = validate-model
model = tiny, tiny256
tokens = 2
INI

# --- the script ---------------------------------------------------------------------------
expect 0 "script written, not submitted" run "$dir/small.ini" --slurm --dry-run \
  --results "$dir/shared" --partitions zen4,icelake --nodes-per-partition 2 \
  --variants 'none;avx2' --only k/,acc/ --time 0:30:00 --binary "$tb_bin" --out "$dir/sub.json"
json_check "$dir/sub.json" "dry run: 4 tasks per job, two variants, no job" \
  "d['tasks_per_job'] == 4 and d['variants'] == ['none', 'avx2'] and d['jobs'] == [] and d['dry_run']"
script=$(python3 -c "import json; print(json.load(open('$dir/sub.json'))['script'])")
for want in '#SBATCH --array=0-3' '#SBATCH --exclusive' '#SBATCH --time=0:30:00' \
  'sbatch --partition=zen4' 'sbatch --partition=icelake' "VARIANTS=('' 'avx2')" 'SHARDS=2' \
  'export TRITBENCH_PIN=cores' "--only 'k/,acc/'" "#SBATCH --output=$dir/shared/slurm-jobs/small-%A_%a.out"; do
  check "script has: $want" grep -qF -- "$want" "$script"
done
check "script is valid bash" bash -n "$script"
# One array task run by hand, as SLURM would: task 3 = shard 1 of 2, variant avx2 hidden.
if [ -z "${TB_CLI_WRAPPER:-}" ]; then
  SLURM_ARRAY_TASK_ID=3 bash "$script" >"$out" 2>&1
  check "task 3 by hand: shard 1 of 2, avx2 hidden" grep -q "shard 1 of 2, features hidden: avx2" "$out"
  status=$(ls "$dir"/shared/*/small/.runs/*-shard-1-of-2.json 2>/dev/null | head -1)
  json_check "$status" "task 3 ran its shard: odd points of k/ and acc/ only" \
    "[p['key'] for p in d['points']] == ['k/256x512/m=4/threads=1/hot', 'acc/tiny256'] and d['state'] == 'finished'"
fi

# --build: every node builds the sources first (here: this checkout's).
src=$(cd "$(dirname "$0")/.." && pwd)
expect 0 "script written, not submitted" run "$dir/small.ini" --slurm --dry-run --results "$dir/shared" \
  --build "$src" --script "$dir/build.sbatch"
for want in "SOURCE='$src'" 'meson setup --buildtype=release "$BUILD" "$SOURCE"' \
  'meson compile -C "$BUILD" tritbench' 'TRITBENCH="$BUILD/tritbench"' '#SBATCH --array=0-0'; do
  check "build script has: $want" grep -qF -- "$want" "$dir/build.sbatch"
done
check "build script is valid bash" bash -n "$dir/build.sbatch"

# Submission through a stand-in sbatch: the job id per partition, or sbatch's refusal.
mkdir "$dir/bin"
printf '#!/bin/sh\necho "$*" >> %s/sbatch.log\necho "4242;cluster"\n' "$dir" >"$dir/bin/sbatch"
printf '#!/bin/sh\necho "sbatch: error: invalid partition specified: $2" >&2\nexit 1\n' >"$dir/bin/sbatch-refuses"
chmod +x "$dir/bin/sbatch" "$dir/bin/sbatch-refuses"
PATH="$dir/bin:$PATH" expect 0 "submitted job 4242 to partition zen4" run "$dir/small.ini" --slurm \
  --results "$dir/shared" --partitions zen4,icelake
check "sbatch called once per partition" grep -q -- "--parsable --partition=icelake $dir/shared/slurm-jobs/small-" "$dir/sbatch.log"
PATH="$dir/bin:$PATH" expect 0 "squeue -j 4242" run "$dir/small.ini" --slurm --results "$dir/shared" --script "$dir/my.sbatch" \
  --binary "$tb_bin"
cp "$dir/bin/sbatch-refuses" "$dir/bin/sbatch"
PATH="$dir/bin:$PATH" expect 2 "refused the job (exit 1): sbatch: error: invalid partition specified" \
  run "$dir/small.ini" --slurm --results "$dir/shared" --partitions nope
wrap= # the wrapper (qemu) found before PATH is emptied
if [ -n "${TB_CLI_WRAPPER:-}" ]; then
  set -- $TB_CLI_WRAPPER
  wrap="$(command -v "$1")"
  shift
  wrap="$wrap $*"
fi
PATH=/nonexistent $wrap "$tb_bin" run "$dir/small.ini" --slurm --results "$dir/shared" >"$out" 2>&1
check "no sbatch: exit 2, says so" [ $? -eq 2 ]
check "no sbatch: the reason and the way out" grep -q "cannot run sbatch: .*--dry-run to write the script only" "$out"

# Refusals, before anything is written or submitted.
expect 2 "needs --results DIR" run "$dir/small.ini" --slurm
expect 2 "unknown feature 'avx9'" run "$dir/small.ini" --slurm --results "$dir/shared" --variants 'none;avx9'
expect 2 "'avx2' given twice" run "$dir/small.ini" --slurm --results "$dir/shared" --variants 'avx2;avx2'
expect 2 "not a partition name" run "$dir/small.ini" --slurm --results "$dir/shared" --partitions 'a b'
expect 2 "not a SLURM time" run "$dir/small.ini" --slurm --results "$dir/shared" --time 'soon;rm'
expect 2 "no meson.build there" run "$dir/small.ini" --slurm --results "$dir/shared" --build "$dir"
expect 2 "give one" run "$dir/small.ini" --slurm --results "$dir/shared" --build "$dir" --binary "$tb_bin"
expect 2 "go with --slurm" run "$dir/small.ini" --partitions zen4
expect 2 "--shard is the script's" run "$dir/small.ini" --slurm --results "$dir/shared" --shard 0/2
expect 2 "expected I/N with 0 <= I < N" run "$dir/small.ini" --shard 2/2
expect 2 "expected I/N" run "$dir/small.ini" --shard x

# --- shards: two halves make the whole; fleet status says complete (exit 0) ------------------
expect 0 "2 done" run "$dir/small.ini" --only k/,acc/ --shard 0/2 --results "$dir/sh"
expect 1 "incomplete" fleet status "$dir/sh"
expect 0 "2 done" run "$dir/small.ini" --only k/,acc/ --shard 1/2 --results "$dir/sh"
expect 0 "complete: every CPU has every point" fleet status "$dir/sh"

# --- a run killed inside a point, then resumed ---------------------------------------------
tb run "$dir/small.ini" --results "$dir/killed" >/dev/null 2>&1 &
bg=$!
for _ in $(seq 1 300); do # until the slow point is under way
  grep -A1 '"slow/' "$dir"/killed/*/small/.runs/*.json 2>/dev/null | grep -q '"running"' && break
  sleep 0.1
done
sleep 0.3
kill -9 $bg 2>/dev/null
wait $bg 2>/dev/null
bg=
tb fleet status "$dir/killed" --json >"$dir/killed.json" 2>/dev/null
json_check "$dir/killed.json" "killed run: its point running, the rest not reached, incomplete" \
  "not d['complete'] and [(c['running'], c['not_reached'], c['done']) for c in d['experiments'][0]['cpus']] == [(1, 2, 2)]"
expect 0 "report.md written" report "$dir/killed" --out "$dir/killed-report"
check "report lists the point not reached" grep -q '`acc/tiny`: not reached' "$dir/killed-report/report.md"
check "report gives the run's state" grep -q '| small | `.*` | 2/5 | 0 | 1 | 2 | 0 |' "$dir/killed-report/report.md"
sed -i 's/rounds = 40/rounds = 3/; s/block-ms = 100/block-ms = 2/' "$dir/small.ini"
expect 0 "3 done, 2 kept" run "$dir/small.ini" --results "$dir/killed"
expect 0 "complete" fleet status "$dir/killed"

# --- a point that fails on one CPU, and a feature hidden: another CPU folder ---------------
# a feature whose loss changes a kernel but leaves the FP16 baseline (hiding avx2 or neon would not)
feature=$(tb info --json | python3 -c "
import json,sys
isa=(json.load(sys.stdin).get('isa') or '').split()
print(next((f for f in ['avx512vnni', 'avxvnni', 'dotprod', 'i8mm'] if f in isa), ''))")
if [ -n "$feature" ]; then
  printf '[experiment]\ndescription = lacking\n[k]\nrun = bench-kernels\nkernels = best, fp16\nshape = 256,512\nm = 1\nthreads = 1\nrounds = 3\nblock-ms = 2\n' >"$dir/lack.ini"
  expect 0 "1 done" run "$dir/lack.ini" --results "$dir/two"
  TRITBENCH_DISABLE=$feature expect 0 "without-$feature/lack/" run "$dir/lack.ini" --results "$dir/two"
  expect 0 "experiment lack: 1 point" fleet status "$dir/two"
  whole=$(ls -d "$dir"/two/*/lack | grep -v -- -without-)
  expect 0 "different CPUs" compare "$whole" "$(ls -d "$dir"/two/*-without-*/lack)"
  tb compare "$whole" "$(ls -d "$dir"/two/*-without-*/lack)" --json >"$dir/cmp.json" 2>/dev/null
  json_check "$dir/cmp.json" "across CPUs, entries matched by the experiment's symbols (best, fp16)" \
    "d['cross_cpu'] and sorted(r['entry'].split()[0] for r in d['speed']) == ['best', 'fp16'] and not d['unmatched']"
  expect 0 "report.md written" report "$dir/two" --out "$dir/two-report"
  check "two CPUs: the report has points per CPU" grep -q "without-$feature" "$dir/two-report/report.md"
  # the best kernel of a CPU that lacks nothing named explicitly fails there, with the reason
  kernel=$(tb kernels --json | python3 -c "
import json,sys
d=json.load(sys.stdin)
ks=[k for k in d['kernels'] if k.get('supported') and '$feature' in (k.get('isa') or '').split()]
print(ks[0]['name'] if ks else '')" 2>/dev/null)
  if [ -n "$kernel" ]; then
    sed "s/kernels = best, fp16/kernels = $kernel, fp16/" "$dir/lack.ini" >"$dir/lack2.ini"
    sed -i 's/description = lacking/description = lacking2/' "$dir/lack2.ini"
    TRITBENCH_DISABLE=$feature expect 1 "cannot run here" run "$dir/lack2.ini" --results "$dir/two"
    expect 0 "done" run "$dir/lack2.ini" --results "$dir/two"
    expect 1 "failed .*cannot run here" fleet status "$dir/two"
  fi
fi

# A malformed status file is named with its field.
mkdir -p "$dir/bad/cpu/x/.runs"
echo '{"schema": "tritbench-run-status/1", "experiment": "x"}' >"$dir/bad/cpu/x/.runs/h.json"
expect 2 "h.json: field 'cpu_slug' is missing" fleet status "$dir/bad"
expect 2 "no experiment results below it" fleet status "$dir/bin"
expect 2 "not a folder" fleet status "$dir/nothing"
expect 2 "give one results folder" fleet status
expect 2 "say what" fleet

[ "$fails" -eq 0 ] && echo "all fleet checks passed" || echo "$fails fleet check(s) failed"
[ "$fails" -eq 0 ]
