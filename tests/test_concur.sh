#!/bin/sh
# Concurrent and interrupted runs: `tritbench run` killed (SIGKILL) at several moments leaves only
# complete documents under result names, and a rerun does only the missing points; two runs of
# one experiment into one folder at once, and several `bench kernels --save` into one folder,
# leave every document whole, each point once; the report of a folder holding a killed run's
# temporary file names it. Usage: test_concur.sh PATH/TO/tritbench
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
# No figures: gnuplot is not what is tested, and under emulation starting it hangs.
TRITBENCH_GNUPLOT=/nonexistent
export TRITBENCH_GNUPLOT
if ! command -v python3 >/dev/null; then
  echo "FAIL: python3 is needed to read the JSON (bash .ci/setup installs it)"
  exit 1
fi

# Twelve accuracy points of a few milliseconds each on the tiny configurations.
exp=$dir/many.ini
printf '%s\n' "[experiment]" "description = killed and concurrent runs" >"$exp"
for s in a b c d e f; do
  printf '%s\n' "[$s]" "run = validate-model" "kernels = i2_scalar" "model = tiny, tiny256" "tokens = 2" >>"$exp"
done
npoints=12

# check_folder FOLDER WHAT: every *.json below FOLDER (but the report's) is a complete point
# document of this experiment, named after its key; prints their count on stdout.
check_folder() {
  python3 - "$1" <<'EOF'
import json, os, sys
folder, n, bad = sys.argv[1], 0, []
for root, dirs, files in os.walk(folder):
    dirs[:] = [d for d in dirs if not d.startswith(".")]  # the runs' status (.runs/): not results
    for f in files:
        if not f.endswith(".json"):
            continue
        p = os.path.join(root, f)
        try:
            d = json.load(open(p))
            ok = (d["schema"] == "tritbench-results/1" and d["kind"] == "accuracy"
                  and d["point"]["experiment"] == "many" and d["results"]
                  and d["point"]["key"].replace("/", "_") + ".json" == f)
        except Exception as e:
            ok = False
        if not ok:
            bad.append(p)
        n += 1
print(n)
for p in bad:
    print("not a complete point document:", p, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# A run killed after DELAY seconds, then resumed.
killed_run() {
  delay=$1 results=$dir/killed-$1
  ${TB_CLI_WRAPPER:-} "$tb_bin" run "$exp" --results "$results" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  folder=$(ls -d "$results"/*/many 2>/dev/null)
  if [ -z "$folder" ]; then
    have=0
  elif ! have=$(check_folder "$folder"); then
    echo "FAIL: killed after ${delay}s: a partial document under a result name"
    fails=$((fails + 1))
    return
  fi
  echo "ok: killed after ${delay}s: $have complete point documents, nothing partial"
  expect 0 "$((npoints - have)) done, $have kept" run "$exp" --results "$results"
  folder=$(ls -d "$results"/*/many)
  n=$(check_folder "$folder") && [ "$n" -eq "$npoints" ] &&
    echo "ok: resumed after ${delay}s: all $npoints points" ||
    { echo "FAIL: resumed after ${delay}s: $n of $npoints points"; fails=$((fails + 1)); }
}
for delay in 0.05 0.1 0.2 0.35; do killed_run "$delay"; done

# A killed write's temporary file and a document cut short (a full disk) in the folder: the
# report names both and uses the other documents; a rerun redoes the cut point.
mkdir -p "$dir/no-tables"
folder=$(ls -d "$dir"/killed-0.35/*/many)
# The run killed above may itself have left a temporary file (when the kill landed in a write;
# the rerun does not delete another run's files): the report skips those as well.
# (Not those of the run's status in the hidden .runs/: readers of results never look there.)
stale=$(find "$folder" -path "$folder/.*" -prune -o -name '*.tmp.*' -print | wc -l)
cp "$folder/a_tiny.json" "$folder/a_tiny.json.tmp.Kil1ed"
head -c 200 "$folder/b_tiny.json" >"$folder/cut" && mv "$folder/cut" "$folder/b_tiny.json"
expect 0 "($((npoints - 1)) documents, $((2 + stale)) skipped" report "$folder" --out "$dir/rep" --published "$dir/no-tables"
grep -q "skipped: .*many/a_tiny.json.tmp.Kil1ed: a temporary file" "$out" &&
  grep -q "skipped: .*many/b_tiny.json: not valid JSON" "$out" &&
  echo "ok: report names the temporary file and the cut document" ||
  { echo "FAIL: report does not name both bad files"; fails=$((fails + 1)); }
expect 0 "1 done, $((npoints - 1)) kept" run "$exp" --results "$dir/killed-0.35"

# Two runs of the experiment into one folder at once: both succeed, each point once and whole,
# no temporary file left, and the report written (under the folder's lock).
${TB_CLI_WRAPPER:-} "$tb_bin" run "$exp" --results "$dir/both" >"$dir/run1.txt" 2>&1 &
p1=$!
${TB_CLI_WRAPPER:-} "$tb_bin" run "$exp" --results "$dir/both" >"$dir/run2.txt" 2>&1 &
p2=$!
wait "$p1" && r1=0 || r1=$?
wait "$p2" && r2=0 || r2=$?
[ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && echo "ok: two concurrent runs exit 0" ||
  { echo "FAIL: concurrent runs exit $r1 and $r2:"; cat "$dir/run1.txt" "$dir/run2.txt"; fails=$((fails + 1)); }
folder=$(ls -d "$dir"/both/*/many)
n=$(check_folder "$folder") && [ "$n" -eq "$npoints" ] &&
  echo "ok: concurrent runs: $npoints whole point documents, each once" ||
  { echo "FAIL: concurrent runs: $n documents (want $npoints), or a bad one"; fails=$((fails + 1)); }
[ -z "$(find "$dir/both" -name '*.tmp.*')" ] && echo "ok: no temporary files left" ||
  { echo "FAIL: temporary files left: $(find "$dir/both" -name '*.tmp.*')"; fails=$((fails + 1)); }
[ -s "$folder/report/report.md" ] && echo "ok: report written" ||
  { echo "FAIL: no report after concurrent runs"; fails=$((fails + 1)); }
expect 0 "0 done, $npoints kept" run "$exp" --results "$dir/both"

# Three `bench kernels --save` at once into one results/<cpu>/ (the same second, most likely):
# three whole documents under three names, none replaced.
mkdir -p "$dir/save"
(
  cd "$dir/save" || exit 1
  for i in 1 2 3; do
    ${TB_CLI_WRAPPER:-} "$tb_bin" bench kernels --kernel i2_scalar --shape 64,128 --rounds 3 \
      --block-ms 1 --roofline-mib 1 --save >/dev/null 2>&1 &
  done
  wait
)
if python3 - "$dir/save" <<'EOF'; then
import glob, json, sys
files = glob.glob(sys.argv[1] + "/results/*/*")
docs = [json.load(open(f)) for f in files]
sys.exit(0 if len(files) == 3 and all(f.endswith(".json") for f in files)
         and all(d["kind"] == "kernels" and d["entries"] for d in docs) else 1)
EOF
  echo "ok: three concurrent --save: three whole documents"
else
  echo "FAIL: three concurrent --save: $(ls "$dir"/save/results/*/)"
  fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && echo "concurrent and interrupted runs: all checks passed"
[ "$fails" -eq 0 ]
