#!/bin/sh
# tritbench report on fixture results from two CPUs (tests/fixtures/report): the tables side by
# side with the published values, the layer-sampled label, skipped points, energy unavailable
# reasons, PNG figures (or the note that gnuplot is missing); malformed, truncated and foreign
# input refused with exit 2 naming the file and field, and no report.md left behind.
# Usage: test_report.sh PATH/TO/tritbench SOURCE_ROOT (run from SOURCE_ROOT: default paths).
tb_bin=$1
src=$2
# Under qemu-user an emulated, dynamically linked program hangs starting another process (as it
# does starting a thread), and the report starts gnuplot for every figure: tested natively.
if [ -n "${TB_CLI_WRAPPER:-}" ]; then
  echo "SKIP: emulated (qemu-user hangs when an emulated dynamic binary starts gnuplot); the report is tested natively"
  exit 77
fi
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
fx=$src/tests/fixtures/report
cd "$src" || exit 1

# contains FILE WHAT PATTERN: a line of FILE matches the grep pattern.
contains() {
  if grep -q -- "$3" "$1"; then
    echo "ok: $2"
  else
    echo "FAIL: $2: no line of $1 matches: $3"
    fails=$((fails + 1))
  fi
}

# is_png FILE: exists and starts with the PNG signature.
is_png() {
  if [ "$(head -c 8 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]; then
    echo "ok: $1 is a PNG"
  else
    echo "FAIL: $1 is missing or not a PNG"
    fails=$((fails + 1))
  fi
}

expect 2 "give result files or folders" report
expect 0 "report.md written" report "$fx/results" --out "$dir/r"
# A results tree also holds a CPU's tune.json: not a measurement, left out of the report.
mkdir -p "$dir/tree" && cp -r "$fx/results/." "$dir/tree/"
cp "$(dirname "$0")/fixtures/tune/other-cpu.json" "$dir/tree/intel-core-i7-fixture/tune.json"
n_docs=$(find "$fx/results" -name '*.json' | wc -l)
expect 0 "($n_docs documents" report "$dir/tree" --out "$dir/tree-report"
expect 2 "expected kernels, model, accuracy or perplexity" report "$dir/tree/intel-core-i7-fixture/tune.json" --out "$dir/tune-report"
md=$dir/r/report.md
x86=intel-core-i7-fixture arm=arm-neoverse-n1-fixture
contains "$md" "both CPUs side by side" "^| model | threads | $arm kernel .* $x86 kernel "
contains "$md" "measured row with speedup" "^| 350M | 2 | i2_neon_sdot | 98.00 | 28.00 | 3.50x | i2_avx512vnni | 140.00 | 40.00 | 3.50x |"
contains "$md" "published i7-13700H and M2 Ultra values" "| 350M | 2 .*| 56.67 | 172.95 | 3.05 | 185.56 | 281.51 | 1.52 |"
contains "$md" "layer-sampled label" "| 1B | 2 | i2_neon_sdot | 49.00 (layer-sampled: 2 and 4 of 24 layers timed, extrapolated) | 11.90 (layer-sampled) |"
contains "$md" "skipped point with its reason" "$x86.*tg/70B/threads=2: skipped (needs 61.2 GiB, 22.9 GiB available)"
contains "$md" "energy unavailable reason" "| 125M | 1 | unavailable (no /sys/class/powercap (virtual machine?)) | unavailable"
contains "$md" "energy measured" "| 125M | 2 | .* | 0.125 | 1.023 |"
contains "$md" "ternary kernels end to end against i2" "^| 350M | 2 | lut3_avx512 | - | - | - | - | 1.67 | 70.00 | 420.0 | 0.50x |"
contains "$md" "the bounding roof: compute" "^| 2560x2560 | 128 | hot | 1 | i2_avx512vnni | - | - | - | 150.00 | 37.5 | compute vpdpbusd-512 |"
contains "$md" "the bounding roof: DRAM bandwidth, paired fraction" "^| 2560x2560 | 1 | cold | 1 | i2_avx512vnni | - | - | - | 36.00 | 60.0 | dram bw, paired |"
contains "$md" "a fraction without its method: against the best pass" "^| 2560x2560 | 128 | cold | 1 | i2_avx512vnni | - | - | - | 90.00 | 50.0 | dram bw, best pass |"
contains "$md" "kernels table" "^| 2560x6912 | 1 | cold | 1 | i2_avx512vnni | - | - | - | 36.00 | 36.0 | dram bw |"
contains "$md" "kernel without accuracy data" "| lut2_neon | 2.00 | 24.50 | no accuracy data |"
if command -v gnuplot >/dev/null; then
  for f in tg-vs-size tg-vs-threads kernels-m-hot-1t kernels-m-cold-1t choice-1 choice-2; do
    is_png "$dir/r/$f.png"
    contains "$md" "figure $f in the report" "!\[.*\]($f.png)"
  done
  # Series rows go by ascending m (a line drawn 1, 32, 8 doubles back on itself).
  if ! awk '/^"/ { last = 0; next } NF >= 3 { if ($1 < last) bad = 1; last = $1 } END { exit bad }' \
      "$dir/r/kernels-m-hot-1t.dat"; then
    echo "FAIL: kernels-m-hot-1t.dat rows not sorted by m"; fails=$((fails + 1))
  fi
  if ls "$dir/r" | grep -q '\.tmp\.'; then
    echo "FAIL: temporary files left in $dir/r"; fails=$((fails + 1))
  fi
else
  contains "$md" "no gnuplot: figures unavailable" "^Figures are unavailable: gnuplot is not installed"
fi
# Without gnuplot the report is still written and says why.
TRITBENCH_GNUPLOT=/nonexistent/gnuplot expect 0 "figures unavailable" report "$fx/results" --out "$dir/nogp"
contains "$dir/nogp/report.md" "report says figures are unavailable" "^Figures are unavailable: gnuplot is not installed"
contains "$dir/nogp/report.md" "tables still there" "^| 350M | 2 | i2_neon_sdot"
[ -e "$dir/nogp/tg-vs-size.png" ] && { echo "FAIL: a PNG without gnuplot"; fails=$((fails + 1)); }
# One CPU only: a folder below results/.
expect 0 '"report":' report "$fx/results/$x86/paper-2410.16144" --out "$dir/one" --json
contains "$dir/one/report.md" "one CPU only" "^| model | threads | $x86 kernel | $x86 ternary tok/s | $x86 FP16 tok/s | $x86 speedup | i7-13700H"

# Bad input: exit 2 naming file and field, no report.md.
expect 2 "truncated.json: not valid JSON" report "$fx/results" "$fx/bad/truncated.json" --out "$dir/bad1"
expect 2 "foreign.json: field 'schema' is \"someone-else/2\"" report "$fx/bad/foreign.json" --out "$dir/bad2"
expect 2 "missing-field.json: field 'entries\[3\].gmacs' is missing" report "$fx/bad/missing-field.json" --out "$dir/bad3"
expect 2 "wrong-kind.json: field 'kind' is \"weather\"" report "$fx/bad/wrong-kind.json" --out "$dir/bad4"
expect 2 "no-cpu.json: field 'info.cpu_slug'" report "$fx/bad/no-cpu.json" --out "$dir/bad5"
expect 2 "broken.tsv:4: 2 tab-separated fields, the header has 3" report "$fx/results" --published "$fx/bad-published" --out "$dir/bad6"
expect 2 "nosuch: No such file or directory" report "$dir/nosuch" --out "$dir/bad7"
for d in bad1 bad2 bad3 bad4 bad5 bad6 bad7; do
  [ -e "$dir/$d/report.md" ] && { echo "FAIL: $d/report.md written for bad input"; fails=$((fails + 1)); }
done
# In a folder, a stray temporary file (a run killed while writing) and a cut or empty document
# are skipped, each named on stderr and in report.md; the report uses the other documents.
mkdir -p "$dir/damaged" && cp -r "$fx/results/." "$dir/damaged/"
ndocs=$(find "$dir/damaged" -name '*.json' | wc -l | tr -d ' ')
k=$dir/damaged/intel-core-i7-fixture/kernel-sweep
cp "$k/kernels.json" "$k/kernels.json.tmp.Ab12Cd"
head -c 300 "$k/kernels.json" >"$k/cut.json"
: >"$k/empty.json"
expect 0 "($ndocs documents, 3 skipped" report "$dir/damaged" --out "$dir/dmg"
for want in "skipped: .*kernel-sweep/cut.json: not valid JSON (at byte" "skipped: .*kernel-sweep/empty.json: not valid JSON" \
  "skipped: .*kernel-sweep/kernels.json.tmp.Ab12Cd: a temporary file of an unfinished write"; do
  grep -q -- "$want" "$out" && echo "ok: warned: $want" || { echo "FAIL: no warning: $want"; fails=$((fails + 1)); }
done
contains "$dir/dmg/report.md" "report.md counts the documents used" "^$ndocs result documents from 2 CPUs"
contains "$dir/dmg/report.md" "report.md names the skipped files" "^- .*kernel-sweep/cut.json: not valid JSON"
# Named on the command line, a cut document is still refused (above: bad1).

# A failing gnuplot script is an error naming the script; no report.md.
mkdir -p "$dir/plots" && cp plots/*.gp "$dir/plots/" && echo 'plot nonsense_function(x)' >"$dir/plots/tg_vs_size.gp"
expect 2 "plots/tg_vs_size.gp: gnuplot failed" report "$fx/results" --plots "$dir/plots" --out "$dir/bad8"
[ -e "$dir/bad8/report.md" ] && { echo "FAIL: report.md written after gnuplot failed"; fails=$((fails + 1)); }
[ -n "$(ls "$dir/bad8" | grep '\.tmp\.')" ] && { echo "FAIL: temporary files left after gnuplot failed"; fails=$((fails + 1)); }

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
