// Encode throughput of npm `tiktoken` (r50k_base, Rust compiled to WebAssembly) and npm `gpt-3-encoder`
// (plain JavaScript, OpenAI's encoder.py ported) on one text file; the `bpe` benchmark runs this
// beside TokenSpace. Prints one JSON line per tokenizer: MB/s (UTF-8 bytes), median ms, token count
// and an FNV-1a hash of the ids (so the bench can check all three agree).
//
// The node modules live outside the repository; create them once with
//   mkdir -p /tmp/ref-node && cd /tmp/ref-node && npm init -y && npm install tiktoken@1.0.22 gpt-3-encoder@1.1.4
// (or point NODE_MODULES at another node_modules folder). Usage:
//   node tools/reference/bpe_bench.mjs FILE [RUNS]
// Exits with code 3 and a message on stderr when the modules are missing.
//
// gpt-3-encoder's encode() appends with Array.concat, which is quadratic in the token count (one call on
// all of tinyshakespeare runs for minutes). To measure its tokenizer rather than that, it gets the text
// in pieces of about 1K characters cut after a line "x\n" before a non-space character; the pattern
// always ends a piece there, so the ids are the same as for one call (the hash shows it).
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";

const modules = process.env.NODE_MODULES ?? "/tmp/ref-node/node_modules";
for (const name of ["tiktoken", "gpt-3-encoder"]) {
  if (!existsSync(path.join(modules, name))) {
    console.error(`node module ${name} not found in ${modules}; see the header of tools/reference/bpe_bench.mjs`);
    process.exit(3);
  }
}
const require = createRequire(path.join(modules, "noop.js"));
const { get_encoding } = require("tiktoken");
const gpt3 = require("gpt-3-encoder");

const [file, runsArg] = process.argv.slice(2);
const text = readFileSync(file, "utf8");
const megabytes = Buffer.byteLength(text, "utf8") / 1e6;
const runs = Number(runsArg ?? 5);

function fnv1a(ids) {
  let h = 0x811c9dc5;
  for (const id of ids) {
    h = Math.imul(h ^ id, 0x01000193) >>> 0;
  }
  return h;
}

function measure(name, encode) {
  let ids = encode(); // warm-up (and gpt-3-encoder's cache)
  const times = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    ids = encode();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const ms = runs % 2 ? times[(runs - 1) / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
  console.log(JSON.stringify({ bench: "bpe", impl: name, threads: 1, mb_per_s: megabytes / (ms / 1000), ms, tokens: ids.length, ids_fnv1a: fnv1a(ids) }));
}

// Cuts text at q where text[q-2] is not whitespace, text[q-1] is "\n" and text[q] is not whitespace.
function safeChunks(text, size) {
  const chunks = [];
  let from = 0;
  for (let q = size; q < text.length; q++) {
    if (text[q - 1] === "\n" && /\S/.test(text[q - 2]) && /\S/.test(text[q])) {
      chunks.push(text.slice(from, q));
      from = q;
      q += size;
    }
  }
  chunks.push(text.slice(from));
  return chunks;
}

const enc = get_encoding("r50k_base");
measure("tiktoken-npm", () => enc.encode_ordinary(text));
enc.free();
const chunks = safeChunks(text, 1 << 10);
measure("gpt-3-encoder-npm", () => {
  const ids = [];
  for (const chunk of chunks) for (const id of gpt3.encode(chunk)) ids.push(id);
  return ids;
});
