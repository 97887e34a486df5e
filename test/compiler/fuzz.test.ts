/**
 * Seeded fuzzing of the front end: token soups from the language's vocabulary, model-shaped
 * programs built from the schema, random strings, and mutations of the real models and
 * fixtures. For every input:
 *   - `checkProgram` (on an in-memory host) returns, within a time bound, without throwing;
 *   - every diagnostic has a code BDL0xx, a severity, a non-empty message with no unfilled
 *     `{0}` placeholder, and a span inside its file's text;
 *   - `formatSource` refuses exactly the inputs with syntax errors, and otherwise produces
 *     text that parses cleanly to the same AST (comments included) and is a fixed point.
 *
 * Reproduce a failure with the seed and case it prints:
 *   BDL_FUZZ_SEED=<seed> BDL_FUZZ_CASE=<n> npx vitest run test/compiler/fuzz.test.ts
 * BDL_FUZZ_CASES=<n> runs more (or fewer) cases per generator. A case that hangs cannot be
 * caught by the time bound (the check is synchronous); BDL_FUZZ_TRACE=<file> writes each
 * case to <file> before running it, so the last one written is the one that hung.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../src/compiler/semantics/check.js";
import type { Diagnostic } from "../../src/compiler/diagnostics.js";
import { parseSource } from "../../src/compiler/syntax/parse.js";
import { BUILTIN_MODELS_DIR, loadProgram, nodeHost, ParseCache, type CompilerHost } from "../../src/compiler/semantics/program.js";
import { EXPECT_KEYS, MODEL_PROPERTIES, OBJECTIVES, RECORDS, SHARED_PARTS, TOKENIZERS } from "../../src/compiler/semantics/schema.js";
import { KEYWORDS } from "../../src/compiler/syntax/tokens.js";
import { mulberry32 } from "../../src/runtime/data/random.js";
import { astShape } from "../helpers/ast-shape.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SEED = Number(process.env["BDL_FUZZ_SEED"] ?? 0x5eed_bd1) >>> 0;
const PER_GENERATOR = Number(process.env["BDL_FUZZ_CASES"] ?? 1000);
const ONLY = process.env["BDL_FUZZ_CASE"] === undefined ? null : Number(process.env["BDL_FUZZ_CASE"]);
const TRACE = process.env["BDL_FUZZ_TRACE"];
/** Per case, check + format together; the slowest case is a few tens of ms. */
const CASE_MS = 2000;

// ---------------------------------------------------------------------------------------
// Randomness

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  times(lo: number, hi: number, f: () => string, sep = " "): string {
    return Array.from({ length: this.between(lo, hi) }, f).join(sep);
  }
}

// ---------------------------------------------------------------------------------------
// Generators

const KEYWORD_WORDS = KEYWORDS.map((k) => String(k.LABEL ?? k.name).replace(/'/g, ""));
const PROPERTY_WORDS = [
  ...Object.keys(MODEL_PROPERTIES),
  ...Object.keys(RECORDS),
  ...Object.values(RECORDS).flatMap((r) => Object.keys(r)),
];
const VALUE_WORDS = [
  "gelu",
  "gelu_new",
  "relu",
  "tanh",
  "none",
  "all",
  "token",
  "word",
  "ngram",
  "static",
  "dynamic",
  "adamw",
  "lamb",
  "linear",
  "cosine",
  "mlm",
  "nsp",
  "sop",
  "distill",
  "weight",
  "temperature",
  "attention",
  "ffn",
  "bert",
  "albert",
  "x",
  "y",
  "hiden",
  "bret",
  "a-b",
];
// No count in the millions here: `layers 110M` with `expect` or `sharing all` hangs or runs out
// of memory (a known bug: sizes have no upper bound; see robustness.test.ts). Counts such as
// 110M still appear, after `expect`, in the model-shaped programs.
const NUMBERS = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "6",
  "7",
  "12",
  "64",
  "128",
  "768",
  "3072",
  "30522",
  "0.1",
  "0.15",
  "0.8",
  "1.0",
  "1.5",
  "1e-12",
  "6e-4",
  "-1",
  "1.5K",
  "2K",
];
const PUNCT = [
  "{",
  "}",
  "[",
  "]",
  ",",
  "..",
  "->",
  '"bert.bdl"',
  '"x"',
  '"unterminated',
  "// comment\n",
  "\n",
  "#",
  ";",
  "=",
  ":",
  "\\",
  "\u00e9",
  "\u{1F600}",
];
const VOCAB = [...KEYWORD_WORDS, ...PROPERTY_WORDS, ...VALUE_WORDS, ...NUMBERS, ...PUNCT];

function tokenSoup(r: Rng): string {
  const seps = [" ", " ", " ", "\n", "", "  "];
  let out = r.chance(0.5) ? 'import "bert.bdl"\n' : "";
  const n = r.between(1, 150);
  for (let i = 0; i < n; i++) out += r.pick(VOCAB) + r.pick(seps);
  return out;
}

function randomString(r: Rng): string {
  const n = r.between(0, 400);
  let out = "";
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    if (k < 6) out += String.fromCharCode(r.between(32, 126));
    else if (k < 7) out += r.pick(["\n", "\r\n", "\t", "\r", "\u0000", "\u000b", "\ufeff", "\u00a0"]);
    else if (k < 8) out += String.fromCharCode(r.between(0, 0xd7ff));
    else if (k < 9)
      out += r.pick(["\ud800", "\udfff", "\u{10ffff}", "\u2028", "\u200b"]); // lone surrogates, separators
    else out += r.pick(VOCAB);
  }
  return out;
}

/** A program shaped like the language (imports, models, every kind of member) with random choices inside. */
function structured(r: Rng): string {
  const typo = (w: string) => (r.chance(0.1) ? w.slice(0, -1) + r.pick(["e", "s", "x", ""]) : w);
  const int = () =>
    r.pick([
      "0",
      "1",
      "2",
      "3",
      "4",
      "6",
      "8",
      "12",
      "16",
      "64",
      "100",
      "128",
      "256",
      "512",
      "768",
      "1024",
      "3072",
      "30000",
      "30522",
      "-1",
      "2.5",
      "1.5K",
    ]);
  const frac = () => r.pick(["0", "0.1", "0.15", "0.2", "0.5", "0.8", "0.9", "1", "1.0", "1e-12", "1e-5", "-0.1", "2"]);
  const layerSet = () =>
    r.pick([
      () => `${r.between(0, 12)}..${r.between(0, 13)}`,
      () => `[${r.times(0, 7, () => String(r.between(0, 13)), ", ")}]`,
      () => String(r.between(0, 13)),
    ])();
  const value = (): string =>
    r.pick([
      int,
      frac,
      () => r.pick(VALUE_WORDS),
      () => `ngram ${r.between(0, 5)}`,
      () => `"${r.pick(["x", "checkpoints/bert", ""])}"`,
      () => `${frac()} -> ${frac()} over ${int()}`,
      () => `[${r.times(0, 4, int, ", ")}]`,
      () => `${r.between(0, 3)}..${r.between(0, 20)}`,
    ])();
  const setting = (keys: readonly string[]) => `${typo(r.pick(keys))} ${value()}`;
  const member = (): string =>
    r.pick([
      () => setting(Object.keys(MODEL_PROPERTIES)),
      () => setting(Object.keys(MODEL_PROPERTIES)),
      () => {
        const name = r.pick(Object.keys(RECORDS)) as keyof typeof RECORDS;
        return `${typo(name)} { ${r.times(0, 5, () => setting(Object.keys(RECORDS[name])))} }`;
      },
      () => `sharing ${typo(r.pick(["all", "none"]))}`,
      () =>
        `sharing {\n${r.times(0, 3, () => `    group ${r.pick(["a", "b", "c"])} layers ${layerSet()} share ${r.times(1, 2, () => typo(r.pick(SHARED_PARTS)))}`, "\n")}\n  }`,
      () =>
        `objectives { ${r.times(0, 4, () => {
          const name = r.pick(Object.keys(OBJECTIVES)) as keyof typeof OBJECTIVES;
          return r.chance(0.3)
            ? `${typo(name)} off`
            : `${typo(name)} ${r.times(0, 2, () => `${typo(r.pick(Object.keys(OBJECTIVES[name])))} ${frac()}`)}`;
        })} }`,
      () =>
        `teacher ${r.pick(["bert", "x", "y", "bret", "albert"])}${r.chance(0.5) ? ' from "ckpt"' : ""}${
          r.chance(0.7) ? ` { ${r.times(0, 2, () => (r.chance(0.6) ? `init layers ${layerSet()}` : `init ${typo("embeddings")}`))} }` : ""
        }`,
      () => `expect ${typo(r.pick(EXPECT_KEYS))} ${r.pick(["110M", "19M", "1.5K", "110106428", "0", "2.5", "1M"])}`,
      () => `tokenizer ${typo(r.pick(TOKENIZERS))}${r.chance(0.5) ? " lowercase" : ""}`,
    ])();
  const imports = r.times(0, 2, () => `import "${r.pick(["bert.bdl", "albert.bdl", "distilbert.bdl", "missing.bdl", "main.bdl"])}"`, "\n");
  const models = r.times(
    1,
    3,
    () => {
      const name = r.pick(["x", "y", "z", "bert"]);
      const base = r.chance(0.8) ? ` extends ${r.pick(["bert", "bert", "x", "y", "bret", "roberta"])}` : "";
      return `model ${name}${base} {\n${r.times(0, 8, () => `  ${member()}`, "\n")}\n}`;
    },
    "\n\n",
  );
  return `${imports}\n${models}\n`;
}

const CORPUS = ["models", "test/fixtures/spec", "test/fixtures/format"].flatMap((dir) => {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => f.endsWith(".bdl"))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, text: readFileSync(path.join(full, f), "utf8") }));
});

/** 1–4 token- or character-level edits of a real file. */
function mutation(r: Rng): { text: string; from: string } {
  const source = r.pick(CORPUS);
  let text = source.text;
  const edits = r.between(1, 4);
  for (let e = 0; e < edits; e++) {
    const parts = text.split(/(\s+)/); // odd indices are whitespace
    const words = parts.map((_, i) => i).filter((i) => i % 2 === 0 && parts[i] !== "");
    const at = () => r.int(text.length + 1);
    const op = r.int(9);
    if (op <= 3 && words.length > 0) {
      const i = r.pick(words);
      if (op === 0)
        parts[i] = ""; // delete a token
      else if (op === 1)
        parts[i] = `${parts[i]} ${parts[i]}`; // duplicate it
      else if (op === 2) {
        const j = r.pick(words); // swap two tokens
        [parts[i], parts[j]] = [parts[j]!, parts[i]!];
      } else parts[i] = r.pick(VOCAB); // replace it
      text = parts.join("");
    } else if (op === 4) {
      const i = at();
      text = text.slice(0, i) + text.slice(i + r.between(1, 3)); // delete characters
    } else if (op === 5) {
      const i = at();
      text = text.slice(0, i) + r.pick([...'{}[]",.#\n\u0000-0123456789abcxyz ', "..", "->", "//"]) + text.slice(i); // insert one
    } else if (op === 6) {
      const i = at();
      const j = Math.min(text.length, i + r.between(1, 80));
      text = text.slice(0, j) + text.slice(i, j) + text.slice(j); // duplicate a slice
    } else if (op === 7) {
      text = text.slice(0, at()); // truncate
    } else {
      const i = at();
      text = text.slice(0, i) + "\n" + text.slice(i); // break a line
    }
  }
  return { text, from: source.name };
}

// ---------------------------------------------------------------------------------------
// The properties

/** In-memory files; the reference models (and only they) come from disk. */
let files = new Map<string, string>();
const host: CompilerHost = {
  readFile(p) {
    const text = files.get(path.resolve(p));
    if (text !== undefined) return text;
    if (path.resolve(p).startsWith(BUILTIN_MODELS_DIR)) return nodeHost.readFile(p);
    throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  },
  fileExists(p) {
    return files.has(path.resolve(p)) || (path.resolve(p).startsWith(BUILTIN_MODELS_DIR) && nodeHost.fileExists(p));
  },
};
// One cache for the whole run: the reference models are parsed once, each case's file has a
// path of its own.
const cache = new ParseCache(host);

type Formatter = (source: { path: string; text: string }) => { text?: string; diagnostics: Diagnostic[] };
let formatSource: Formatter | null = null;

const stats = { cases: 0, diagnostics: 0, formatted: 0, refused: 0, slowest: 0, slowestCase: "", codes: new Set<string>() };

beforeAll(async () => {
  // format.ts is written alongside these tests; its part of the properties runs once it exists.
  const formatPath = path.join(ROOT, "src/compiler/format.ts");
  if (existsSync(formatPath)) formatSource = ((await import(/* @vite-ignore */ formatPath)) as { formatSource: Formatter }).formatSource;
});

afterAll(() => {
  console.log(
    `fuzz: seed ${SEED}, ${stats.cases} cases, ${stats.diagnostics} diagnostics of ${stats.codes.size} codes, ` +
      `${formatSource ? `${stats.formatted} formatted / ${stats.refused} refused` : "formatter not present, format property skipped"}, ` +
      `slowest case ${stats.slowest.toFixed(1)} ms (${stats.slowestCase})`,
  );
});

function describeCase(label: string, text: string): string {
  const shown = text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
  return `${label}\nreproduce: BDL_FUZZ_SEED=${SEED} BDL_FUZZ_CASE=${label.split("#")[1]?.split(" ")[0]} npx vitest run test/compiler/fuzz.test.ts\ninput: ${JSON.stringify(shown)}`;
}

function checkCase(label: string, text: string, entry: string): void {
  if (TRACE) writeFileSync(TRACE, `${describeCase(label, text)}\n`);
  files = new Map([[path.resolve(entry), text]]);
  const t0 = performance.now();
  let diagnostics: Diagnostic[];
  try {
    diagnostics = checkProgram(loadProgram(entry, cache)).diagnostics;
  } catch (e) {
    throw new Error(`checkProgram threw ${(e as Error).stack}\n${describeCase(label, text)}`);
  }
  for (const d of diagnostics) {
    const where = `${d.code} "${d.message}" at ${d.span.source.path}[${d.span.start},${d.span.end})`;
    const ok =
      /^BDL0\d\d$/.test(d.code) &&
      (d.severity === "error" || d.severity === "warning") &&
      typeof d.message === "string" &&
      d.message.trim() !== "" &&
      !/\{\d+\}/.test(d.message) &&
      (text.includes("undefined") || !d.message.includes("undefined")) &&
      Number.isInteger(d.span.start) &&
      Number.isInteger(d.span.end) &&
      0 <= d.span.start &&
      d.span.start <= d.span.end &&
      d.span.end <= d.span.source.text.length &&
      (d.span.source.path !== entry || d.span.source.text === text);
    if (!ok) throw new Error(`bad diagnostic ${where}\n${describeCase(label, text)}`);
    stats.codes.add(d.code);
  }
  stats.diagnostics += diagnostics.length;

  if (formatSource) {
    let result: ReturnType<Formatter>;
    try {
      result = formatSource({ path: entry, text });
    } catch (e) {
      throw new Error(`formatSource threw ${(e as Error).stack}\n${describeCase(label, text)}`);
    }
    const syntaxErrors = parseSource({ path: entry, text }).diagnostics.filter((d) => d.severity === "error");
    if (result.text === undefined) {
      if (syntaxErrors.length === 0) throw new Error(`formatSource refused a file without syntax errors\n${describeCase(label, text)}`);
      stats.refused++;
    } else {
      if (syntaxErrors.length > 0) throw new Error(`formatSource formatted a file with syntax errors\n${describeCase(label, text)}`);
      const again = parseSource({ path: entry, text: result.text });
      if (again.diagnostics.length > 0) {
        throw new Error(
          `formatted text does not parse: ${again.diagnostics[0]!.message}\n${describeCase(label, text)}\nformatted: ${JSON.stringify(result.text)}`,
        );
      }
      try {
        expect(astShape(result.text).shape).toEqual(astShape(text).shape);
      } catch (e) {
        throw new Error(
          `formatting changed the AST\n${(e as Error).message}\n${describeCase(label, text)}\nformatted: ${JSON.stringify(result.text)}`,
        );
      }
      const twice = formatSource({ path: entry, text: result.text }).text;
      if (twice !== result.text) {
        throw new Error(
          `formatting is not idempotent\n${describeCase(label, text)}\nonce: ${JSON.stringify(result.text)}\ntwice: ${JSON.stringify(twice)}`,
        );
      }
      stats.formatted++;
    }
  }

  const ms = performance.now() - t0;
  if (ms > stats.slowest) {
    stats.slowest = ms;
    stats.slowestCase = label;
  }
  if (ms > CASE_MS) throw new Error(`took ${ms.toFixed(0)} ms (bound ${CASE_MS} ms)\n${describeCase(label, text)}`);
  stats.cases++;
}

const GENERATORS: [string, number, (r: Rng) => { text: string; from?: string }][] = [
  ["token soup", 1, (r) => ({ text: tokenSoup(r) })],
  ["model-shaped program", 2, (r) => ({ text: structured(r) })],
  ["random string", 3, (r) => ({ text: randomString(r) })],
  ["mutated corpus file", 4, mutation],
];

describe(`fuzz (seed ${SEED})`, () => {
  it("has a corpus to mutate", () => {
    expect(CORPUS.map((c) => c.name)).toEqual(expect.arrayContaining(["models/bert.bdl", "test/fixtures/spec/example-2.bdl"]));
  });

  it.each(GENERATORS)(
    "%s: check never throws, diagnostics are well-formed, fmt is safe",
    (name, salt, generate) => {
      const only = ONLY !== null && Math.floor(ONLY / 1_000_000) === salt ? ONLY % 1_000_000 : null;
      for (let i = only ?? 0; i < (only === null ? (ONLY === null ? PER_GENERATOR : 0) : only + 1); i++) {
        const n = salt * 1_000_000 + i;
        // Each case has its own generator seeded from (seed, case), so one case replays alone.
        const r = new Rng((SEED ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
        const { text, from } = generate(r);
        checkCase(`${name} #${n}${from ? ` (from ${from})` : ""}`, text, `fuzz/case-${n}.bdl`);
      }
    },
    120_000,
  );
});
