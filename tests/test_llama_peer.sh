#!/bin/sh
# bench model --peer llama.cpp (issue 13): llama.cpp's engine, loaded at run time from the
# installed libllama, timed beside tritbench's on one TQ2_0 file written by `model create`;
# a missing or foreign library refused with one line and exit 2; a file llama.cpp cannot run
# reported with its reason while tritbench's figures still are.
# Usage: test_llama_peer.sh PATH/TO/tritbench DEFAULT_PEER_DIR SANITIZE SOURCE_ROOT (the report
# of the experiment below reads experiments/published there)
# Exit 77 (skipped) where there is no llama.cpp to load: no library installed (.ci/setup puts the
# pinned build in DEFAULT_PEER_DIR; TRITBENCH_GGML_DIR overrides), a cross build (the library is
# the host's), or a sanitizer build: libllama is C++ built without ASan (its allocations,
# threads and C++ runtime are outside what ASan/UBSan check), and loading it into a sanitized
# process has not been validated: skipped rather than made to fail on a foreign library.
tb_bin=$1 peer_dir=${TRITBENCH_GGML_DIR:-$2} sanitize=$3 src=$4
if [ -n "${TB_CLI_WRAPPER:-}" ]; then
  echo "SKIP: cross build: the installed llama.cpp is built for the host"
  exit 77
fi
if [ "$sanitize" != "none" ]; then
  echo "SKIP: sanitizer build ($sanitize): libllama is an uninstrumented C++ library, not"
  echo "      validated inside a sanitized process; the plain build runs this test"
  exit 77
fi
if ! ls "$peer_dir"/libllama*.so >/dev/null 2>&1; then
  echo "SKIP: no libllama*.so in $peer_dir (install the pinned build with .ci/setup, or set"
  echo "      TRITBENCH_GGML_DIR to a llama.cpp build's library directory)"
  exit 77
fi
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT
export TRITBENCH_GGML_DIR="$peer_dir"

expect 0 "wrote" model create --config tiny256 --format tq2_0 --out "$dir/m.gguf"
# Our engine still reads what llama.cpp reads (architecture "bitnet", the vocabulary arrays).
expect 0 "vocab 301" model info --model "$dir/m.gguf"

# Both engines on the same file, their rates and ratios side by side.
run="bench model --model $dir/m.gguf --peer llama.cpp --threads 1 --prompt 4 --tokens 4 --reps 2"
expect 0 "tritbench / llama.cpp" $run --out "$dir/r.json"
json_check "$dir/r.json" "both engines timed" \
  "d['entries'][0]['decode_tokens_per_s'] > 0 and d['entries'][0]['prefill_tokens_per_s'] > 0 and \
   d['peer']['engine'] == 'llama.cpp' and 'error' not in d['peer'] and \
   d['peer']['entries'][0]['decode_tokens_per_s'] > 0 and \
   d['peer']['entries'][0]['prefill_tokens_per_s'] > 0 and \
   d['peer']['entries'][0]['tritbench_over_peer']['decode'] > 0 and \
   len(d['peer']['entries'][0]['decode_tokens_per_s_reps']) == 2"

# A configuration: written to a temporary file both engines read, removed afterwards. tiny's
# vocabulary (97) is too small for the placeholder one llama.cpp needs: its reason is printed,
# tritbench's figures still are, exit 0.
export TMPDIR="$dir"
expect 0 "llama.cpp cannot run the file: .*tokenizer" bench model --model tiny --peer llama.cpp \
  --threads 1 --prompt 4 --tokens 4 --reps 1
if ls "$dir" | grep -q tritbench-peer; then
  echo "FAIL: the temporary model file was left in $dir"
  fails=$((fails + 1))
fi

# No library, a directory without one, an unknown peer: one line, exit 2.
expect 2 "/nonexistent (--peer-lib): no such directory" $run --peer-lib /nonexistent
lines=$(tb $run --peer-lib /nonexistent 2>&1 | wc -l)
if [ "$lines" -ne 1 ]; then
  echo "FAIL: a missing peer library printed $lines lines, not one"
  fails=$((fails + 1))
fi
expect 2 "not a llama.cpp build" $run --peer-lib "$dir"
expect 2 "--peer: expected llama.cpp, got 'vllm'" bench model --model "$dir/m.gguf" --peer vllm
expect 2 "needs --peer llama.cpp" bench model --model "$dir/m.gguf" --peer-lib "$peer_dir"
expect 2 "not with --layer-sampled" bench model --model 2B4T --layer-sampled --peer llama.cpp

# An experiment's bench-model step names the peer (peer = llama.cpp), and the report gets the
# peer engines' table.
cat > "$dir/e2e.ini" <<EOF
[experiment]
description = test: both engines on one file
[m]
run = bench-model
model = $dir/m.gguf
peer = llama.cpp
prompt = 4
tokens = 4
reps = 2
EOF
(cd "$src" && tb run "$dir/e2e.ini" --results "$dir/res" >"$out" 2>&1 && tb report "$dir/res" --out "$dir/rep" >>"$out" 2>&1)
if grep -q "^## Peer engines" "$dir/rep/report.md" 2>/dev/null &&
  grep -q "| llama.cpp | .* | [0-9.]*x (" "$dir/rep/report.md"; then
  echo "ok: an experiment runs the peer engine and the report has its table"
else
  echo "FAIL: experiment with peer = llama.cpp, or its report table:"
  sed 's/^/    /' "$out" | tail -5
  fails=$((fails + 1))
fi
sed 's/^peer = llama.cpp/peer = vllm/' "$dir/e2e.ini" > "$dir/e2e-bad.ini"
expect 2 "peer.*vllm" run "$dir/e2e-bad.ini" --dry-run

[ "$fails" -eq 0 ] || exit 1
