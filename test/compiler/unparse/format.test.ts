import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { formatFile, formatSource } from "../../../src/compiler/unparse/format.js";
import { tokenize } from "../../../src/compiler/syntax/lexer.js";
import { parseSource } from "../../../src/compiler/syntax/parse.js";
import { mulberry32 } from "../../../src/runtime/data/random.js";
import { astShape } from "../../helpers/ast-shape.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");

function bdlFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => f.endsWith(".bdl"))
    .sort()
    .map((f) => path.join(dir, f));
}

const FIXTURES = [...bdlFiles("test/fixtures/spec"), ...bdlFiles("test/fixtures/format")];
const MODELS = bdlFiles("models");
const ALL = [...FIXTURES, ...MODELS];

function read(file: string): string {
  return readFileSync(path.join(ROOT, file), "utf8");
}

function fmt(text: string, file = "test.bdl"): string {
  const result = formatSource({ path: file, text });
  if (result.text === undefined) throw new Error(`does not parse: ${result.diagnostics.map((d) => d.message).join("; ")}`);
  return result.text;
}

function commentTexts(text: string): string[] {
  return parseSource({ path: "x.bdl", text })
    .ast.comments.map((c) => c.text.trimEnd())
    .sort();
}

/** Before/after pairs; `after` is written with a trailing newline. */
const CASES: { name: string; before: string; after: string }[] = [
  {
    name: "re-indents with two spaces and one space between tokens",
    before: "model   m   extends   bert{\nvocab    3\n\t\t  hidden\t4\n        }",
    after: "model m extends bert {\n  vocab 3\n  hidden 4\n}\n",
  },
  {
    name: "expands a model written on one line",
    before: "model m extends bert { layers 2 }",
    after: "model m extends bert {\n  layers 2\n}\n",
  },
  {
    name: "keeps a member block written on one line on one line",
    before: "model m {\n  embeddings {   factorize   128 }\n  special {pad 0 unk 100}\n}\n",
    after: "model m {\n  embeddings { factorize 128 }\n  special { pad 0 unk 100 }\n}\n",
  },
  {
    name: "expands a member block written over several lines",
    before: "model m {\n  embeddings { positions 512\n    factorize 128 }\n}\n",
    after: "model m {\n  embeddings {\n    positions 512\n    factorize 128\n  }\n}\n",
  },
  {
    name: "prints an empty block as {}",
    before: "model m {\n  objectives {\n\n  }\n  teacher bert {  }\n}\n",
    after: "model m {\n  objectives {}\n  teacher bert {}\n}\n",
  },
  {
    name: "prints an empty model as {}",
    before: "model m extends bert {\n}\n",
    after: "model m extends bert {}\n",
  },
  {
    name: "keeps settings written on one line together, one space apart",
    before:
      "model m {\n  masking {\n    mask 0.8   random 0.1\tkeep 0.1\n    schedule static    duplicates 10\n  }\n" +
      "  objectives { nsp off  sop weight 1.0 }\n}\n",
    after:
      "model m {\n  masking {\n    mask 0.8 random 0.1 keep 0.1\n    schedule static duplicates 10\n  }\n" +
      "  objectives { nsp off sop weight 1.0 }\n}\n",
  },
  {
    name: "keeps one-line members and blocks on the line they shared",
    before: "model m {\n  pooler none embeddings { segments 0 }\n  vocab 3\n}\n",
    after: "model m {\n  pooler none embeddings { segments 0 }\n  vocab 3\n}\n",
  },
  {
    name: "puts members that followed a multi-line block on their own line",
    before: "model m {\n  vocab 3 train {\n    lr 1e-4 } seq 128\n}\n",
    after: "model m {\n  vocab 3\n  train {\n    lr 1e-4\n  }\n  seq 128\n}\n",
  },
  {
    name: "collapses blank lines, with none after { or before }",
    before: "model m {\n\n\n  vocab 3\n\n\n\n  hidden 4\n  layers 2\n\n}\n",
    after: "model m {\n  vocab 3\n\n  hidden 4\n  layers 2\n}\n",
  },
  {
    name: "separates top-level items by one blank line, keeping imports together",
    before:
      '\n\nimport "a.bdl"\nimport "b.bdl"\n\n\nimport "c.bdl"\nmodel a {\n  vocab 1\n}\n\n\n\nmodel b {\n  vocab 2\n}\nmodel c {}\n\n\n',
    after: 'import "a.bdl"\nimport "b.bdl"\n\nimport "c.bdl"\n\nmodel a {\n  vocab 1\n}\n\nmodel b {\n  vocab 2\n}\n\nmodel c {}\n',
  },
  {
    name: "keeps a comment before a model with the model",
    before: "model a {}\n// about b\nmodel b {}\n",
    after: "model a {}\n\n// about b\nmodel b {}\n",
  },
  {
    name: "re-indents comments on their own lines, before what follows them",
    before: "// file\nmodel m {\n      // first\n  vocab 3\n// before the brace\n}\n   // end of file\n",
    after: "// file\nmodel m {\n  // first\n  vocab 3\n  // before the brace\n}\n// end of file\n",
  },
  {
    name: "keeps a comment after { and after } where it was",
    before: "model m {     // the model\n  train {  // training\n    lr 1e-4\n  }    // end of train\n}  // end\n",
    after: "model m { // the model\n  train { // training\n    lr 1e-4\n  } // end of train\n} // end\n",
  },
  {
    name: "aligns trailing comments one space after the widest commented code of a run",
    before:
      "model m {\n  vocab 3 // a\n  hidden 768 // b\n  layers 12\n  intermediate 3072   // c\n\n  heads 12    // d\n  pooler none  // e\n}\n",
    after:
      "model m {\n  vocab 3           // a\n  hidden 768        // b\n  layers 12\n  intermediate 3072 // c\n\n  heads 12    // d\n  pooler none // e\n}\n",
  },
  {
    name: "breaks alignment runs at comment-only lines and multi-line blocks",
    before: "model m {\n  vocab 30522 // a\n  // note\n  heads 1 // b\n  embeddings {\n    positions 512 // c\n  }\n  layers 1 // d\n}\n",
    after: "model m {\n  vocab 30522 // a\n  // note\n  heads 1 // b\n  embeddings {\n    positions 512 // c\n  }\n  layers 1 // d\n}\n",
  },
  {
    name: "aligns one-line blocks with the members around them",
    before: "model m {\n  embeddings { factorize 128 } // E\n  sharing all // one group\n}\n",
    after: "model m {\n  embeddings { factorize 128 } // E\n  sharing all                  // one group\n}\n",
  },
  {
    name: "moves a comment inside a one-line construct to its own line before it",
    before: 'model m {\n  teacher bert // the teacher\n    from "ckpt" tokenizer bpe\n}\n',
    after: 'model m {\n  // the teacher\n  teacher bert from "ckpt" tokenizer bpe\n}\n',
  },
  {
    name: "moves a comment inside a block header before the block",
    before: "model m // c1\n  extends bert\n{\n  train // c2\n  {\n    lr 1\n  }\n}\n",
    after: "// c1\nmodel m extends bert {\n  // c2\n  train {\n    lr 1\n  }\n}\n",
  },
  {
    name: "prints values as written",
    before:
      "model m {\n  norm_eps 1e-12\n  masking { rate 0.15->0.40   over 100K }\n  sharing { group a layers 0 .. 5 share ffn attention group b layers [ 6,8 , 10, ] share ffn }\n" +
      '  teacher bert from "a\\"b\\\\c\\d" { init layers [0,2] init embeddings }\n  expect params 19.0M\n}\n',
    after:
      "model m {\n  norm_eps 1e-12\n  masking { rate 0.15 -> 0.40 over 100K }\n  sharing { group a layers 0..5 share ffn attention group b layers [6, 8, 10] share ffn }\n" +
      '  teacher bert from "a\\"b\\\\cd" { init layers [0, 2] init embeddings }\n  expect params 19.0M\n}\n',
  },
  {
    name: "drops trailing whitespace, also inside comments, and ends with one newline",
    before: "model m {   \n  vocab 3   // c   \n}   \n\n\n",
    after: "model m {\n  vocab 3 // c\n}\n",
  },
  {
    name: "reads CRLF line endings and writes LF",
    before: "model m {\r\n  vocab 3 // c\r\n\r\n\r\n  hidden 4\r\n}\r\n",
    after: "model m {\n  vocab 3 // c\n\n  hidden 4\n}\n",
  },
  { name: "formats an empty file as empty", before: "  \n\n", after: "" },
  { name: "keeps a file of comments", before: "\n// one\n\n\n   // two\n", after: "// one\n\n// two\n" },
];

describe("formatSource", () => {
  it.each(CASES)("$name", ({ before, after }) => {
    expect(fmt(before)).toBe(after);
    expect(fmt(after)).toBe(after);
  });

  it("refuses a file with syntax errors, returning its diagnostics and no text", () => {
    for (const text of [
      "model m {\n  vocab 3\n",
      "model m { vocab 3 $ }\n",
      'import "x\nmodel m {}\n',
      "model m { embeddings { positions } }\n",
    ]) {
      const result = formatSource({ path: "bad.bdl", text });
      expect(result.text).toBeUndefined();
      expect(result.diagnostics.length).toBeGreaterThan(0);
      expect(result.diagnostics.every((d) => d.code.startsWith("BDL00"))).toBe(true);
    }
  });

  it("keeps `init layers off` and `init embeddings off`", () => {
    const expected = [
      'import "distilbert.bdl"',
      "",
      "model s extends distilbert {",
      "  hidden 384",
      "  heads 6",
      "  teacher bert {",
      "    init layers off",
      "    init embeddings off",
      "  }",
      "}",
      "",
    ].join("\n");
    expect(fmt(expected)).toBe(expected);
    expect(fmt(expected.replace("init embeddings off", "init   embeddings\toff"))).toBe(expected);
  });

  it("formats the kitchen sink as expected", () => {
    expect(fmt(read("test/fixtures/format/kitchen-sink.bdl"))).toBe(KITCHEN_SINK_FORMATTED);
  });

  it("formats a kitchen sink that is itself a valid file", () => {
    const errors = checkFile(path.join(ROOT, "test/fixtures/format/kitchen-sink.bdl")).diagnostics.filter((d) => d.severity === "error");
    expect(errors).toEqual([]);
  });

  it("formatFile prints a parsed AST without changing it", () => {
    const { ast } = parseSource({ path: "k.bdl", text: read("test/fixtures/format/kitchen-sink.bdl") });
    const before = JSON.stringify(ast.items);
    expect(formatFile(ast)).toBe(KITCHEN_SINK_FORMATTED);
    expect(JSON.stringify(ast.items)).toBe(before);
  });
});

describe.each(ALL)("%s", (file) => {
  const text = read(file);
  const once = fmt(text, file);

  it("formatting formatted text is a no-op", () => {
    expect(fmt(once, file)).toBe(once);
  });

  it("comments survive", () => {
    expect(commentTexts(once)).toEqual(commentTexts(text));
  });

  it("parses to the same AST (without positions)", () => {
    const before = astShape(text);
    expect(before.diagnostics).toEqual([]);
    expect(astShape(once).shape).toEqual(before.shape);
  });

  it("has no trailing whitespace, no blank line at either end, one final newline", () => {
    expect(once).not.toMatch(/[ \t]$/m);
    expect(once).toMatch(/^\S/);
    expect(once).toMatch(/\S\n$/);
    expect(once).not.toMatch(/\n\n\n/);
  });

  it("gives the same output whatever the whitespace between tokens", () => {
    const random = mulberry32(hash(file));
    for (let i = 0; i < 25; i++) {
      const perturbed = perturbWhitespace(text, random, i % 5 === 4);
      expect(fmt(perturbed, file)).toBe(once);
    }
  });
});

it("covers the spec examples, the kitchen sink and whichever reference models exist", () => {
  expect(FIXTURES).toContain("test/fixtures/format/kitchen-sink.bdl");
  expect(FIXTURES.filter((f) => f.startsWith("test/fixtures/spec/")).length).toBeGreaterThan(0);
});

/**
 * Rewrites the whitespace between tokens without changing which tokens share a line:
 * spaces and tabs anywhere, more blank lines only where there already was one (or where
 * blank lines are always dropped: after `{`, before `}`, at either end), CRLF on request.
 */
function perturbWhitespace(text: string, random: () => number, crlf: boolean): string {
  const lexed = tokenize({ path: "p.bdl", text });
  const tokens = [...lexed.tokens, ...lexed.comments].sort((a, b) => a.startOffset - b.startOffset);
  const blanks = (max: number): string => {
    const n = Math.floor(random() * (max + 1));
    let s = "";
    for (let i = 0; i < n; i++) s += random() < 0.7 ? " " : "\t";
    return s;
  };
  const gap = (old: string, prev: string | null, next: string | null): string => {
    const newlines = old.split("\n").length - 1;
    if (newlines === 0) return old === "" ? blanks(2) : " " + blanks(3);
    const free = newlines >= 2 || prev === null || next === null || prev === "{" || next === "}";
    const count = newlines >= 2 ? 2 + Math.floor(random() * 3) : free ? 1 + Math.floor(random() * 3) : 1;
    let s = "";
    for (let i = 0; i < count; i++) s += blanks(3) + "\n";
    return s + blanks(6);
  };
  let out = "";
  let pos = 0;
  let prev: string | null = null;
  for (const t of tokens) {
    out += gap(text.slice(pos, t.startOffset), prev, t.image) + t.image;
    pos = t.endOffset! + 1;
    prev = t.image;
  }
  out += gap(text.slice(pos), prev, null);
  return crlf ? out.replace(/\n/g, "\r\n") : out;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const KITCHEN_SINK_FORMATTED = `// Kitchen sink for the formatter: every construct of the language, laid out badly.
// (It also checks: every model below is a valid model.)

import "bert.bdl" // a trailing comment on an import
import "roberta.bdl"

import "albert.bdl"

// a comment between imports

model sink extends bert { // after the brace
  vocab 30522 hidden 768
  layers 12
  heads 12 intermediate 3072 // two settings on one line
  activation gelu_new
  norm_eps 1e-12
  dropout 0.0 attention_dropout 0.10
  pooler tanh

  embeddings { positions 512 offset 0 segments 2 factorize 128 }
  embeddings {
    // a comment alone in a block
  }

  sharing {
    group a layers 0..5 share attention ffn
    group b layers [6, 8, 10] share ffn attention // a list, parts in written order
    group c layers 7 share attention
  }
  sharing none
  sharing all

  objectives { nsp off sop weight 1.0 }
  objectives {
    mlm weight 2.0
    sop
    // an own-line comment inside objectives
  }

  masking {
    rate 0.15 -> 0.40 over 100K
    mask 0.8 random 0.1 keep 0.1
    unit ngram 3
    schedule static duplicates 10
  }
  masking { unit word } masking { unit token schedule dynamic }

  teacher roberta from "checkpoints/\\"quoted\\" \\\\ path" {
    // a list over two lines
    init layers [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    init embeddings
  }
  // a comment inside a teacher line
  teacher albert from "ckpt"
  teacher bert {}

  tokenizer wordpiece lowercase
  tokenizer bpe
  special { pad 0 unk 100 cls 101 sep 102 mask 103 bos 104 eos 105 }
  train {
    optimizer adamw lr 5e-4 beta1 0.9 beta2 0.999 eps 1e-6 weight_decay 0.01
    warmup 10000 decay cosine
    batch 256
    seq 128 steps 1M
  } // after a closing brace

  expect params 12M
  expect encoder_params 11750400
  // last comment in the model
}

model empty-ish extends bert {}

model bare extends bert {}
// the end of the file
`;
