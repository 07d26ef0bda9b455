#!/bin/sh
# tritbench compare on hand-made result sets (tests/fixtures/compare): a real slowdown, pure
# noise, accuracy regressions, two CPUs, and malformed, truncated, foreign or mismatched
# documents. Usage: test_compare.sh PATH/TO/tritbench PATH/TO/tests/fixtures
tb_bin=$1
fx=$2/compare
. "$(dirname "$0")/cli_expect.sh"
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

# (a) i2_scalar 20 % slower, 7 clearly separated repetitions each: slower, p = 2/3432; it
# fails only with --fail-on-slowdown below 20 %. f16_avx2 is unchanged (overlapping samples).
expect 0 "0 faster, 1 slower, 1 same; accuracy: 0 regressions" compare "$fx/slowdown/base" "$fx/slowdown/new"
expect 0 "i2_scalar n=2560 k=2560 m=1 threads=1 hot .*0.833 0.000583  slower" compare "$fx/slowdown/base" "$fx/slowdown/new"
expect 1 "slower  FAILS" compare "$fx/slowdown/base" "$fx/slowdown/new" --fail-on-slowdown 10
expect 0 "1 slower" compare "$fx/slowdown/base" "$fx/slowdown/new" --fail-on-slowdown 25
expect 0 "0 slower" compare "$fx/slowdown/base" "$fx/slowdown/new" --alpha 0.0005
expect 0 "1 faster, 0 slower" compare "$fx/slowdown/new" "$fx/slowdown/base" --fail-on-slowdown 10
tb compare "$fx/slowdown/base" "$fx/slowdown/new" --json --fail-on-slowdown 10 >"$dir/slow.json"
json_check "$dir/slow.json" "slowdown document" \
  "d['kind'] == 'compare' and d['summary']['status'] == 'fail' and d['summary']['failing_slowdowns'] == 1 and [r['verdict'] for r in d['speed']] == ['slower', 'same (noise)'] and abs(d['speed'][0]['ratio'] - 1/1.2) < 1e-9 and abs(d['speed'][0]['p'] - 2/3432) < 1e-12 and d['speed'][0]['test'] == 'exact'"
expect 1 "" compare "$fx/slowdown/base" "$fx/slowdown/new" --fail-on-slowdown 10 --out "$dir/out.json"
json_check "$dir/out.json" "--out writes the document" "d['summary']['slower'] == 1"

# (b) noise: overlapping samples, and a 20 % lower decode rate over 3 vs 3 repetitions, which
# can never be significant (smallest two-sided p 0.1): same, even with --fail-on-slowdown.
expect 0 "0 faster, 0 slower, 3 same; accuracy: 0 regressions" compare "$fx/noise/base" "$fx/noise/new" --fail-on-slowdown 1
expect 0 "too few repetitions: 3 vs 3, smallest possible p 0.1" compare "$fx/noise/base" "$fx/noise/new"
tb compare "$fx/noise/base" "$fx/noise/new" --json >"$dir/noise.json"
json_check "$dir/noise.json" "noise document" \
  "all(r['verdict'] == 'same (noise)' for r in d['speed']) and [r['metric'] for r in d['speed']] == ['time', 'decode', 'prefill'] and [r['too_few_samples'] for r in d['speed']] == [False, True, True]"

# (c) accuracy: an exact kernel's logits and greedy tokens changed, a PASS became FAIL, a float
# kernel's nmse above its bound and its KL 10x BASE's.
expect 1 "kernel i2_avx2, field logits_fnv1a" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 1 "kernel i2_avx2, field argmax_tokens" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 1 "kernel lut2_scalar, field status: \"PASS\" -> \"FAIL\"" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 1 "kernel f32_blas, field nmse: .* (nmse above nmse_bound)" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 1 "kernel f32_blas, field kl_vs_float" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 1 "accuracy: 5 regressions" compare "$fx/accuracy/base.json" "$fx/accuracy/new.json"
expect 0 "accuracy: 0 regressions" compare "$fx/accuracy/base.json" "$fx/accuracy/base.json"
# Backwards, FAIL -> PASS is no regression, but changed logits and tokens still are.
expect 1 "accuracy: 2 regressions" compare "$fx/accuracy/new.json" "$fx/accuracy/base.json"

# (d) two CPUs: the slowdown of (a) measured on another CPU gives ratios, never a failure.
expect 0 "different CPUs" compare "$fx/cpus/base" "$fx/cpus/new" --fail-on-slowdown 10
# Accuracy across CPUs: an exact kernel's logits, its greedy tokens, a PASS turned FAIL and an
# NMSE over its bound hold on every CPU and still fail; a float baseline's KL does not.
other=$(mktemp -d)
sed 's/"cpu_slug": *"[^"]*"/"cpu_slug": "another-cpu"/' "$fx/accuracy/new.json" >"$other/new.json"
expect 1 "accuracy: 4 regressions" compare "$fx/accuracy/base.json" "$other/new.json"
expect 1 "kernel i2_avx2, field logits_fnv1a" compare "$fx/accuracy/base.json" "$other/new.json"
json_check_out() { tb compare "$fx/accuracy/base.json" "$other/new.json" --json >"$other/c.json" 2>/dev/null; }
json_check_out
json_check "$other/c.json" "across CPUs: the float baseline's KL is listed but does not fail" \
  'd["cross_cpu"] and [r["any_cpu"] for r in d["accuracy"] if r["field"] == "kl_vs_float"] == [False] and d["summary"]["accuracy_regressions"] == 4'
rm -rf "$other"
expect 0 "0.833" compare "$fx/cpus/base" "$fx/cpus/new" --fail-on-slowdown 10

# Unmatched points and entries are listed, not an error.
expect 0 "only in NEW: model-sweep:model/tiny/threads=1 (the whole point)" compare "$fx/slowdown/base" "$fx/noise/new"
expect 0 "only in BASE: kernel-sweep:decode/2560x2560/m=1/threads=1/hot: f16_avx2" compare "$fx/slowdown/base" "$fx/noise/new"

# (e) bad documents: exit 2 naming the file and the field.
b=$fx/bad
expect 2 "bad/malformed.json: not valid JSON" compare "$b/malformed.json" "$fx/slowdown/new"
expect 2 "bad/truncated.json: not valid JSON" compare "$fx/slowdown/base" "$b/truncated.json"
expect 2 "bad/foreign.json: field 'schema' is missing" compare "$b/foreign.json" "$fx/slowdown/new"
expect 2 "bad/otherschema.json: field 'schema' is \"tritbench-results/0\"" compare "$b/otherschema.json" "$fx/slowdown/new"
expect 2 "bad/nokind.json: field 'kind' is missing" compare "$b/nokind.json" "$fx/slowdown/new"
expect 2 "bad/unknownkind.json: field 'kind' is \"frobnicate\"" compare "$b/unknownkind.json" "$fx/slowdown/new"
expect 2 "bad/mismatched.json: field 'kind' is \"model\" but .*has \"kernels\"" compare "$fx/slowdown/base" "$b/mismatched.json"
expect 2 "bad/badentry.json: field 'entries\[0\].n' must be a number" compare "$b/badentry.json" "$fx/slowdown/new"
expect 2 "bad/badsamples.json: field 'entries\[0\].round_median_s' must hold only numbers" compare "$b/badsamples.json" "$fx/slowdown/new"
expect 2 "bad/nomedian.json: field 'entries\[0\].median_s' is missing" compare "$fx/slowdown/base" "$b/nomedian.json"
expect 2 "bad/repeated.json: field 'entries\[1\]' repeats entries\[0\]" compare "$b/repeated.json" "$fx/slowdown/new"
# A folder holding a bad document fails as a whole, naming the first one that cannot be read.
expect 2 "bad/foreign.json: field 'schema' is missing" compare "$b" "$fx/slowdown/new"
mkdir -p "$dir/empty/sub"
expect 2 "empty: no result documents" compare "$dir/empty" "$fx/slowdown/new"
expect 2 "nosuch: No such file" compare "$dir/nosuch" "$fx/slowdown/new"
# The same point twice in one set.
mkdir -p "$dir/twice"
cp "$fx/slowdown/base/kernel-sweep/decode.json" "$dir/twice/a.json"
cp "$fx/slowdown/base/kernel-sweep/decode.json" "$dir/twice/b.json"
expect 2 "twice/b.json: field 'point' repeats the point of .*twice/a.json" compare "$dir/twice" "$fx/slowdown/new"
# An unfinished write (temporary file) in a folder is not read.
cp "$b/truncated.json" "$dir/twice/c.json.tmp.AbC123"
rm "$dir/twice/b.json"
expect 0 "1 slower" compare "$dir/twice" "$fx/slowdown/new"

# A cut document in a folder is refused (a point dropped from a verdict would fail nothing),
# naming it; a stray temporary file is skipped with a warning naming it.
cp "$b/truncated.json" "$dir/twice/cut.json"
expect 2 "twice/cut.json: not valid JSON" compare "$dir/twice" "$fx/slowdown/new"
rm "$dir/twice/cut.json"
expect 0 "skipped: .*twice/c.json.tmp.AbC123: a temporary file of an unfinished write" compare "$dir/twice" "$fx/slowdown/new"

# Usage.
expect 2 "needs two result sets" compare "$fx/slowdown/base"
expect 2 "needs two result sets" compare a b c
expect 2 "--alpha: .0.9. must be a number in" compare "$fx/slowdown/base" "$fx/slowdown/new" --alpha 0.9
expect 2 "needs a value" compare "$fx/slowdown/base" "$fx/slowdown/new" --fail-on-slowdown
expect 0 "Mann-Whitney" compare --help

[ "$fails" -eq 0 ] && echo "compare: all checks passed"
exit $((fails != 0))
