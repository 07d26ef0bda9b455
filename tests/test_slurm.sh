#!/bin/bash
# A fleet run through a real SLURM (issue 15): a single-node cluster on localhost from Debian's
# slurm-wlm and munge (tests/slurm_cluster.sh: every file in a temporary folder), the quick
# experiment submitted by `tritbench run quick --slurm` as a job array of two tasks, the whole
# CPU and the CPU with a feature hidden standing in for two CPU kinds. Checks: both tasks
# COMPLETED, each result names its job and pinned threads, `fleet status` complete, the report
# of the shared folder has both CPUs side by side, compare gives ratios across them.
# Only the quick points of a few seconds (decode-hot, accuracy), so CI stays short: the prefill,
# cold-weight and end-to-end points take minutes per CPU and add nothing to what is checked.
# SKIP (77): no SLURM installed, not root, a sanitizer build (the point is SLURM, not memory
# errors, and test_fleet covers the code under ASan), a cross build under qemu.
# Usage: test_slurm.sh PATH/TO/tritbench SOURCE_ROOT
tb_bin=$(realpath "$1")
src=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/cli_expect.sh"
. "$here/slurm_cluster.sh"
[ -z "${TB_CLI_WRAPPER:-}" ] || { echo "SKIP: cross build under qemu: SLURM runs native binaries"; exit 77; }
[ -z "${TB_SANITIZED:-}" ] || { echo "SKIP: sanitizer build ($TB_SANITIZED): test_fleet covers the code"; exit 77; }
why=$(slurm_cluster_available) || { echo "SKIP: $why"; exit 77; }

dir=$(mktemp -d)
chmod 755 "$dir" # munged wants every folder above its socket open to all
trap 'slurm_cluster_stop "$dir/cluster"; rm -rf "$out" "$dir"' EXIT
check() {
  what=$1
  shift
  if "$@"; then echo "ok: $what"; else
    echo "FAIL: $what"
    fails=$((fails + 1))
    fail_fast
  fi
}

slurm_cluster_start "$dir/cluster" || { echo "FAIL: the test cluster did not start"; exit 1; }
# A feature this CPU has, hidden in the second task: another CPU as far as kernels can tell.
# a feature whose loss changes a kernel but leaves the FP16 baseline (hiding avx2 or neon would not)
feature=$(tb info --json | python3 -c "
import json,sys
isa=(json.load(sys.stdin).get('isa') or '').split()
print(next((f for f in ['avx512vnni', 'avxvnni', 'dotprod', 'i8mm'] if f in isa), ''))")
[ -n "$feature" ] || { echo "SKIP: this CPU reports no ISA feature to hide"; exit 77; }

cd "$src" || exit 1 # the script runs where it was submitted from: plots/ for the figures
expect 0 "submitted job" run quick --slurm --results "$dir/shared" --variants "none;$feature" \
  --only decode-hot,accuracy --time 0:15:00 --binary "$tb_bin" --out "$dir/sub.json"
job=$(python3 -c "import json; print(json.load(open('$dir/sub.json'))['jobs'][0]['job_id'])")
check "job $job finished within 10 minutes" slurm_wait_job "$job" 600
slurm_job_states "$job" >"$dir/states"
cat "$dir/states"
check "both array tasks COMPLETED with exit 0" \
  [ "$(cat "$dir/states")" = "$(printf '0 COMPLETED 0:0\n1 COMPLETED 0:0')" ]
for f in "$dir"/shared/slurm-jobs/*.out; do sed 's/^/    /' "$f" | tail -4; done

whole=$(ls -d "$dir"/shared/*/quick | grep -v -- -without-)
hidden=$(ls -d "$dir"/shared/*-without-"$feature"/quick)
check "two CPU folders: $(basename "$(dirname "$whole")") and $(basename "$(dirname "$hidden")")" \
  [ -d "$whole" ] && [ -d "$hidden" ]
json_check "$(ls "$hidden"/decode-hot_*.json | head -1)" "a result names its SLURM job and task, threads pinned" \
  "d['info']['slurm']['array_job_id'] == '$job' and d['info']['slurm']['array_task_id'] == '1' and d['info']['threads_pinned'] == 'cores' and d['info']['isa_hidden'] == '$feature'"
expect 0 "complete: every CPU has every point" fleet status "$dir/shared"
tb fleet status "$dir/shared" --json >"$dir/status.json"
json_check "$dir/status.json" "fleet status: two CPUs, 6 points each, each run's job and task" \
  "[(c['done'], c['runs'][0]['slurm_job']) for c in d['experiments'][0]['cpus']] == [(6, '${job}_0'), (6, '${job}_1')]"
expect 0 "report.md written" report "$dir/shared" --out "$dir/report"
check "report: the kernels table has a column of each CPU" \
  grep -qE "\| $(basename "$(dirname "$whole")") GMAC/s .*\| $(basename "$(dirname "$hidden")") GMAC/s" "$dir/report/report.md"
check "report: points per CPU, both complete, with their job" \
  [ "$(grep -c "| quick | .* | 6/6 | 0 | 0 | 0 | 0 | .*(job ${job}_" "$dir/report/report.md")" = 2 ]
expect 0 "different CPUs" compare "$whole" "$hidden"
tb compare "$whole" "$hidden" --json >"$dir/cmp.json" 2>/dev/null
json_check "$dir/cmp.json" "compare: a ratio for best and fp16 of every decode point, matched by symbol" \
  "len(d['speed']) == 8 and all(r['entry'].split()[0] in ('best', 'fp16') and r['ratio'] > 0 for r in d['speed'])"

[ "$fails" -eq 0 ] && echo "all SLURM checks passed" || echo "$fails SLURM check(s) failed"
[ "$fails" -eq 0 ]
