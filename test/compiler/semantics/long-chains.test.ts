/**
 * Long `extends` and `import` chains cost work proportional to their length. The work is
 * counted, not timed: lookups of base models by name (a resolver that walks every model's
 * whole chain again makes n²/2 of them) and file reads (each file once). A chain of 5,000
 * is long enough that a quadratic resolver is 800 times over the bound, and deep enough
 * that recursion over it would overflow the stack.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkProgram } from "../../../src/compiler/semantics/check.js";
import { lineCol } from "../../../src/compiler/source.js";
import { loadProgram, ParseCache, type CompilerHost, type ModelEntry } from "../../../src/compiler/semantics/program.js";

const N = 5000;
const ROOT_MODEL = "model m0 {\n  vocab 100\n  hidden 64\n  layers 2\n  heads 4\n  intermediate 128\n  objectives { mlm }\n}\n";
const child = (i: number) => `model m${i} extends m${i - 1} { layers ${1 + (i % 3)} }\n`;

/** Files in memory, counting how often each is read. */
function memoryHost(files: Map<string, string>, reads: Map<string, number>): CompilerHost {
  return {
    readFile(p) {
      const key = path.resolve(p);
      reads.set(key, (reads.get(key) ?? 0) + 1);
      const text = files.get(key);
      if (text === undefined) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      return text;
    },
    fileExists: (p) => files.has(path.resolve(p)),
  };
}

/** The program's model index, counting lookups by name: the resolver's unit of work. */
class CountingMap extends Map<string, ModelEntry> {
  gets = 0;
  override get(key: string): ModelEntry | undefined {
    this.gets++;
    return super.get(key);
  }
}

function checkCounting(files: Map<string, string>, entry: string) {
  const reads = new Map<string, number>();
  const program = loadProgram(entry, new ParseCache(memoryHost(files, reads)));
  const models = new CountingMap(program.models);
  program.models = models;
  const checked = checkProgram(program);
  return { checked, lookups: models.gets, reads };
}

describe("a chain of 5,000 models", () => {
  it("in one file: each model's base is looked up a bounded number of times", () => {
    let text = ROOT_MODEL;
    for (let i = 1; i < N; i++) text += child(i);
    const file = path.resolve("mem/chain.bdl");
    const { checked, lookups } = checkCounting(new Map([[file, text]]), file);

    expect(checked.diagnostics).toEqual([]);
    expect(checked.resolutions.size).toBe(N);
    expect(lookups).toBeLessThanOrEqual(3 * N);
    const leaf = checked.resolutions.get(`m${N - 1}`)!.model;
    expect(leaf.layers).toBe(1 + ((N - 1) % 3));
    expect(leaf.vocab).toBe(100);
    expect(leaf.bases).toHaveLength(N - 1);
    expect([leaf.bases[0], leaf.bases.at(-1)]).toEqual([`m${N - 2}`, "m0"]);
    // Nearest first, like the chain's own `extends`: what `print --resolved` writes.
    expect(JSON.parse(JSON.stringify(leaf)).bases.slice(0, 3)).toEqual([`m${N - 2}`, `m${N - 3}`, `m${N - 4}`]);
  });

  it("across 5,000 files, each importing the one before: every file read once, no stack overflow", () => {
    const files = new Map<string, string>([[path.resolve("mem/f0.bdl"), ROOT_MODEL]]);
    for (let i = 1; i < N; i++) files.set(path.resolve(`mem/f${i}.bdl`), `import "f${i - 1}.bdl"\n${child(i)}`);
    const entry = path.resolve(`mem/f${N - 1}.bdl`);
    const { checked, lookups, reads } = checkCounting(files, entry);

    expect(checked.diagnostics).toEqual([]);
    expect(checked.resolutions.size).toBe(N);
    expect(lookups).toBeLessThanOrEqual(3 * N);
    expect(reads.size).toBe(N);
    expect(Math.max(...reads.values())).toBe(1);
  });

  it("a cycle is one diagnostic, at the first-declared member, whichever member is resolved first", () => {
    let text = "";
    for (let i = 0; i < N; i++) text += `model m${i} extends m${(i + 1) % N} {}\n`;
    const file = path.resolve("mem/cycle.bdl");
    const { checked, lookups } = checkCounting(new Map([[file, text]]), file);

    expect(checked.diagnostics.map((d) => [d.code, lineCol(d.span.source, d.span.start)])).toEqual([["BDL014", { line: 1, column: 18 }]]);
    expect(checked.diagnostics[0]!.message).toMatch(/^Extends cycle: m1 -> m2 -> .* -> m4999 -> m0 -> m1\.$/);
    expect(lookups).toBeLessThanOrEqual(3 * N);
  });
});
