// The reference for tests/test_tokenizer.sh: LLaMA 3's tokenizer as the npm package
// llama3-tokenizer-js (pinned by .ci/setup) has it.
//   node reference.mjs PACKAGE_DIR CORPUS OUT_DIR
// writes to OUT_DIR:
//   vocab.txt       the 128256 tokens, one a line, id = line number (the package's 128000
//                   byte-level tokens, then its 256 special ones: <|begin_of_text|> is 128000)
//   merges.txt      the merges "left right", one a line, by rank (lowest first)
//   expected.jsonl  for each line of CORPUS (a JSON string), the ids the package encodes it to
// The text is encoded as text: the package would turn "<|eot_id|>" in it into the control
// token; tritbench never does, so the package is given a special-token pattern matching
// nothing.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkgDir, corpus, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node reference.mjs PACKAGE_DIR CORPUS OUT_DIR');
  process.exit(2);
}
const bundle = path.join(pkgDir, 'bundle', 'llama3-tokenizer-with-baked-data.js');
const tokenizer = (await import(pathToFileURL(bundle).href)).default;

const vocab = tokenizer.vocabById;
if (vocab.length !== 128256 || vocab.some((t) => t.includes('\n'))) {
  console.error(`unexpected vocabulary: ${vocab.length} tokens, or one with a newline`);
  process.exit(1);
}
fs.writeFileSync(path.join(outDir, 'vocab.txt'), vocab.join('\n') + '\n');

// The package keeps merges as a Map "left right" -> priority (lower first).
const merges = [...tokenizer.merges.entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
fs.writeFileSync(path.join(outDir, 'merges.txt'), merges.join('\n') + '\n');

const noSpecialTokens = /(?!)/g;
const lines = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l !== '');
const out = lines.map((l) => {
  const text = JSON.parse(l);
  const ids = tokenizer.encode(text, { bos: false, eos: false, specialTokenRegex: noSpecialTokens });
  return JSON.stringify(ids);
});
fs.writeFileSync(path.join(outDir, 'expected.jsonl'), out.join('\n') + '\n');
console.log(`reference: ${vocab.length} tokens, ${merges.length} merges, ${lines.length} lines`);
