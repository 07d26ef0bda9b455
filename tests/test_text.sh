#!/bin/sh
# Text in and out on a synthetic model carrying the real LLaMA 3 tokenizer (issue 16): `model
# create --tokenizer-from` a GGUF file holding llama3-tokenizer-js's vocabulary and merges, then
#  - generate --prompt: the prompt's ids are BOS and the reference's ids of the text; the reply
#    is printed as text and the document holds it; --chat wraps the prompt in 2B4T's template
#    (control tokens by id); bad requests refused;
#  - perplexity --text on the bundled text (experiments/texts/tritbench-kernels.txt, a few
#    thousand tokens) over every kernel: exact kernels bit-identical with KL 0 against naive,
#    the float baselines' KL reported; a text shorter than one chunk refused.
# SKIP (77) without node or the package (bash .ci/setup installs both), under qemu (node is the
# host's) and under the sanitizers (test_perplexity and test_tokenizer cover the code there).
# Usage: test_text.sh PATH/TO/tritbench PATH/TO/make_tokenizer_gguf SOURCE_ROOT
tb_bin=$1
make_gguf=$2
src=$3
. "$(dirname "$0")/cli_expect.sh"
[ -z "${TB_CLI_WRAPPER:-}" ] || { echo "SKIP: cross build under qemu"; exit 77; }
[ -z "${TB_SANITIZED:-}" ] || { echo "SKIP: sanitizer build: test_perplexity and test_tokenizer run there"; exit 77; }
pkg=${TB_LLAMA3_TOKENIZER_JS:-/usr/local/lib/tritbench/llama3-tokenizer-js}
command -v node >/dev/null || { echo "SKIP: no node (bash .ci/setup installs it)"; exit 77; }
[ -f "$pkg/bundle/llama3-tokenizer-with-baked-data.js" ] ||
  { echo "SKIP: no llama3-tokenizer-js in $pkg (bash .ci/setup installs it)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$out" "$dir"' EXIT

printf '"Hello world!"\n' >"$dir/corpus.txt"
node "$src/tests/tokenizer/reference.mjs" "$pkg" "$dir/corpus.txt" "$dir" >/dev/null &&
  "$make_gguf" "$dir/llama3.gguf" "$dir/vocab.txt" "$dir/merges.txt" ||
  { echo "FAIL: could not write the LLaMA 3 tokenizer file"; exit 1; }
expect 0 "\"vocab_size\":	128256" model create --config tiny --tokenizer-from "$dir/llama3.gguf" --out "$dir/m.gguf" --json
expect 0 "^128000,9906,1917,0$" tokenize --model "$dir/m.gguf" --text "Hello world!" --bos
tb model create --config tiny --out "$dir/novocab.gguf" >/dev/null 2>&1
expect 2 "tokenizer.ggml.tokens: expected an array of 1 to 2^22 strings, missing" model create --config tiny --tokenizer-from "$dir/novocab.gguf" --out "$dir/x.gguf"

# generate: text in, text out.
expect 0 "prefill 4 tokens" generate --model "$dir/m.gguf" --prompt "Hello world!" --tokens 6 --out "$dir/gen.json"
json_check "$dir/gen.json" "generate --prompt: BOS and the reference's ids, the reply's text in the document" \
  "d['prompt_ids'] == [128000, 9906, 1917, 0] and isinstance(d['text'], str) and 1 <= len(d['tokens']) <= 6 and d['chat'] is False"
printf 'Hello world!' >"$dir/prompt.txt"
expect 0 "prefill 4 tokens" generate --model "$dir/m.gguf" --prompt-file "$dir/prompt.txt" --tokens 2
expect 0 "kernel" generate --model "$dir/m.gguf" --chat --system "Be brief." --prompt "Hi" --tokens 3 --out "$dir/chat.json"
json_check "$dir/chat.json" "--chat: BOS System: ...<|eot_id|>User: ...<|eot_id|>Assistant: , control tokens by id" \
  "d['chat'] and d['prompt_ids'] == [128000, 2374, 25, 2893, 10015, 13, 128009, 1502, 25, 21694, 128009, 72803, 25, 220]"
expect 2 "give --prompt or --prompt-file, not both" generate --model "$dir/m.gguf" --prompt a --prompt-file "$dir/prompt.txt"
expect 2 "--chat and --system go with --prompt" generate --model "$dir/m.gguf" --chat
expect 2 "--prompt needs a GGUF model file with its tokenizer" generate --model tiny --prompt "Hello"
expect 2 "cannot read" generate --model "$dir/m.gguf" --prompt-file "$dir/none.txt"

# perplexity over the bundled text, every kernel.
text=$src/experiments/texts/tritbench-kernels.txt
expect 0 "naive" perplexity --model "$dir/m.gguf" --text "$text" --ctx 64 --chunks 4 --threads 2 --out "$dir/ppl.json"
json_check "$dir/ppl.json" "a few thousand tokens; 4 chunks of 64 scored on their second halves" \
  "d['tokens'] > 2000 and d['chunks'] == 4 and d['bos_token_id'] == 128000 and all(r['scored_tokens'] == 4 * 31 for r in d['results'])"
json_check "$dir/ppl.json" "exact kernels: the reference's perplexity bit for bit, KL 0" \
  "len([r for r in d['results'] if r['exact']]) >= 3 and all(r['perplexity'] == d['results'][0]['perplexity'] and r['kl_vs_reference'] == 0 for r in d['results'] if r['exact'])"
json_check "$dir/ppl.json" "float baselines: their KL against naive reported, positive" \
  "any(not r['exact'] for r in d['results']) and all(r['kl_vs_reference'] > 0 for r in d['results'] if not r['exact'])"
printf 'Too short.' >"$dir/short.txt"
expect 2 "short.txt: 3 tokens, fewer than one chunk of --ctx 128" perplexity --model "$dir/m.gguf" --text "$dir/short.txt" --ctx 128
expect 2 "--text needs a GGUF model file with its tokenizer" perplexity --model tiny --text "$text" --ctx 64

[ "$fails" -eq 0 ] && echo "all text checks passed" || echo "$fails text check(s) failed"
[ "$fails" -eq 0 ]
