#!/bin/sh
# Peers (harness/peers): ggml's kernels loaded from the installed library (.ci/setup puts the
# pinned npm build of llama.cpp where tritbench looks by default). Each peer passes validation
# against the naive oracle within its derived bound; a wrong symbol binding and a corrupted
# weight block fail validation and get no time in bench kernels; a missing directory, a foreign
# file and a library whose interface moved are refused with one line and exit 2.
# SKIP (77) where no ggml library for this machine is installed (e.g. the aarch64 cross build
# under qemu: the installed one is x86-64).
# Usage: test_peers.sh PATH/TO/tritbench FAKE_GGML_DIR SOURCE_ROOT; TB_CLI_WRAPPER, if set, runs
# the binary. Runs in SOURCE_ROOT (the report reads experiments/published from there).
tb_bin=$1
fake=$2
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
unset TRITBENCH_PEER_FAULT TRITBENCH_KERNEL
# meson points LD_LIBRARY_PATH at the fake ggml it builds for this test (a dependency): it must
# not stand in for the real one that the installed libraries load by name.
unset LD_LIBRARY_PATH
cd "$3" || exit 1

# Refusals first: they need no installed library.
expect 2 "no such directory" kernels --peer-lib /nonexistent/ggml
expect 2 "no such directory" bench kernels --kernel peer:ggml-tq2_0 --peer-lib /nonexistent/ggml
mkdir "$dir/foreign"
echo "not a library" > "$dir/foreign/libggml-base.so"
expect 2 "libggml-base.so: cannot load" validate --kernel peer:ggml-tq2_0 --peer-lib "$dir/foreign"
expect 2 "ABI mismatch" validate --kernel peer:ggml-tq2_0 --peer-lib "$fake"
expect 2 "ABI mismatch" kernels --peer-lib "$fake"

tb kernels --json --out "$dir/kernels.json" >/dev/null 2>&1
status=$(python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['peers']; print(p['status'] if p['status'] == 'loaded' else p['status'] + ': ' + p['reason'])" "$dir/kernels.json" 2>/dev/null)
if [ "$status" != loaded ]; then
  echo "SKIP: no peer library here (${status:-tritbench kernels failed}); bash .ci/setup installs it"
  [ "$fails" -eq 0 ] || exit 1
  exit 77
fi
json_check "$dir/kernels.json" "kernels lists the five ggml peers with the library's version" \
  "sum(k['name'].startswith('peer:ggml-') for k in d['kernels']) == 5 and d['peers']['ggml_version'] != '' and all('ggml' in k['description'] for k in d['kernels'] if k['name'].startswith('peer:'))"
expect 2 "no kernel named 'peer:ggml-q5_0'" validate --kernel peer:ggml-q5_0

# Every peer within its bound: a ragged shape (k past a block of 256 and of 32), m > 1 through
# ggml's blocked mul_mat, every adversarial pattern; and TQ2_0 on the whole conformance suite.
# The bounds are not vacuous: each peer's worst error uses more than 1/64 of its bound (seen:
# 0.08 to 0.6), so a bound made 64 times too loose fails here.
for k in tq2_0 tq1_0 q4_0 q8_0 f16; do
  expect 0 "peer:ggml-$k  *PASS" validate --kernel "peer:ggml-$k" --shape 300,700 --m 17
  tb validate --kernel "peer:ggml-$k" --shape 300,700 --m 17 --json --out "$dir/v.json" >/dev/null 2>&1
  json_check "$dir/v.json" "peer:ggml-$k uses more than 1/64 of its bound" \
    "d['results'][0]['worst_error_over_bound'] > 1.0 / 64"
done
# (The whole suite takes 15 s natively and minutes under the sanitizers, whose run is about
# memory safety, which the shaped cases above already exercise.)
if [ -z "${TB_SANITIZED:-}" ]; then
  expect 0 "peer:ggml-tq2_0  *PASS" validate --kernel peer:ggml-tq2_0
fi

# A wrong binding and a corrupted block are caught, and such a peer is never timed.
TRITBENCH_PEER_FAULT=vec_dot expect 1 "peer:ggml-tq2_0  *FAIL" validate --kernel peer:ggml-tq2_0 --shape 64,512
for k in tq2_0 q4_0 f16; do
  TRITBENCH_PEER_FAULT=weights expect 1 "peer:ggml-$k  *FAIL" validate --kernel "peer:ggml-$k" --shape 64,512
done
TRITBENCH_PEER_FAULT=vec_dot tb bench kernels --shape 256,512 --kernel i2_scalar,peer:ggml-tq2_0 \
  --rounds 3 --block-ms 1 --json --out "$dir/fault.json" >/dev/null 2>&1
json_check "$dir/fault.json" "bench kernels gives a peer that fails validation no time" \
  "[(e['kernel'], 'median_s' in e) for e in d['entries']] == [('i2_scalar', True), ('peer:ggml-tq2_0', False)] and 'failed validation' in d['entries'][1]['error']"

# Timed beside tritbench's kernels, ratios against a peer.
tb bench kernels --shape 256,512 --m 1,3 --kernel i2_scalar,peer:ggml-tq2_0,peer:ggml-f16 \
  --baseline peer:ggml-tq2_0 --rounds 3 --block-ms 1 --json --out "$dir/bench.json" >/dev/null 2>&1
json_check "$dir/bench.json" "bench kernels times the peers, ratios against peer:ggml-tq2_0" \
  "d['parameters']['baseline'] == 'peer:ggml-tq2_0' and len(d['entries']) == 6 and all(e.get('median_s', 0) > 0 for e in d['entries']) and d['peers']['ggml_version'] != ''"

# An experiment names peers like kernels (bench-kernels only), and the report of its results
# gets a peers table.
cat > "$dir/peers.ini" <<EOF
[experiment]
description = test: a kernel against a peer
[k]
run = bench-kernels
kernels = i2_scalar, peer:ggml-tq2_0
baseline = peer:ggml-tq2_0
shape = 256, 512
rounds = 3
block-ms = 1
EOF
sed 's/run = bench-kernels/run = bench-model/; s/shape = 256, 512/model = tiny/; /rounds/d; /block-ms/d; /baseline/d' \
  "$dir/peers.ini" > "$dir/peers-model.ini"
expect 2 "peers are kernels of bench-kernels steps only" run "$dir/peers-model.ini" --dry-run
expect 0 "1 done" run "$dir/peers.ini" --results "$dir/res"
expect 0 "written" report "$dir/res" --out "$dir/report"
if grep -q "^## Peers" "$dir/report/report.md" && grep -q "| i2_scalar | .* | [0-9.]*x |" "$dir/report/report.md"; then
  echo "ok: the report has a peers table with paired ratios against the run's peer baseline"
else
  echo "FAIL: no peers table with ratios in $dir/report/report.md"
  fails=$((fails + 1))
fi

[ "$fails" -eq 0 ]
