#!/bin/bash
# tritbench perplexity on token ids (issue 16): every exact kernel gives bit-identical
# perplexity and KL 0 against naive; the float baselines' KL is reported and positive; the
# scored tokens are the second halves of the chunks (ctx/2 - 1 each); a chunk's figures do not
# depend on the text after it; refusals name the problem. The text path (the model's tokenizer)
# is tests/test_tokenizer.sh's. Usage: test_perplexity.sh PATH/TO/tritbench
tb_bin=$1
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

python3 -c "
import random
random.seed(3)
print(' '.join(str(random.randrange(256)) for _ in range(700)))" >"$dir/ids.txt"
# Every kernel on 10 chunks; 3 under qemu (an emulated CPU is ~20x slower, and the checks are
# the same).
chunks=10
[ -z "${TB_CLI_WRAPPER:-}" ] || chunks=3
expect 0 "naive" perplexity --model tiny256 --tokens "$dir/ids.txt" --ctx 64 --chunks $chunks --out "$dir/all.json"
json_check "$dir/all.json" "$chunks chunks of 64, 31 tokens scored in each, the reference first" \
  "d['chunks'] == $chunks and d['results'][0]['kernel'] == 'naive' and all(r['scored_tokens'] == 31 * $chunks for r in d['results'])"
json_check "$dir/all.json" "every exact kernel: the reference's perplexity bit for bit, KL 0, top-1 100 %" \
  "len([r for r in d['results'] if r['exact']]) >= 3 and all(r['perplexity'] == d['results'][0]['perplexity'] and r['kl_vs_reference'] == 0 and r['top1_vs_reference'] == 1 for r in d['results'] if r['exact'])"
json_check "$dir/all.json" "float baselines: KL against naive reported, positive, small" \
  "any(not r['exact'] for r in d['results']) and all(0 < r['kl_vs_reference'] < 0.1 for r in d['results'] if not r['exact'])"
json_check "$dir/all.json" "perplexity with its standard error, finite and positive" \
  "all(r['perplexity'] > 1 and 0 < r['perplexity_stderr'] < r['perplexity'] for r in d['results'])"
# The first chunk alone: the same figures whatever follows it in the text.
head -c 2000 "$dir/ids.txt" | python3 -c "import sys; print(' '.join(sys.stdin.read().split()[:64]))" >"$dir/first.txt"
expect 0 "1 chunks of 64" perplexity --model tiny256 --tokens "$dir/first.txt" --ctx 64 --kernel naive --out "$dir/one.json"
expect 0 "1 chunks of 64" perplexity --model tiny256 --tokens "$dir/ids.txt" --ctx 64 --chunks 1 --kernel naive --out "$dir/onec.json"
python3 - "$dir/one.json" "$dir/onec.json" <<'PY' && echo "ok: a chunk's perplexity does not depend on the text after it" || { echo "FAIL: --chunks 1 differs from the first chunk alone"; fails=$((fails + 1)); }
import json, sys
a, b = (json.load(open(f))['results'][0] for f in sys.argv[1:3])
sys.exit(0 if a['perplexity'] == b['perplexity'] and a['scored_tokens'] == b['scored_tokens'] == 31 else 1)
PY

# As an experiment step (run = perplexity): one document per point, a report table, and compare
# of two runs finding no regression (exact kernels' perplexity bit-identical).
cp "$dir/ids.txt" "$dir/exp-ids.txt"
printf '[experiment]\ndescription = ppl\n[ppl]\nrun = perplexity\nmodel = tiny256\ntokens-file = exp-ids.txt\nctx = 64\nchunks = 3\nkernels = naive, i2_scalar, f32_blas\n' >"$dir/ppl.ini"
expect 0 "1 done" run "$dir/ppl.ini" --results "$dir/r1"
expect 0 "1 done" run "$dir/ppl.ini" --results "$dir/r2"
json_check "$(ls "$dir"/r1/*/ppl/ppl_tiny256_ctx=64.json)" "the point's document: kind perplexity, three kernels" \
  "d['kind'] == 'perplexity' and [r['kernel'] for r in d['results']] == ['naive', 'i2_scalar', 'f32_blas'] and d['chunks'] == 3"
check_report=$(ls "$dir"/r1/*/ppl/report/report.md)
grep -q "^## Perplexity" "$check_report" && grep -q "| exp-ids.txt | tiny256 | 3 x 64 | i2_scalar |" "$check_report" &&
  echo "ok: the report's perplexity table" || { echo "FAIL: no perplexity table in $check_report"; fails=$((fails + 1)); }
expect 0 "accuracy: 0 regressions" compare "$(ls -d "$dir"/r1/*/ppl)" "$(ls -d "$dir"/r2/*/ppl)"
# An exact kernel whose perplexity moved by one ulp, and a float kernel's KL grown 4x: both caught.
python3 - "$(ls "$dir"/r2/*/ppl/ppl_tiny256_ctx=64.json)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['results'][1]['perplexity'] *= 1 + 2**-52
d['results'][2]['kl_vs_reference'] *= 4
json.dump(d, open(sys.argv[1], 'w'))
PY
expect 1 "exact kernel: perplexity no longer bit-identical" compare "$(ls -d "$dir"/r1/*/ppl)" "$(ls -d "$dir"/r2/*/ppl)"
expect 1 "kl_vs_reference more than 3x" compare "$(ls -d "$dir"/r1/*/ppl)" "$(ls -d "$dir"/r2/*/ppl)"
printf '[experiment]\ndescription = ppl\n[ppl]\nrun = perplexity\nmodel = tiny256\nctx = 64\n' >"$dir/notext.ini"
expect 2 "notext.ini:3: \[ppl\] text: missing" run "$dir/notext.ini"
printf '[experiment]\ndescription = ppl\n[ppl]\nrun = perplexity\nmodel = tiny256\ntext = nowhere.txt\n' >"$dir/badtext.ini"
expect 2 "badtext.ini:6: \[ppl\] text: .*nowhere.txt: No such file" run "$dir/badtext.ini"

# Refusals.
expect 2 "63 tokens, fewer than one chunk of --ctx 64" perplexity --model tiny256 --tokens <(head -c 2000 "$dir/ids.txt" | python3 -c "import sys; print(' '.join(sys.stdin.read().split()[:63]))") --ctx 64
expect 2 "expected an even number" perplexity --model tiny256 --tokens "$dir/ids.txt" --ctx 63
expect 2 "longer than the model's context" perplexity --model tiny256 --tokens "$dir/ids.txt" --ctx 1048576
echo "1 2 9999999" >"$dir/big.txt"
expect 2 "token 3: id 9999999 outside the vocabulary" perplexity --model tiny256 --tokens "$dir/big.txt" --ctx 4
echo "1 2 x" >"$dir/nan.txt"
expect 2 "token 3: expected a whole number" perplexity --model tiny256 --tokens "$dir/nan.txt" --ctx 4
expect 2 "give the text" perplexity --model tiny256
expect 2 "give the text" perplexity --model tiny256 --tokens "$dir/ids.txt" --text "$dir/ids.txt"
expect 2 "cannot read" perplexity --model tiny256 --tokens "$dir/missing.txt"
expect 2 "--model FILE is required" perplexity --tokens "$dir/ids.txt"
expect 2 "no kernel named" perplexity --model tiny256 --tokens "$dir/ids.txt" --reference nope

[ "$fails" -eq 0 ] && echo "all perplexity checks passed" || echo "$fails perplexity check(s) failed"
[ "$fails" -eq 0 ]
