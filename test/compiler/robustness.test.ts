/**
 * Hostile inputs through `bdlc check`, as a user would run it: files on disk (in a temp
 * folder), `main(["check", path])`, and the contract of the CLI spec — exit 1 on a bad
 * file (0 where the input is valid), one clear message, never a stack trace or an
 * "internal error", and never a hang. Each case's time is printed at the end.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/compiler/cli.js";
import { MAX_FILE_BYTES } from "../../src/compiler/program.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TEN_MB = 10_000_000;
let dir = "";
const timings: [string, number, number][] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "bdl-robust-"));
  delete process.env["BDL_DEBUG"];
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  const width = Math.max(...timings.map(([n]) => n.length));
  console.log(
    ["bdlc check timings:", ...timings.map(([n, bytes, ms]) => `  ${n.padEnd(width)}  ${String(bytes).padStart(9)} B  ${ms.toFixed(0).padStart(6)} ms`)].join("\n"),
  );
});

/** mulberry32: a tiny seeded PRNG, so "random" inputs are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n: number, seed: number, min = 0): Buffer {
  const rand = mulberry32(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = min + Math.floor(rand() * (256 - min));
  return b;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

interface Run {
  code: number;
  out: string;
  err: string;
  ms: number;
}

async function check(name: string, file: string, bytes: number, ...flags: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const t0 = performance.now();
  const code = await main(["check", ...flags, file], { out: (t) => void out.push(t), err: (t) => void err.push(t), isTerminal: false });
  const ms = performance.now() - t0;
  timings.push([name, bytes, ms]);
  return { code, out: out.join("\n"), err: err.join("\n"), ms };
}

/** The CLI contract for any input: no stack trace, no internal error, exit 0 or 1. */
function expectClean(r: Run, code: 0 | 1): void {
  const all = `${r.out}\n${r.err}`;
  expect(all).not.toMatch(/^\s+at /m);
  expect(all).not.toMatch(/internal error/i);
  expect(all).not.toMatch(/Maximum call stack/);
  expect(r.code, all.slice(0, 2000)).toBe(code);
}

const SMALL = "model m { vocab 100 hidden 64 layers 2 heads 4 intermediate 128 objectives { mlm weight 1 } }\n";

describe("binary and undecodable input", () => {
  it("refuses a file with NUL bytes as binary, with one clear message", async () => {
    const content = randomBytes(1 << 20, 1);
    const r = await check("1 MiB random bytes (with NUL)", write("random.bdl", content), content.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/random\.bdl:1:1: error BDL010: Cannot read '.*random\.bdl': it is a binary file, not \.bdl text\./);
    expect(r.out.split("\n")).toHaveLength(1);
  });

  it("reports random bytes without NUL (invalid UTF-8 included) as errors", async () => {
    const content = randomBytes(64 << 10, 2, 1);
    const r = await check("64 KiB random bytes (no NUL)", write("noise.bdl", content), content.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/error BDL001: Unexpected character/);
  });

  it("treats a UTF-8 BOM and CRLF line endings as ordinary whitespace", async () => {
    const text = "\ufeff// crlf\r\nimport \"bert.bdl\"\r\n\r\nmodel x extends bert {\r\n  layers 6\r\n  hiden 3\r\n}\r\n";
    const r = await check("BOM + CRLF", write("crlf.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).toBe(`${path.join(dir, "crlf.bdl")}:6:3: error BDL020: Unknown property 'hiden' in model 'x'. Did you mean 'hidden'?`);
  });

  it("accepts an empty file (no models, nothing wrong)", async () => {
    const r = await check("empty file", write("empty.bdl", ""), 0);
    expectClean(r, 0);
  });

  it("refuses a directory with a clear message", async () => {
    const sub = path.join(dir, "folder.bdl");
    mkdirSync(sub);
    const r = await check("a directory", sub, 0);
    expectClean(r, 1);
    expect(r.out).toContain("it is a directory");
  });

  it("refuses a file over the size limit before reading it", async () => {
    const content = Buffer.alloc(MAX_FILE_BYTES + 1, 0x20);
    const r = await check("over the size limit (spaces)", write("huge.bdl", content), content.length);
    expectClean(r, 1);
    expect(r.out).toContain(`model files are limited to ${MAX_FILE_BYTES}`);
  });
});

describe("deep nesting", () => {
  const N = 5000;
  const cases: [string, string][] = [
    ["5,000 '{' at top level", "{".repeat(N)],
    ["5,000 '{' inside a model", `model a ${"{".repeat(N)}`],
    ["5,000 '{' closed again", `model a ${"{".repeat(N)}${"}".repeat(N)}`],
    ["5,000 '[' inside a value", `model a { vocab ${"[".repeat(N)}`],
    ["5,000 '[' closed again", `model a { vocab ${"[".repeat(N)}${"]".repeat(N)} }`],
    ["5,000 '{[' alternating", `model a { x ${"{[".repeat(N)}`],
    ["5,000 '}' at top level", "}".repeat(N)],
    ["5,000 '..' and '->'", `model a { rate ${"0..1 -> ".repeat(N)}}`],
    ["5,000 nested unclosed lists '[0,'", `model a { x ${"[0,".repeat(N)}${"]".repeat(N)} }`],
  ];
  it.each(cases)("%s: exit 1, no crash", async (name, text) => {
    const r = await check(name, write("deep.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/error BDL00\d/);
    expect(r.ms).toBeLessThan(3000);
  });

  it("an extends chain 2,000 models long resolves", async () => {
    const text = [SMALL.replace("model m", "model m0"), ...Array.from({ length: 1999 }, (_, i) => `model m${i + 1} extends m${i} { layers ${2 + (i % 3)} }`)].join("\n");
    const r = await check("extends chain of 2,000 models", write("chain.bdl", text), text.length);
    expectClean(r, 0);
  }, 20_000);

  it("an import chain 1,000 files long resolves", async () => {
    const sub = path.join(dir, "imports");
    mkdirSync(sub);
    let bytes = 0;
    for (let i = 0; i < 1000; i++) {
      const text = `${i < 999 ? `import "f${i + 1}.bdl"\n` : ""}${SMALL.replace("model m", `model m${i}`)}`;
      bytes += text.length;
      writeFileSync(path.join(sub, `f${i}.bdl`), text);
    }
    const r = await check("import chain of 1,000 files", path.join(sub, "f0.bdl"), bytes);
    expectClean(r, 0);
  }, 20_000);
});

describe("10 MB files", () => {
  it("a valid model (models/bert.bdl, comments and all) repeated to 10 MB checks clean", async () => {
    const bert = readFileSync(path.join(ROOT, "models/bert.bdl"), "utf8");
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < TEN_MB; i++) {
      const m = bert.replace("model bert {", `model bert${i} {`);
      parts.push(m);
      size += m.length;
    }
    const text = parts.join("\n");
    const r = await check(`bert.bdl x${parts.length}`, write("valid10.bdl", text), text.length, "--quiet");
    expectClean(r, 0);
    expect(r.out).toBe("");
  }, 60_000);

  it("one 10 MB comment checks clean", async () => {
    const text = `// ${"x".repeat(TEN_MB)}\n${SMALL}`;
    const r = await check("one giant comment", write("comment10.bdl", text), text.length);
    expectClean(r, 0);
  }, 30_000);

  it("10 MB of blank lines and comments checks clean", async () => {
    const text = `${"\n   // note\n\t\n".repeat(TEN_MB / 16)}${SMALL}`;
    const r = await check("blank lines + comments", write("blank10.bdl", text), text.length);
    expectClean(r, 0);
  }, 30_000);

  it("a 5 MB unterminated string is one error", async () => {
    const text = `import "${"a".repeat(TEN_MB / 2)}`;
    const r = await check("5 MB unterminated string", write("string5.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/error BDL002: Unterminated string/);
  }, 30_000);

  it("a 10 MB number is a range error, not a crash", async () => {
    const text = `model m { vocab ${"9".repeat(TEN_MB)} }`;
    const r = await check("10 MB number literal", write("number10.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/error BDL025: 'vocab' must be an integer/);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------
// Found while writing these tests, and fixed: inputs that broke the contract.

describe("inputs that once broke the contract", () => {
  // Chevrotain's in-repetition recovery re-enters the repetition recursively after every
  // error it resyncs from (recoverable.js `tryInRepetitionRecovery` -> `grammarRule.apply`),
  // so a run of a few thousand recoverable errors in one block overflows the stack. The
  // RangeError escapes `parseSource` and `ParseCache.get` (program.ts) reports it as
  // "BDL010 Cannot read '…': Maximum call stack size exceeded." — a read error for a file
  // that was read fine. Expected: recovery that stops (or stops recursing) after
  // MAX_SYNTAX_ERRORS, or at least a syntax diagnostic saying so instead of BDL010.
  it("5,000 repeated recoverable errors in one block ('x 1 1' x5000, 30 KB)", async () => {
    const text = `model a { ${"x 1 1 ".repeat(5000)}}`;
    const r = await check("'x 1 1' x5000 (stack overflow)", write("overflow1.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).not.toContain("BDL010");
  }, 30_000);

  // The lexer's string patterns (tokens.ts) are `"(?:[^"\\\r\n]|\\.)*`: an alternation inside
  // a star, which V8's regex engine backtracks through with one stack entry per character.
  // A string literal of ~8 million characters or more (well under MAX_FILE_BYTES) then
  // throws RangeError inside `tokenize`, reported as "BDL010 Cannot read '…': Maximum call
  // stack size exceeded." The unrolled form `"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*` matches the
  // same strings without the overflow (checked on 12 MB).
  it("a 10 MB unterminated string is one error", async () => {
    const text = `import "${"a".repeat(TEN_MB)}`;
    const r = await check("10 MB unterminated string (regex overflow)", write("string10.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.out).toMatch(/error BDL002: Unterminated string/);
  }, 30_000);

  // The same recovery rescans forward for a resync token after every error, so parse time
  // is quadratic in the number of errors: random tokens of the language take ~0.5 s for
  // 128 KB, ~1.6 s for 256 KB, ~4.7 s for 512 KB, ~14 s for 1 MB, and 2 MB overflows the
  // stack after ~57 s; a 10 MB file of such junk effectively hangs. At the speed a valid
  // file checks (10 MB in ~3.5 s), 512 KB should take well under a second.
  it("512 KB of junk tokens checks in under 1.5 s", async () => {
    const words = ["model", "x", "{", "}", "1", "[", "]", "vocab", "..", '"s"', "extends", ",", "->", "over", "sharing", "group", "layers", "share", "0.5", "\n"];
    const rand = mulberry32(7);
    const parts: string[] = [];
    for (let size = 0; size < 512_000; ) {
      const w = words[Math.floor(rand() * words.length)]!;
      parts.push(w);
      size += w.length + 1;
    }
    const text = parts.join(" ");
    const r = await check("512 KB token junk (quadratic)", write("junk.bdl", text), text.length);
    expectClean(r, 1);
    expect(r.ms).toBeLessThan(1500);
  }, 60_000);

  // Syntax errors are capped at MAX_SYNTAX_ERRORS per file (parse.ts), but lexical errors
  // (BDL001) are not: 1 MB of random bytes prints ~10 MB of diagnostics, and 10 MB of
  // random printable lines ~107 MB (and takes ~25 s, mostly building that output).
  it("lexical errors are capped per file like syntax errors", async () => {
    const content = randomBytes(256 << 10, 3, 1);
    const r = await check("256 KiB random bytes: output size", write("flood.bdl", content), content.length);
    expectClean(r, 1);
    expect(r.out.split("\n").length).toBeLessThanOrEqual(250);
  }, 30_000);
});
