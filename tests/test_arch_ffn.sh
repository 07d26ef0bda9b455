#!/bin/sh
# Architectures (issue 16, part 4): every model file computed as its architecture means it.
# bitnet files without hidden_activation compute a SiLU FFN, bitnet-b1.58 files relu2, the
# key decides when present, --ffn above all; engine and reference agree for both activations;
# scale tensors change the model; a 2B4T-shaped file computed with SiLU is warned about once.
# Usage: test_arch_ffn.sh PATH/TO/tritbench PATH/TO/test_gguf
# TB_CLI_WRAPPER, if set, runs the binaries (qemu-aarch64 for the cross build).
tb_bin=$1 gguf_bin=$2
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

# Bad input: exit 2, the option and the value named.
expect 2 "'gelu' must be relu2 or silu" generate --model tiny --ffn gelu
expect 2 "'relu' must be relu2 or silu" bench model --model tiny --ffn relu
expect 2 "'x' must be relu2 or silu" validate --model tiny --ffn x
expect 2 "--ffn needs --model" validate --ffn silu
expect 2 "unknown architecture 'llama'" model create --config tiny --out "$dir/x.gguf" --arch llama
expect 2 "expected relu2, silu or none, got 'gelu'" model create --config tiny --out "$dir/x.gguf" --hidden-activation gelu
expect 2 "architecture bitnet-b1.58 does not read scale tensors" model create --config tiny --out "$dir/x.gguf" --tensor-scales

# One synthetic model (tiny, seed 2) in files that say different things about their FFN.
expect 0 "architecture bitnet, hidden_activation relu2" model create --config tiny --seed 2 --format f32 --out "$dir/relu2.gguf"
expect 0 "hidden_activation none" model create --config tiny --seed 2 --format f32 --hidden-activation none --out "$dir/nokey.gguf"
expect 0 "hidden_activation silu" model create --config tiny --seed 2 --format f32 --hidden-activation silu --out "$dir/silu.gguf"
expect 0 "architecture bitnet-b1.58, hidden_activation none" model create --config tiny --seed 2 --hidden-activation none --out "$dir/b158.gguf"
expect 0 "scale tensors" model create --config tiny --seed 2 --format f32 --tensor-scales --out "$dir/scaled.gguf"
expect 0 "FFN silu (from the architecture); architecture bitnet" model info --model "$dir/nokey.gguf"
expect 0 "FFN relu2 (from the hidden_activation)" model info --model "$dir/relu2.gguf"
expect 0 "FFN relu2 (from the architecture); architecture bitnet-b1.58" model info --model "$dir/b158.gguf"
expect 0 "scale tensors: 14 (each multiplies its BitLinear's output)" model info --model "$dir/scaled.gguf"
tb model info --model "$dir/relu2.gguf" --json >"$dir/info.json" 2>/dev/null
json_check "$dir/info.json" "model info --json: the architecture, the FFN, no scale tensors" \
  'd["architecture"] == "bitnet" and d["config"]["ffn"] == "relu2" and d["scale_tensors"] == 0'

# The engine on every kernel against the reference, FFN as each file says: all within the
# bound. NAME MODEL [OPTIONS]: the document into $dir/NAME.json.
validate_to() {
  name=$1
  shift
  tb validate --tokens 4 --json --model "$@" >"$dir/$name.json" 2>"$dir/$name.err"
}
validate_to cfg tiny --seed 2
validate_to cfg_silu tiny --seed 2 --ffn silu
validate_to relu2 "$dir/relu2.gguf"
validate_to nokey "$dir/nokey.gguf"
validate_to nokey_relu2 "$dir/nokey.gguf" --ffn relu2
validate_to silu "$dir/silu.gguf"
validate_to relu2_silu "$dir/relu2.gguf" --ffn silu
validate_to b158 "$dir/b158.gguf"
validate_to scaled "$dir/scaled.gguf"
for name in cfg cfg_silu relu2 nokey nokey_relu2 silu relu2_silu b158 scaled; do
  json_check "$dir/$name.json" "validate --model ($name): every kernel built here passes or is skipped" \
    'len(d["results"]) > 1 and all(r["status"] in ("PASS", "SKIP") for r in d["results"]) and any(r["status"] == "PASS" and r["exact"] for r in d["results"])'
done

# What each computed: the naive kernel's logits hash (bit-identical logits, same hash).
hash_is() { # FILE_A what EXPR over a, b (the naive hashes) and da (FILE_A's document); FILE_B
  json_check "$1" "$2" "(lambda a, b: $3)(next(r['logits_fnv1a'] for r in d['results'] if r['kernel'] == 'naive'), next(r['logits_fnv1a'] for r in json.load(open('$4'))['results'] if r['kernel'] == 'naive'))"
}
json_check "$dir/nokey.json" "bitnet without hidden_activation: silu, from the architecture" \
  'd["config"]["ffn"] == "silu" and d["config"]["ffn_source"] == "architecture"'
json_check "$dir/relu2.json" "bitnet with hidden_activation relu2: relu2, from the key" \
  'd["config"]["ffn"] == "relu2" and d["config"]["ffn_source"] == "hidden_activation"'
json_check "$dir/nokey_relu2.json" "--ffn relu2 overrides the architecture" \
  'd["config"]["ffn"] == "relu2" and d["config"]["ffn_source"] == "override"'
json_check "$dir/b158.json" "bitnet-b1.58 without hidden_activation: relu2, from the architecture" \
  'd["config"]["ffn"] == "relu2" and d["config"]["ffn_source"] == "architecture"'
json_check "$dir/cfg.json" "a configuration computes relu2" \
  'd["config"]["ffn"] == "relu2" and d["config"]["ffn_source"] == "configuration"'
hash_is "$dir/relu2.json" "a relu2 file computes the synthetic model" 'a == b' "$dir/cfg.json"
hash_is "$dir/b158.json" "a bitnet-b1.58 file without the key computes relu2" 'a == b' "$dir/cfg.json"
hash_is "$dir/nokey.json" "relu2 and silu give other logits on the same weights" 'a != b' "$dir/relu2.json"
hash_is "$dir/nokey.json" "a bitnet file without the key computes silu" 'a == b' "$dir/silu.json"
hash_is "$dir/nokey.json" "--ffn silu on a relu2 file computes silu" 'a == b' "$dir/relu2_silu.json"
hash_is "$dir/nokey.json" "--ffn silu on the configuration computes the same silu" 'a == b' "$dir/cfg_silu.json"
hash_is "$dir/nokey_relu2.json" "--ffn relu2 on a bitnet file without the key computes relu2" 'a == b' "$dir/relu2.json"
hash_is "$dir/scaled.json" "scale tensors 0.5, 1, 2 change what the model computes" 'a != b' "$dir/relu2.json"

# generate and bench model say and record which FFN they ran.
expect 0 "FFN silu (architecture)" generate --model "$dir/nokey.gguf" --tokens 3
tb generate --model "$dir/nokey.gguf" --tokens 3 --ffn relu2 --json >"$dir/gen.json" 2>/dev/null
json_check "$dir/gen.json" "generate --ffn relu2: recorded as an override" \
  'd["config"]["ffn"] == "relu2" and d["config"]["ffn_source"] == "override"'
tb bench model --model "$dir/relu2.gguf" --ffn silu --prompt 2 --tokens 2 --reps 1 --json >"$dir/bench.json" 2>/dev/null
json_check "$dir/bench.json" "bench model --ffn silu: recorded in its parameters" \
  'd["parameters"]["config"]["ffn"] == "silu" and d["parameters"]["config"]["ffn_source"] == "override" and len(d["entries"]) >= 1'

# 2B4T's signature (LLaMA 3's vocabulary, 20 heads over 5 KV heads) in a bitnet file without
# hidden_activation: one warning on stderr per run, none with --ffn relu2.
warning="this looks like BitNet b1.58 2B4T"
if ${TB_CLI_WRAPPER:-} "$gguf_bin" --write-signature-file "$dir/sig.gguf"; then
  expect 0 "$warning" model info --model "$dir/sig.gguf"
  tb generate --model "$dir/sig.gguf" --tokens 2 >"$dir/sig.out" 2>"$dir/sig.err"
  n=$(grep -c "$warning" "$dir/sig.err")
  if [ "$n" -eq 1 ] && grep -q "\-\-ffn relu2 computes it as 2B4T" "$dir/sig.err" &&
    ! grep -q "$warning" "$dir/sig.out"; then
    echo "ok: generate on a 2B4T-shaped bitnet file: one warning on stderr"
  else
    echo "FAIL: generate on a 2B4T-shaped bitnet file: $n warnings on stderr, wanted 1:"
    sed 's/^/    /' "$dir/sig.err" | head -5
    fails=$((fails + 1))
    fail_fast
  fi
  # An experiment opens the file once a point: still one warning for the whole run.
  printf '%s\n' "[experiment]" "description = twice the 2B4T-shaped file" "[a]" "run = validate-model" \
    "kernels = naive" "model = $dir/sig.gguf" "tokens = 2" "[b]" "run = validate-model" \
    "kernels = naive" "model = $dir/sig.gguf" "tokens = 2" "seed = 2" >"$dir/twice.ini"
  tb run "$dir/twice.ini" --results "$dir/results" >"$dir/run.out" 2>"$dir/run.err"
  n=$(grep -c "$warning" "$dir/run.err")
  if [ "$n" -eq 1 ] && grep -q "2 done" "$dir/run.out" "$dir/run.err"; then
    echo "ok: an experiment with two points on a 2B4T-shaped bitnet file: one warning"
  else
    echo "FAIL: an experiment with two points on a 2B4T-shaped bitnet file: $n warnings, wanted 1:"
    sed 's/^/    /' "$dir/run.out" "$dir/run.err" | head -8
    fails=$((fails + 1))
    fail_fast
  fi
  tb generate --model "$dir/sig.gguf" --tokens 2 --ffn relu2 >/dev/null 2>"$dir/sig2.err"
  if grep -q "$warning" "$dir/sig2.err"; then
    echo "FAIL: generate --ffn relu2 on a 2B4T-shaped file still warns"
    fails=$((fails + 1))
    fail_fast
  else
    echo "ok: generate --ffn relu2 on a 2B4T-shaped file: no warning"
  fi
else
  echo "FAIL: test_gguf --write-signature-file did not write the file"
  fails=$((fails + 1))
fi

if [ "$fails" -ne 0 ]; then
  echo "$fails failures"
  exit 1
fi
echo "architecture tests passed"
