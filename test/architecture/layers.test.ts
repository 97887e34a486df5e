/**
 * The layers of src/ and which may import which (docs/architecture.md): the model layer
 * and file reading import nothing of ours; the compiler and the runtime import the model
 * and never each other; app/ joins them into what the CLI runs; the CLI sits on top.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve("src");

const MAY_IMPORT: Record<string, readonly string[]> = {
  model: [],
  io: [],
  tools: ["model", "io"],
  compiler: ["model", "io"],
  runtime: ["model", "io", "tools"],
  torch: ["model", "io"],
  app: ["model", "io", "tools", "compiler", "runtime", "torch"],
  lsp: ["model", "io", "compiler"],
  cli: ["model", "io", "tools", "compiler", "runtime", "torch", "app", "lsp"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(e.name) ? [p] : [];
  });
}

const layerOf = (file: string): string => relative(SRC, file).split(sep)[0]!;

/** Every relative module a file names: static imports, re-exports, `import type` and dynamic `import("…")`. */
export function importedPaths(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)) found.push(m[1]!);
  return found;
}

describe("layers", () => {
  const files = sourceFiles(SRC);

  it("every file lies in a known layer", () => {
    expect(files.map(layerOf).filter((l) => !(l in MAY_IMPORT))).toEqual([]);
  });

  it("the import scanner sees every form of import", () => {
    const text = [
      'import { a } from "../model/a.js";',
      'import type { B } from "../io/b.js";',
      'export { c } from "./c.js";',
      'const d = await import("../runtime/d.js");',
      'import "../tools/e.js";',
      'const s = "from \\"nothing\\"";',
    ].join("\n");
    expect(importedPaths(text)).toEqual(["../model/a.js", "../io/b.js", "./c.js", "../runtime/d.js", "../tools/e.js"]);
  });

  it("no layer imports one it may not", () => {
    const forbidden: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const spec of importedPaths(readFileSync(file, "utf8"))) {
        const target = resolve(dirname(file), spec);
        const to = relative(SRC, target).startsWith("..") ? "(outside src)" : layerOf(target);
        if (to !== from && !MAY_IMPORT[from]!.includes(to))
          forbidden.push(`${relative(SRC, file)} → ${spec} (${from} may not import ${to})`);
      }
    }
    expect(forbidden).toEqual([]);
  });

  // A command is flags, one app/ call and printing: what two commands share lives in app/ or in the two CLI helpers.
  it("no command imports another command", () => {
    const commands = resolve(SRC, "cli", "commands");
    const helpers = new Set(["command.ts", "interrupt.ts"].map((f) => join(commands, f)));
    const crossing: string[] = [];
    for (const file of files.filter((f) => dirname(f) === commands && !helpers.has(f))) {
      for (const spec of importedPaths(readFileSync(file, "utf8"))) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
        if (dirname(target) === commands && !helpers.has(target)) crossing.push(`${relative(SRC, file)} → ${spec}`);
      }
    }
    expect(crossing).toEqual([]);
  });
});
