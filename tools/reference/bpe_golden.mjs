// Golden GPT-2 token ids for tests/TokenSpace.Tests/Tokenization: a varied corpus encoded by npm
// `tiktoken` with r50k_base (GPT-2's encoding), `<|endoftext|>` allowed as the special token 50256.
//
// The node modules live outside the repository; create them once with
//   mkdir -p /tmp/ref-node && cd /tmp/ref-node && npm init -y && npm install tiktoken@1.0.22
// and run from the repository root:
//   NODE_MODULES=/tmp/ref-node/node_modules node tools/reference/bpe_golden.mjs
// It writes tools/reference/golden/bpe_golden.json.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const modules = process.env.NODE_MODULES ?? "/tmp/ref-node/node_modules";
const require = createRequire(path.join(modules, "noop.js"));
const { get_encoding } = require("tiktoken");
const version = JSON.parse(readFileSync(path.join(modules, "tiktoken", "package.json"), "utf8")).version;

const cases = [
  ["prose", "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times;\nit was the age of wisdom, it was the age of foolishness."],
  ["contractions_lower", "I'm sure you're right: we've said it's fine, they'll come, he'd go, don't worry, isn't it?"],
  ["contractions_upper", "I'M SURE YOU'RE RIGHT: WE'VE SAID IT'S FINE, THEY'LL COME, HE'D GO, DON'T WORRY."],
  ["contractions_mixed", "It'S, We'Ve, You'rE, They'lL, he'D, she'M, o'clock, rock'n'roll, ''s, 'sup, 'twas, y'all"],
  ["apostrophe_typographic", "It’s the children’s book — ‘quoted’ and “double”."],
  ["code_csharp", "public static int Add(int a, int b)\n{\n    return a + b; // sum\n}\n\tif (x != null && y >= 0) { z = x ?? y; }\n"],
  ["code_python", "def f(x):\n    if x:\n        return [i ** 2 for i in range(10)]\n    else:\n\treturn {'a': 1, \"b\": 2.5e-3}\n"],
  ["whitespace_runs", "a  b   c    d\t\te\t \tf \n\n\ng   \n   h\r\n\r\ni\u000b\u000cj    "],
  ["whitespace_only", "   \t\n  \n"],
  ["trailing_spaces", "end with spaces   "],
  ["leading_spaces", "    indented line\n        more indented"],
  ["numbers", "0 1 12 123 1234 12345 123456789 3.14159 -42 +7 1e10 0x1F 1,000,000 2024-11-23 07:45:00 ½ ² ٣ ৫"],
  ["urls", "See https://www.example.com/path/to/page?query=a%20b&x=1#frag or mailto:someone@example.org, ftp://ftp.x.y/z.tar.gz"],
  ["accents", "Café naïve façade résumé jalapeño Ångström Zürich Øresund São Paulo über Straße Œuvre"],
  ["combining_marks", "Cafe\u0301 nai\u0308ve e\u0300\u0301\u0302 a\u030a Z\u0335\u0321a\u0336l\u0337g\u0338o"],
  ["greek", "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Ἐν ἀρχῇ ἦν ὁ λόγος."],
  ["cyrillic", "Съешь же ещё этих мягких французских булок, да выпей чаю. Ґанок, їжак, Ђорђе."],
  ["arabic", "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. ١٢٣"],
  ["hindi", "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम"],
  ["cjk", "我能吞下玻璃而不伤身体。私はガラスを食べられます。それは私を傷つけません。나는 유리를 먹을 수 있어요. 𠀀𠀁 漢字"],
  ["emoji", "I ❤️ you 😀😃😄 👍🏻👍🏿 👩‍👩‍👧‍👦 🏳️‍🌈 🤷🏽‍♀️ 🇫🇷🇯🇵 1️⃣ #️⃣"],
  ["math_letters", "𝐀𝐁𝐂 𝒜𝓑 𝔸𝔹 x𝑥y and ℝⁿ → ∞ ≤ ≠ ∑∫√"],
  ["symbols", "!!! ??? ... --- === *** ### $$$ %%% &&& @@@ ^^^ ~~~ ``` |||| <<< >>> ({[]}) «» „“ ¿¡ ©®™ °±×÷"],
  ["mixed_script", "abcабвαβγ123٤٥٦ mixedСкрипт and日本語text"],
  ["endoftext", "First document.<|endoftext|>Second document.<|endoftext|><|endoftext|> Third after space.\n<|endoftext|>"],
  ["endoftext_spaces", "a  <|endoftext|>  b\n\n<|endoftext|>\n"],
  ["endoftext_partial", "<|endoftext| <endoftext|> <|endoftext|>|>"],
  ["control_chars", "bell\u0007 null\u0000 esc\u001b[0m del\u007f sep\u001c\u001d\u001e\u001f nbsp\u00a0here ideographic\u3000space line\u2028para\u2029end nel\u0085x"],
  ["long_word", "Pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious antidisestablishmentarianism"],
  ["long_runs", "=".repeat(200) + "\n" + " ".repeat(300) + "x" + "\t".repeat(50) + "\n" + "ab".repeat(150) + " " + "7".repeat(100)],
  ["json", "{\"name\": \"TokenSpace\", \"dims\": [50257, 768], \"ok\": true, \"pi\": 3.14}"],
  ["markdown", "# Title\n\n- item one\n- **bold** and _italic_\n\n```bash\ndotnet test\n```\n> quote\n"],
  ["empty", ""],
  ["single_space", " "],
  ["single_newline", "\n"],
  ["shakespeare", "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n"],
];

const enc = get_encoding("r50k_base");
const out = {
  source: "npm tiktoken " + version + ", r50k_base, allowed_special=all",
  cases: cases.map(([name, text]) => ({ name, text, ids: Array.from(enc.encode(text, "all")) })),
};
enc.free();

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, "golden", "bpe_golden.json");
writeFileSync(target + ".tmp", JSON.stringify(out, null, 1) + "\n");
renameSync(target + ".tmp", target);
console.log(`wrote ${out.cases.length} cases, ${out.cases.reduce((n, c) => n + c.ids.length, 0)} ids to ${target}`);
