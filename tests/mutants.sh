#!/bin/sh
# Proves the conformance suite can fail: each mutant below breaks one kernel on purpose (a
# dropped widening step, an off-by-one in a row range, a wrong mask...), and the suite must
# catch every one. Builds copies of the source tree, so the work tree is never touched.
# Usage: tests/mutants.sh [--cross CROSS_FILE] [--jobs N]   (exit 0 only if every mutant was caught)
# With --cross, builds for that machine (tests run under its exe_wrapper) and breaks the kernels
# of that architecture; without, the native ones. Kernels of other architectures are not built.
#
# Each mutant is still built and tested alone (one fault at a time); what makes the whole run
# affordable in CI (92 mutants on 2 vCPUs):
# - a mutant builds only the targets its test needs (what `meson test NAME` would rebuild):
#   a kernel file is linked into every test program and tritbench, and relinking all of them
#   for each mutant cost more than the mutant's own compile and test;
# - its test runs with TB_FAIL_FAST=1: the first failed check ends it (tests/tb_test.h,
#   tests/cli_expect.sh, test_conformance), since one failure is all a caught mutant must show.
#   A mutant that is not caught still runs its test to the end, so nothing passes sooner;
# - --jobs N workers (default: the number of CPUs), each with its own copy of the tree and
#   build directory, take the mutants in turn: a build and a test of one mutant use one CPU
#   most of the time, so one worker left the others idle. Results print as they finish.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
cross= jobs=
while [ $# -gt 0 ]; do
  case $1 in
  --cross) cross=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") && shift 2 || exit 2 ;;
  --jobs) jobs=$2 && shift 2 || exit 2 ;;
  *) echo "usage: $0 [--cross CROSS_FILE] [--jobs N]" >&2 && exit 2 ;;
  esac
done
jobs=${jobs:-$(nproc 2>/dev/null || echo 1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(awk -F"'" '/^cpu_family/ { print $2 }' "${cross:-/dev/null}")
arch=${arch:-$(uname -m)}

# Worker W works in $work/W (a copy of the source tree) and builds in $work/W/build.
for w in $(seq "$jobs"); do
  mkdir "$work/$w"
  (cd "$src" && tar --exclude='./build*' --exclude=./.git -cf - .) | (cd "$work/$w" && tar -xf -)
  meson setup "$work/$w/build" "$work/$w" ${cross:+--cross-file "$cross"} >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; exit 1; }
done
# Each test's name and the ninja targets it depends on (build-dir relative, as meson test
# computes them), one test a line: what a mutant of that test builds.
meson introspect --tests --targets "$work/1/build" | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
files = {t["id"]: [os.path.relpath(f, sys.argv[1]) for f in t["filename"]] for t in d["targets"]}
for t in d["tests"]:
    print(t["name"], *sorted({f for dep in t["depends"] for f in files[dep]}))
' "$work/1/build" >"$work/targets" || exit 1

# mutant ARCH FILE KERNEL-TEST "SED SCRIPT" "what it breaks"   (ARCH: any, x86_64, aarch64)
# Every worker walks the whole list; the mutant goes to the one that claims its number first
# (mkdir is atomic). Its result line is printed and kept in $work/result.N for the count.
n=0
mutant() {
  # Portable kernels are broken in the native run only; a cross run covers its own ISA.
  case $1 in "$arch") ;; any) [ -z "$cross" ] || return 0 ;; *) return 0 ;; esac
  n=$((n + 1))
  mkdir "$work/claim.$n" 2>/dev/null || return 0
  shift
  file=$tree/$1 test=$2 script=$3 what=$4
  targets=$(awk -v t="$test" '$1 == t { $1 = ""; print }' "$work/targets")
  # A plain copy (new mtime): the file moved back is newer than the mutant's object, so the
  # next build recompiles the original.
  cp "$file" "$file.orig"
  sed -i "$script" "$file"
  if cmp -s "$file" "$file.orig"; then
    result="BROKEN MUTANT (sed changed nothing): $what"
  elif [ -z "$targets" ]; then
    result="BROKEN MUTANT (no test '$test' in this build): $what"
  elif ! ninja -C "$tree/build" $targets >"$tree/build.log" 2>&1; then
    result="BROKEN MUTANT (does not compile): $what"
  elif TB_FAIL_FAST=1 meson test -C "$tree/build" --no-rebuild "$test" >"$tree/test.log" 2>&1; then
    result="MISSED: $what (test '$test' still passes)"
  else
    result="caught: $what (test '$test' fails)"
  fi
  mv "$file.orig" "$file"
  echo "$result" | tee "$work/result.$n"
}

# The list, in a function that every worker runs (not indented, to keep each mutant's lines as
# they were written).
all_mutants() {
mutant x86_64 kernels/i2_avx2.c i2_avx2 \
  's/return _mm256_madd_epi16(s16, ones);/return _mm256_add_epi16(s16, _mm256_setzero_si256());/' \
  "i2_avx2: int16 sums not widened to int32 (madd dropped)"
mutant x86_64 kernels/i2_avx2.c i2_avx2 \
  's/acc\[r\] = _mm256_add_epi32(acc\[r\], block_dot(wb, xs));/acc[r] = _mm256_add_epi16(acc[r], block_dot(wb, xs));/' \
  "i2_avx2: accumulation across blocks in int16 lanes"
mutant x86_64 kernels/i2_avx2.c i2_avx2 \
  's/__m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 \* s), m);/__m256i c = _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), s == 3 ? _mm256_set1_epi8(-1) : m);/' \
  "i2_avx2: top codes left unmasked (bits of the next byte leak in)"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/_mm512_srai_epi32(hi, 2)/_mm512_srai_epi32(hi, 1)/' \
  "i2_avx512vnni: wrong rescale of the 4x accumulator"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v4, m0), x2);/lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(v4, m0), x1);/' \
  "i2_avx512vnni: wrong activation vector for a quarter block"
mutant x86_64 kernels/i2_avxvnni.c i2_avxvnni \
  's/_mm256_srai_epi32(hi, 2)/_mm256_srai_epi32(hi, 1)/' \
  "i2_avxvnni: wrong rescale of the 4x accumulator"
mutant x86_64 kernels/i2_avxvnni.c i2_avxvnni \
  's/_mm256_and_si256(v4, m1), load_x(xb, 6 + h)/_mm256_and_si256(v4, m1), load_x(xb, 4 + h)/' \
  "i2_avxvnni: wrong activation vector for the top codes"
mutant any kernels/act_rows.c i2_scalar \
  's/memset(ri + k, 0, (size_t)(k_pad - k));/memset(ri + k, 1, (size_t)(k_pad - k));/' \
  "act_rows: padding of activations not zero"
mutant any kernels/i2_layout.c i2_scalar \
  's/int code = t < k ? wj\[t\] + 1 : 1;/int code = t < k - 1 ? wj[t] + 1 : 1;/' \
  "i2 pack: last weight of each row dropped"
mutant any kernels/naive.c reference \
  's/for (int t = 0; t < k; t++) dot += (int32_t)wj\[t\] \* (int32_t)x\[t\];/for (int t = 1; t < k; t++) dot += (int32_t)wj[t] * (int32_t)x[t];/' \
  "naive: first weight skipped (caught against the float reference)"
mutant any kernels/naive.c reference \
  's/y\[(size_t)i \* (size_t)n + (size_t)j\] = tb_scale_dot(dot, w_scale, x_scale);/y[(size_t)i * (size_t)n + (size_t)j] = tb_scale_dot(dot, w_scale, 1.0f);/' \
  "naive: activation scale dropped (caught against the float reference)"
mutant aarch64 kernels/i2_neon.c i2_neon \
  's/        for (int r = 0; r < R; r++) lo\[r\] = hi\[r\] = vdupq_n_s16(0);/        if (b == 0) for (int r = 0; r < R; r++) lo[r] = hi[r] = vdupq_n_s16(0);/;s/        for (int r = 0; r < R; r++) acc\[r\] = vpadalq_s16(/        if (b == kb - 1) for (int r = 0; r < R; r++) acc[r] = vpadalq_s16(/' \
  "i2_neon: int16 sums kept over the whole row, widened once at the end"
mutant aarch64 kernels/i2_neon.c i2_neon \
  's/MLAL_CODES(lo\[r\], hi\[r\], v, 6, x3);/MLAL_CODES(lo[r], hi[r], v, 6, x2);/' \
  "i2_neon: wrong activation vector for the top codes"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/vshrq_n_s32(hi\[r\], 2)/vshrq_n_s32(hi[r], 1)/' \
  "i2_neon_sdot: wrong rescale of the 4x accumulator"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/uint8x16_t m0 = vdupq_n_u8(0x03), m1 = vdupq_n_u8(0x0c);/uint8x16_t m0 = vdupq_n_u8(0x03), m1 = vdupq_n_u8(0x0f);/' \
  "i2_neon_sdot: mask lets a neighbouring code into the 4x lane"

mutant any kernels/i2_layout.c i2_scalar \
  's/for (int t = 0; t < q; t++) {/for (int t = 0; t <= q; t++) {/' \
  "i2 driver: tile loop runs one row past the range"
mutant x86_64 kernels/i2_layout.c i2_avx512vnni \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j <= row1 \&\& j < n; j++) {/' \
  "i2 driver: tail loop writes one row past the range (seen by i2_avx512vnni)"
mutant x86_64 kernels/i2_layout.c i2_avx2 \
  's/tile(i2_row(packed, k, row0 + t)/tile(i2_row(packed, k, (row0 \& ~1) + t)/' \
  "i2 driver: range start rounded down to an even row (seen by i2_avx2)"
mutant any kernels/i2_layout.c i2_scalar \
  's/yi\[row0 + r \* q + t\] = tb_scale_dot(dots\[r\] - sum, w_scale, x_scale);/yi[row0 + r * q + t] = tb_scale_dot(dots[r], w_scale, x_scale);/' \
  "i2 driver: offset correction sum(x) not subtracted"
mutant x86_64 kernels/lut_layout.c lut2_avx512 \
  's/for (int t = row0 \/ LUT_TILE; t \* LUT_TILE < row1; t += pair ? 2 : 1) {/for (int t = row0 \/ LUT_TILE + 1; t * LUT_TILE < row1; t += pair ? 2 : 1) {/' \
  "lut driver: first tile of the range skipped (seen by lut2_avx512)"
mutant aarch64 kernels/i2_neon.c i2_neon \
  's/MLAL_CODES(lo\[r\], hi\[r\], v, 4, x2);/MLAL_CODES(lo[r], hi[r], v, 2, x2);/' \
  "i2_neon: wrong shift for the third quarter of a block"
# The random-shape properties must catch a row-range slip too (any kernel of the i2 driver).
mutant any kernels/i2_layout.c properties \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j <= row1 \&\& j < n; j++) {/' \
  "i2 driver: tail loop writes one row past the range (seen by the random-shape properties)"
mutant any kernels/lut_layout.c lut2_scalar \
  's/entry\[i\] = (int16_t)((i \/ 3 - 1) \* x\[0\] + (i % 3 - 1) \* x\[1\]);/entry[i] = (int16_t)((i \/ 3 - 1) * x[0] + (i % 3 - 1) * x[1] + (i == 8));/' \
  "lut2 tables: entry 8 (+1, +1) off by one"
mutant any kernels/lut_layout.c lut3_scalar \
  's/if (v >= 0) entry\[v\] = (int16_t)(w0 \* x\[0\] + w1 \* x\[1\] + w2 \* x\[2\]);/if (v >= 0) entry[v] = (int16_t)(w0 * x[0] + w1 * x[1] + w2 * x[2 - (v == 13)]);/' \
  "lut3 tables: entry 13 built from the wrong activation"
mutant x86_64 kernels/lut2_avx2.c lut2_avx2 \
  's/LUT_BATCH_GROUPS \/ 2/(1 << 20)/g' \
  "lut2_avx2: int16 sums never widened within a row"
mutant x86_64 kernels/lut3_avx512.c lut3_avx512 \
  's/(uint64_t)load32(c1 + 32) << 32/(uint64_t)load32(c1 + 32) << 31/' \
  "lut3_avx512: second tile's sign bits misplaced"
mutant aarch64 kernels/lut2_neon.c lut2_neon \
  's/vreinterpretq_s16_u8(vzip1q_u8(lo, hi))/vreinterpretq_s16_u8(vzip1q_u8(hi, lo))/' \
  "lut2_neon: low and high table bytes swapped"
mutant aarch64 kernels/lut3_neon.c lut3_neon \
  's/sign_mask(chunk + 36 + 2 \* h, bits)/sign_mask(chunk + 32 + 2 * h, bits)/' \
  "lut3_neon: second group reads the first group's sign bits"
mutant any reference/tb_reference.h reference \
  's/t += fbits >= 0x3f000000;/t += fbits > 0x3f000000;/' \
  "quantizer rounding: positive ties rounded down"
mutant any reference/tb_reference.h reference \
  's/return (t \& ~nan) | (lo \& nan);/return t;/' \
  "quantizer rounding: a NaN is not sent to lo"
mutant any engine/tb_pool.c engine \
  's/    \*row1 = cur + take;/    *row1 = cur + take - (take > 1);/' \
  "pool: each chunk one row short"
mutant any engine/transformer.c engine \
  's/float a = g\[r\] > 0 ? g\[r\] : 0;/float a = g[r];/' \
  "engine: ReLU of the gate dropped"
mutant any engine/transformer.c engine \
  's/        den += w \* ml\[1\];/        den += ml[1];/' \
  "attention: chunk sums merged without their rescaling"
mutant any engine/transformer.c engine \
  's/return n == 1 ? t->kn : t->prefill_kn;/return n == 1 ? t->kn : t->kn;/' \
  "engine: prefill products on the decode kernel"
mutant any harness/tuning/tune_file.c tune \
  's/if (t > time_of(r, want))/if (0)/' \
  "tune file: a choice slower than the fastest of its list accepted"
mutant any harness/tuning/tune_file.c tune \
  's/    int ok = same_fields(f, here, "there", "here", why, len) \&\&/    int ok = 1 || (same_fields(f, here, "there", "here", why, len) \&\&/; s/             same_fields(here, f, "here", "there", why, len);/             same_fields(here, f, "here", "there", why, len));/' \
  "tune file: another CPU's file used"
mutant x86_64 kernels/i2_layout.c i2_avx512vnni \
  's/(size_t)q \* row_bytes, ahead/row_bytes, ahead/' \
  "i2 driver: a tile reads neighbouring rows, not one row of each run"
mutant aarch64 kernels/i2_layout.c i2_neon \
  's/(size_t)q \* row_bytes, ahead/row_bytes, ahead/' \
  "i2 driver: a tile reads neighbouring rows, not one row of each run"
mutant x86_64 kernels/f16_avx512.c f16_avx512 \
  's/x, y + row0 + t, q);/x, y + row0 + t, 1);/' \
  "f16_avx512: stream outputs written to neighbouring rows"

# ---- kernels for the output head (formats q8 and q4; tests/test_heads.c holds them to the
# dequantized matrix on float weights, where the ternary suite cannot see scales or saturation)
# q8: the drivers and packing
mutant x86_64 kernels/q8_layout.c q8_avx512vnni \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j < row1 - 1; j++) {/' \
  "q8 driver: the last row of a range left out (tail row, seen by q8_avx512vnni)"
mutant aarch64 kernels/q8_layout.c q8_neon_sdot \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j < row1 - 1; j++) {/' \
  "q8 driver: the last row of a range left out (tail row, seen by q8_neon_sdot)"
mutant x86_64 kernels/q8_layout.c q8_avx512vnni \
  's/tile(q8_row(packed, k, row0 + t), (size_t)q \* (size_t)kp, ahead/tile(q8_row(packed, k, row0 + t), (size_t)kp, ahead/' \
  "q8 driver: a tile reads neighbouring rows, not one row of each run"
mutant x86_64 kernels/q8_layout.c q8_avx512vnni \
  's/for (size_t t = 0; t < kp; t++) s += q\[(size_t)j \* kp + t\];/for (size_t t = 1; t < kp; t++) s += q[(size_t)j * kp + t];/' \
  "q8 pack: qsum misses each row's first weight"
mutant any kernels/q8_layout.c heads \
  's/const float dj = a \/ 127.0f;/const float dj = a \/ 128.0f;/' \
  "q8 pack_float: row scale a / 128 (steps too small, the absmax clamped)"
# q8_avx512vnni
mutant x86_64 kernels/q8_avx512vnni.c q8_avx512vnni \
  's/TILE_ROWS, 128, tile_full/TILE_ROWS, 0, tile_full/' \
  "q8_avx512vnni: gemv without the -128 qsum correction"
mutant x86_64 kernels/q8_avx512vnni.c q8_avx512vnni \
  's/q8_output(raw\[r\]\[i\], 128,/q8_output(raw[r][i], 0,/' \
  "q8_avx512vnni: gemm without the -128 sum(x) correction"
# q8_avx2
mutant x86_64 kernels/q8_avx2.c q8_avx2 \
  's/_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv))/_mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv))/' \
  "q8_avx2: sign taken from the weights (x = -128 turns into -128 again)"
mutant x86_64 kernels/q8_avx2.c heads \
  's/_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv))/_mm256_maddubs_epi16(_mm256_xor_si256(xv, _mm256_set1_epi8(-128)), wv)/; s/TILE_ROWS, 0, tile_full/TILE_ROWS, 128, tile_full/; s/tb_scale_dot(dots\[r\]\[i\], d\[j0 + r\], x_scale\[i0 + i\])/q8_output(dots[r][i], 128, q8_qsums(packed, n, k)[j0 + r], d[j0 + r], x_scale[i0 + i])/' \
  "q8_avx2: offset trick (x + 128) u8 x q s8 on the saturating vpmaddubsw (exact on ternary weights)"
# q8_neon_sdot, q8_neon
mutant aarch64 kernels/q8_neon_sdot.c q8_neon_sdot \
  's/vld1q_s8(w + r \* stride + t), xv);/vld1q_s8(w + t), xv);/' \
  "q8_neon_sdot: every row of a tile reads the first row's weights"
mutant aarch64 kernels/q8_neon.c q8_neon \
  's/    p = vmlal_high_s8(p, wv, xv);/    (void)0;/' \
  "q8_neon: the high 8 of every 16 products dropped"
# q4: the drivers, packing and preparation
mutant any kernels/q4_layout.c q4_scalar \
  's/shift = (t % 2) \* 4;/shift = (1 - t % 2) * 4;/' \
  "q4 pack: low and high nibbles swapped (vectors 2u and 2u+1)"
mutant any kernels/q4_layout.c heads \
  's/if (h < 0x7c00 \&\& q4_f16_to_f32(h) < v) h++;/if (0) h++;/' \
  "q4 pack_float: group scale rounded to nearest, not up (the absmax may clamp)"
mutant x86_64 kernels/q4_layout.c q4_avx2 \
  's/off\[g\] = 8 \* sum;/off[g] = 7 * sum;/' \
  "q4 prepare: wrong group offsets (seen by q4_avx2)"
mutant aarch64 kernels/q4_layout.c q4_neon_sdot \
  's/off\[g\] = 8 \* sum;/off[g] = 7 * sum;/' \
  "q4 prepare: wrong group offsets (seen by q4_neon_sdot)"
mutant x86_64 kernels/q4_layout.c q4_avx512vnni \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j < row1 - 1; j++) {/' \
  "q4 driver: the last row of a range left out (tail row, seen by q4_avx512vnni)"
mutant aarch64 kernels/q4_layout.c q4_neon \
  's/for (int j = row0 + q \* tile_rows; j < row1; j++) {/for (int j = row0 + q * tile_rows; j < row1 - 1; j++) {/' \
  "q4 driver: the last row of a range left out (tail row, seen by q4_neon)"
mutant x86_64 kernels/q4_layout.c q4_avx512vnni \
  's/(size_t)q \* cb, q4_scales/cb, q4_scales/' \
  "q4 driver: a tile reads the codes of neighbouring rows"
# q4_avx512vnni
mutant x86_64 kernels/q4_avx512vnni.c q4_avx512vnni \
  's/_mm512_and_si512(v, nib), xv\[2 \* u\]);/_mm512_and_si512(v, nib), xv[2 * u + 1]);/; s/^\( *\)xv\[2 \* u + 1\]);/\1xv[2 * u]);/' \
  "q4_avx512vnni: low and high nibbles against each other's activations"
mutant x86_64 kernels/q4_avx512vnni.c heads \
  's/_mm512_cvtepi32_ps(acc), load_scales(d), facc\[r\]/_mm512_cvtepi32_ps(acc), _mm512_permute_ps(load_scales(d), 0xb1), facc[r]/' \
  "q4_avx512vnni: group scales on the neighbouring lanes (one scale per row on ternary weights)"
mutant x86_64 kernels/q4_avx512vnni.c q4_avx512vnni \
  's/__m512i acc = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_load_si512(xs + Q4_SB));/__m512i acc = _mm512_setzero_si512();/' \
  "q4_avx512vnni: gemm without the group offsets"
# q4_avx2
mutant x86_64 kernels/q4_avx2.c q4_avx2 \
  's/const __m256i lo = _mm256_and_si256(v, nib);/const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);/; s/const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);/const __m256i hi = _mm256_and_si256(v, nib);/' \
  "q4_avx2: low and high nibbles swapped"
mutant x86_64 kernels/q4_avx2.c q4_avx2 \
  's/load_x(xs + Q4_SB + 32 \* h)); \/\/ offsets o_g/load_x(xs + Q4_SB)); \/\/ offsets o_g/' \
  "q4_avx2: groups 8..15 corrected by the offsets of groups 0..7"
mutant x86_64 kernels/q4_avx2.c heads \
  's/load_scales(d + 8 \* h)/load_scales(d)/' \
  "q4_avx2: groups 8..15 scaled by the scales of groups 0..7"
# q4_neon_sdot, q4_neon
mutant aarch64 kernels/q4_neon_sdot.c q4_neon_sdot \
  's/vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(w, nib)),/vdotq_s32(acc, vreinterpretq_s8_u8(HIGH),/; s/vdotq_s32(acc, vreinterpretq_s8_u8(vshrq_n_u8(w, 4)),/vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(w, nib)),/; s/(HIGH)/(vshrq_n_u8(w, 4))/' \
  "q4_neon_sdot: low and high nibbles swapped"
mutant aarch64 kernels/q4_neon_sdot.c q4_neon_sdot \
  's/const int32x4_t start = neg_offsets(xs, v);/const int32x4_t start = vdupq_n_s32(0);/' \
  "q4_neon_sdot: gemv without the group offsets"
mutant aarch64 kernels/q4_neon_sdot.c heads \
  's/facc\[r\] = vfmaq_f32(facc\[r\], vcvtq_f32_s32(dot), load_scales(d));/facc[r] = vfmaq_f32(facc[r], vcvtq_f32_s32(dot), vrev64q_f32(load_scales(d)));/' \
  "q4_neon_sdot: group scales on the neighbouring lanes"
mutant aarch64 kernels/q4_neon.c q4_neon \
  's/const int32x4_t dot = vsubq_s32(piece_dot(cv, xs, v), off);/const int32x4_t dot = piece_dot(cv, xs, v);/' \
  "q4_neon: gemv without the group offsets"
mutant aarch64 kernels/q4_neon.c heads \
  's/return vpaddlq_s16(vpaddq_s16(lo, hi));/return vpaddlq_s16(vpaddq_s16(hi, lo));/' \
  "q4_neon: group dots on the wrong lanes (bytes 8..15 added as groups 0, 1)"
# f16 pack_float, the head's float layout until now (test_heads part c)
mutant any kernels/float_layout.c heads \
  's/out\[(size_t)j \* kp + t\] = tb_f32_to_f16(t < k ? w\[(size_t)j \* k + t\] : 0.0f);/out[(size_t)j * kp + t] = tb_f32_to_f16(t < k - 1 ? w[(size_t)j * k + t] : 0.0f);/' \
  "f16 pack_float: the last weight of each row dropped"
# The engine's output head formats (validate --model --head: each logit within its bound)
mutant any engine/transformer.c engine_cli \
  's/            tb_ref_quantize_rows(s->xb, rows, dim, s->xq, s->xs);/            (void)0;/' \
  "engine: q8/q4 head on a stale int8 input (the head input not quantized)"
mutant any engine/transformer.c engine_cli \
  's/        if (t->head_format == TB_HEAD_F16) {/        if (t->head_format != TB_HEAD_F32) {/' \
  "engine: q8/q4 head given float activations"
mutant any engine/model_check.c engine_cli \
  's/                e\[j\] = a \/ 127 \/ 2;/                e[j] = a \/ 127 \/ 2 * 64;/' \
  "validate --head: q8 bound 64 times too loose (the test insists on a q8 error above 1/64 of it)"

# The panel GEMM (i2_gemm_panels in i2_layout.c, and each kernel's unpacking and micro-kernels).
mutant x86_64 kernels/i2_layout.c i2_avx512vnni \
  's/mc - i < pk->mr ? mc - i : pk->mr,/mc - i < pk->mr ? mc - i - (mc - i > 1) : pk->mr,/' \
  "i2 panels: the tail micro-kernel of activation rows one row short"
mutant x86_64 kernels/i2_layout.c i2_avx512vnni \
  's/                pk->unpack(i2_row(packed, k, j0)/                if (b0) memset(scratch, 0, sizeof(int32_t) * (size_t)NR * (size_t)mc);\n                pk->unpack(i2_row(packed, k, j0)/' \
  "i2 panels: sums not carried across k slices (only the last slice counts)"
mutant x86_64 kernels/i2_layout.c i2_avx2 \
  's/yi\[r\] = tb_scale_dot(s\[r\] - sum\[i0 + i\], w_scale, x_scale\[i0 + i\]);/yi[r] = tb_scale_dot(s[r], w_scale, x_scale[i0 + i]);/' \
  "i2 panels: offset correction sum(x) not subtracted"
mutant x86_64 kernels/i2_layout.c i2_avxvnni \
  's/finish_panel(scratch, NR, act, m, n, i0, mc, j0, nr, w_scale, y);/finish_panel(scratch, NR, act, m, n, i0, mc, j0, nr - (nr < NR), w_scale, y);/' \
  "i2 panels: the last row of a short panel not written"
mutant x86_64 kernels/i2_layout.c i2_avx512vnni \
  's/for (int i0 = 0; i0 < m; i0 += per) {/for (int i0 = 0; i0 < m; i0 += per + 1) {/' \
  "i2 panels: an activation row skipped between chunks"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/t\[4 \* p + 1\] = _mm512_shuffle_i32x4(v\[p\], v\[4 + p\], 0xdd);/t[4 * p + 1] = _mm512_shuffle_i32x4(v[p], v[4 + p], 0x88);/' \
  "i2_avx512vnni: panel transpose takes the wrong 128-bit lanes"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/    const __m512i m = _mm512_set1_epi8(0x03);/    const __m512i m = _mm512_set1_epi8(0x07);/' \
  "i2_avx512vnni: panel codes masked with a bit of the next code"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/if (H > 1) a1_##i = _mm512_dpbusd_epi32(a1_##i, c1, xb);/if (H > 1) a1_##i = _mm512_dpbusd_epi32(a1_##i, c0, xb);/' \
  "i2_avx512vnni: second half of a panel multiplied by the first half's codes"
mutant x86_64 kernels/i2_avx512vnni.c i2_avx512vnni \
  's/micros\[rows > 16\]\[R - 1\]/micros[rows > 24][R - 1]/' \
  "i2_avx512vnni: a panel of 17..24 rows computed as one half"
mutant x86_64 kernels/i2_layout.h i2_avxvnni \
  's/t\[4 + p\] = _mm256_permute2x128_si256(v\[p\], v\[4 + p\], 0x31);/t[4 + p] = _mm256_permute2x128_si256(v[p], v[4 + p], 0x21);/' \
  "i2 AVX2 panels: transpose takes the wrong 128-bit lane"
mutant x86_64 kernels/i2_avxvnni.c i2_avxvnni \
  's/if (H > 1) a1_##i = _mm256_dpbusd_avx_epi32(a1_##i, c1, xb);/if (H > 1) a1_##i = _mm256_dpbusd_avx_epi32(a1_##i, c0, xb);/' \
  "i2_avxvnni: second half of a panel multiplied by the first half's codes"
mutant x86_64 kernels/i2_avxvnni.c i2_avxvnni \
  's/micros\[rows > 8\]\[R - 1\]/micros[rows > 12][R - 1]/' \
  "i2_avxvnni: a panel of 9..12 rows computed as one half"
mutant x86_64 kernels/i2_avx2.c i2_avx2 \
  's/_mm256_madd_epi16(a, _mm256_set1_epi16(1))/_mm256_madd_epi16(a, _mm256_set1_epi32(1))/' \
  "i2_avx2: panel int16 pairs widened with one of the two dropped"
mutant x86_64 kernels/i2_avx2.c i2_avx2 \
  's/vpmaddubsw %2, %1, %%ymm15/vpmaddubsw %1, %2, %%ymm15/' \
  "i2_avx2: panel products with codes and activations swapped (activations taken unsigned)"
mutant aarch64 kernels/i2_layout.c i2_neon_sdot \
  's/mc - i < pk->mr ? mc - i : pk->mr,/mc - i < pk->mr ? mc - i - (mc - i > 1) : pk->mr,/' \
  "i2 panels: the tail micro-kernel of activation rows one row short"
mutant aarch64 kernels/i2_layout.c i2_neon_sdot \
  's/                pk->unpack(i2_row(packed, k, j0)/                if (b0) memset(scratch, 0, sizeof(int32_t) * (size_t)NR * (size_t)mc);\n                pk->unpack(i2_row(packed, k, j0)/' \
  "i2 panels: sums not carried across k slices (only the last slice counts)"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/vtrn1q_u64(vreinterpretq_u64_u32(t1), vreinterpretq_u64_u32(t3))); \/\/ dword 1/vtrn1q_u64(vreinterpretq_u64_u32(t0), vreinterpretq_u64_u32(t2))); \/\/ dword 1/' \
  "i2_neon_sdot: panel transpose puts dword 0 where dword 1 belongs"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/vshrq_n_u8(o\[p\], 6)/vshrq_n_u8(o[p], 5)/' \
  "i2_neon_sdot: top codes of a panel shifted one bit short"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/        STEP(3);/        STEP(2);/' \
  "i2_neon_sdot: the fourth k4 step of each activation load replaced by the third"
mutant aarch64 kernels/i2_neon_sdot.c i2_neon_sdot \
  's/micros\[rows > 8\]\[R - 1\]/micros[rows > 12][R - 1]/' \
  "i2_neon_sdot: a panel of 9..12 rows computed as 8"
# The peers (harness/peers): ggml's kernels behind tritbench's contract, and their bound. x86-64
# only: the installed peer library is the host's.
mutant x86_64 harness/peers/ggml_kernels.c peers \
  's|return block_max / 254.0 \* (1 + 4 \* U32)|return block_max / 2.54 * (1 + 4 * U32)|' \
  "peers: the Q8_K activation bound 100x too loose (the test insists on > 1/64 of it used)"
mutant x86_64 harness/peers/ggml_kernels.c peers \
  's/for (int j = j0; j < j0 + BLOCK \&\& j < row1; j++)/for (int j = j0; j < j0 + BLOCK - 1 \&\& j < row1; j++)/' \
  "peers: ggml's blocked mul_mat skips the last weight row of each block"
mutant x86_64 harness/peers/ggml_kernels.c peers \
  's/f\[t\] = (float)x\[(size_t)i \* k + t\] \* x_scale\[i\];/f[t] = (float)x[(size_t)i * k + t];/' \
  "peers: activations handed to ggml without their scale"
}

for w in $(seq "$jobs"); do
  (tree=$work/$w && all_mutants) &
done
wait
count() { cat "$work"/result.* 2>/dev/null | grep -c "^$1"; }
caught=$(count caught) missed=$(count MISSED) broken=$(count BROKEN)
# Every claimed mutant must have a result: a worker that died would leave one without.
claimed=$(ls -d "$work"/claim.* 2>/dev/null | wc -l)
echo "mutants ($arch): $caught caught, $missed missed, $broken broken ($jobs workers)"
[ "$missed" -eq 0 ] && [ "$broken" -eq 0 ] && [ "$caught" -eq "$claimed" ]
