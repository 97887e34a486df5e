import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CorpusError,
  LINES_PER_DOCUMENT,
  SYNSETS_PER_DOCUMENT,
  countSentences,
  documentsOnSide,
  heldOutFlags,
  sentencesOf,
  fnv1a,
  loadCorpus,
  requireSize,
  splitHeldOut,
  splitSentences,
} from "../../../src/runtime/data/corpus.js";
import type { Corpus, Document } from "../../../src/runtime/data/types.js";
import { loadWordNet } from "../../../src/runtime/data/wordnet.js";
import { tempFiles, thrown } from "../../helpers/temp-files.js";

const { dir, file } = tempFiles("bdl-corpus-");
const error = (f: () => unknown): CorpusError => thrown(CorpusError, f);

// Loaded once for the file.
const wordnet: Corpus = loadCorpus("wordnet");
const wordnetDocuments = [...wordnet.documents()];

describe("loadCorpus('wordnet')", () => {
  it("groups up to 8 consecutive synsets of one lexicographer file per document, in file order", () => {
    expect(wordnet.name).toBe("wordnet");
    // 117,791 synsets: at least ⌈117,791 / 8⌉ documents, more where a lexicographer file ends.
    expect(wordnetDocuments.length).toBeGreaterThanOrEqual(Math.ceil(117_791 / SYNSETS_PER_DOCUMENT));
    expect(wordnetDocuments.length).toBeLessThan(117_791 / SYNSETS_PER_DOCUMENT + 100);
    expect(wordnetDocuments[0]!.id).toBe("n00001740");
    expect(new Set(wordnetDocuments.map((d) => d.id)).size).toBe(wordnetDocuments.length);
    expect(countSentences(wordnet)).toBeGreaterThan(160_000);
    // Every synset's definition is in one document, at most 8 to a document; every
    // lexicographer file starts at least one document.
    const synsets = loadWordNet();
    const heads = new Set(
      synsets.filter((s) => s.definition.trim() !== "").map((s) => `${s.words.join(", ")}: ${s.definition.replace(/"/g, "").trim()}`),
    );
    const perDocument = wordnetDocuments.map((d) => d.sentences.filter((s) => heads.has(s)).length);
    expect(Math.max(...perDocument)).toBe(SYNSETS_PER_DOCUMENT);
    expect(Math.min(...perDocument)).toBeGreaterThanOrEqual(1);
    expect(perDocument.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(heads.size);
    const lexnameOf = new Map(synsets.map((s) => [`${s.pos}${s.offset}`, s.lexname]));
    expect(new Set(wordnetDocuments.map((d) => lexnameOf.get(d.id)!)).size).toBe(45);
  });
  it("writes each synset as 'its words: its definition', then its examples, without quotes", () => {
    const dog = wordnetDocuments.find((d) => d.sentences.some((s) => s.startsWith("dog, domestic dog, Canis familiaris: ")))!;
    const at = dog.sentences.findIndex((s) => s.startsWith("dog, domestic dog, Canis familiaris: "));
    expect(dog.sentences[at]).toContain("domesticated");
    expect(dog.sentences[at + 1]).toBe("the dog barked all night");
    for (const d of wordnetDocuments) {
      if (d.sentences.length === 0 || d.sentences.some((s) => s.length === 0 || s.includes('"'))) throw new Error(`bad document ${d.id}`);
    }
  });
});

describe("splitSentences", () => {
  it("cuts after . ! ? before whitespace and an uppercase letter or quote", () => {
    expect(splitSentences('It rained. Then it stopped! Did it? "Yes," she said.')).toEqual([
      "It rained.",
      "Then it stopped!",
      "Did it?",
      '"Yes," she said.',
    ]);
    expect(splitSentences('He said "Hi." Then he left.')).toEqual(['He said "Hi."', "Then he left."]);
    expect(splitSentences("Élan. Über alles.")).toEqual(["Élan.", "Über alles."]);
  });
  it("does not cut before lowercase, digits, or without whitespace", () => {
    expect(splitSentences("e.g. this one. and 3.5 m. 4 more.")).toEqual(["e.g. this one. and 3.5 m. 4 more."]);
    expect(splitSentences("  ")).toEqual([]);
  });
});

describe("loadCorpus(plain text)", () => {
  it("reads blank-line separated blocks as documents, splitting long lines", () => {
    const path = file("blocks.txt", "\nFirst line.\nSecond line. Also a second sentence.\n\n\n  \nAnother document.\n\n");
    const c = loadCorpus(path);
    expect(c.name).toBe(path);
    expect([...c.documents()]).toEqual([
      { id: "2", sentences: ["First line.", "Second line.", "Also a second sentence."] },
      { id: "7", sentences: ["Another document."] },
    ]);
  });
  it("groups lines into documents of up to 8 sentences when there are no blank lines", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `Sentence number ${i + 1}. Not split here.`);
    const c = loadCorpus(file("lines.txt", `\n${lines.join("\n")}\n\n`));
    expect(LINES_PER_DOCUMENT).toBe(8);
    expect([...c.documents()].map((d) => d.sentences.length)).toEqual([8, 8, 4]);
    expect([...c.documents()].map((d) => d.id)).toEqual(["2", "10", "18"]);
    expect([...c.documents()][0]!.sentences[0]).toBe("Sentence number 1. Not split here.");
  });
  it("handles CRLF line ends and a BOM", () => {
    const c = loadCorpus(file("crlf.txt", "\uFEFFOne.\r\nTwo.\r\n\r\nThree.\r\n"));
    expect([...c.documents()]).toEqual([
      { id: "1", sentences: ["One.", "Two."] },
      { id: "4", sentences: ["Three."] },
    ]);
  });
  it("treats any non-.jsonl extension (or none) as plain text", () => {
    expect([...loadCorpus(file("corpus", "a\nb\n")).documents()]).toEqual([{ id: "1", sentences: ["a", "b"] }]);
    expect([...loadCorpus(file("c.json", '{"text": "x"}\n')).documents()][0]!.sentences).toEqual(['{"text": "x"}']);
  });
});

describe("loadCorpus(JSONL)", () => {
  it("reads objects with text and optional id", () => {
    const path = file(
      "c.jsonl",
      '{"text": "One here. Two here.", "id": "a"}\n\n{"text": "Three", "id": 7, "extra": true}\n{"text": "Four."}\n{"text": "   "}\n',
    );
    expect([...loadCorpus(path).documents()]).toEqual([
      { id: "a", sentences: ["One here.", "Two here."] },
      { id: "7", sentences: ["Three"] },
      { id: "4", sentences: ["Four."] },
    ]);
  });
  it("names the line of a bad line", () => {
    const bad = (content: string): string => error(() => loadCorpus(file("bad.jsonl", content))).message;
    expect(bad('{"text": "ok"}\n[1, 2]\n')).toMatch(/bad\.jsonl:2: each line must be a JSON object with a "text" string, got an array/);
    expect(bad('{"text": "ok"}\n\n"just a string"\n')).toMatch(/bad\.jsonl:3: each line must be a JSON object/);
    expect(bad('{"text": "ok"}\n{"body": "x", "id": 1}\n')).toMatch(/bad\.jsonl:2: the object has no "text" field \(found: body, id\)/);
    expect(bad('{"text": 5}\n')).toMatch(/bad\.jsonl:1: "text" must be a string, got number/);
    expect(bad('{"text": "ok"}\n{"text": \n')).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect(bad('{"text": "ok", "id": [1]}\n')).toMatch(/bad\.jsonl:1: "id" must be a string or number/);
  });
});

describe("loadCorpus errors", () => {
  it("a missing file", () => {
    const path = join(dir, "nope.txt");
    expect(error(() => loadCorpus(path)).message).toBe(`${path}: no such file`);
    expect(error(() => loadCorpus(join(dir, "nope.jsonl"))).message).toMatch(/nope\.jsonl: no such file$/);
  });
  it("a directory", () => {
    const sub = join(dir, "a-dir.txt");
    mkdirSync(sub);
    expect(error(() => loadCorpus(sub)).message).toBe(`${sub}: is a directory, not a file`);
  });
  it("binary content: NUL bytes or invalid UTF-8, refused where they are", () => {
    const nul = file("nul.txt", Buffer.from([0x48, 0x69, 0x00, 0x0a]));
    expect(error(() => loadCorpus(nul)).message).toBe(`${nul}:1:3: contains a NUL byte: this is binary data, not UTF-8 text`);
    const latin1 = file("latin1.txt", Buffer.from("caf\xe9 cr\xe8me br\xfbl\xe9e\n", "latin1"));
    expect(error(() => loadCorpus(latin1)).message).toBe(`${latin1}:1:4: byte 0xE9 is not valid UTF-8 (the file must be UTF-8 text)`);
    // Even one bad byte in a large file: decoding it as U+FFFD would train on text the file does not hold.
    const oneBad = file("one-bad.txt", Buffer.concat([Buffer.from("x".repeat(200) + "\n"), Buffer.from([0xff, 0x0a])]));
    expect(error(() => loadCorpus(oneBad)).message).toBe(`${oneBad}:2:1: byte 0xFF is not valid UTF-8 (the file must be UTF-8 text)`);
  });
  it("an empty corpus", () => {
    for (const [name, content] of [
      ["empty.txt", ""],
      ["blank.txt", "\n  \n\t\n"],
      ["empty.jsonl", "\n"],
      ["blank.jsonl", '{"text": ""}\n'],
    ] as const) {
      const path = file(name, content);
      expect(error(() => loadCorpus(path)).message).toBe(`${path}: the corpus is empty (no sentences found)`);
    }
  });
  it("a tiny corpus (requireSize)", () => {
    const c = loadCorpus(file("tiny.txt", "one\ntwo\nthree\n"));
    expect(requireSize(c, 3)).toBe(3);
    expect(error(() => requireSize(c, 100)).message).toBe(`corpus ${c.name} has only 3 sentences; training needs at least 100`);
    expect(error(() => requireSize(c, 5, "pre-training with NSP")).message).toMatch(/; pre-training with NSP needs at least 5$/);
    expect(requireSize(wordnet, 100_000)).toBeGreaterThan(160_000);
  });
});

describe("fnv1a", () => {
  it("matches the reference 32-bit FNV-1a values", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });
});

describe("splitHeldOut", () => {
  const docs = (ids: string[]): Document[] => ids.map((id) => ({ id, sentences: [`s${id}`] }));
  const ids = (d: Document[]): string[] => d.map((x) => x.id);

  it("holds out ~1% of WordNet, deterministically", () => {
    const a = splitHeldOut(wordnetDocuments);
    const b = splitHeldOut(wordnetDocuments);
    expect(ids(a.heldOut)).toEqual(ids(b.heldOut));
    expect(a.train.length + a.heldOut.length).toBe(wordnetDocuments.length);
    expect(a.heldOut.length).toBe(160); // pinned: the split is a pure function of the ids
    expect(a.heldOut.length / wordnetDocuments.length).toBeGreaterThan(0.008);
    expect(a.heldOut.length / wordnetDocuments.length).toBeLessThan(0.012);
  });
  it("spreads sequential ids (line numbers) evenly", () => {
    const seq = docs(Array.from({ length: 10_000 }, (_, i) => String(i + 1)));
    const held = splitHeldOut(seq, 0.1).heldOut.length;
    expect(held).toBeGreaterThan(900);
    expect(held).toBeLessThan(1100);
  });
  it("a document's side does not depend on the others or their order", () => {
    const all = docs(Array.from({ length: 3000 }, (_, i) => `doc-${i}`));
    const base = new Set(ids(splitHeldOut(all, 0.05).heldOut));
    expect(base.size).toBeGreaterThan(0);
    const reversed = splitHeldOut([...all].reverse(), 0.05);
    expect(new Set(ids(reversed.heldOut))).toEqual(base);
    expect(ids(reversed.heldOut)).toEqual([...ids(splitHeldOut(all, 0.05).heldOut)].reverse()); // input order kept
    const fewer = all.filter((_, i) => i % 3 !== 0);
    expect(new Set(ids(splitHeldOut(fewer, 0.05).heldOut))).toEqual(new Set(ids(fewer).filter((id) => base.has(id))));
    const more = [...all, ...docs(Array.from({ length: 500 }, (_, i) => `new-${i}`))];
    const moreHeld = new Set(ids(splitHeldOut(more, 0.05).heldOut));
    for (const id of ids(all)) expect(moreHeld.has(id)).toBe(base.has(id));
  });
  it("depends on the salt", () => {
    const all = docs(Array.from({ length: 2000 }, (_, i) => `d${i}`));
    expect(ids(splitHeldOut(all, 0.05, "one").heldOut)).not.toEqual(ids(splitHeldOut(all, 0.05, "two").heldOut));
  });
  it("holds out at least one of two or more documents, and keeps at least one", () => {
    const two = splitHeldOut(docs(["a", "b"]));
    expect(two.heldOut).toHaveLength(1);
    expect(two.train).toHaveLength(1);
    expect(splitHeldOut(docs(["b", "a"])).heldOut).toEqual(two.heldOut);
    const almostAll = splitHeldOut(docs(["a", "b", "c"]), 0.999999);
    expect(almostAll.train).toHaveLength(1);
    expect(almostAll.heldOut).toHaveLength(2);
    expect(splitHeldOut(docs(["only"]))).toEqual({ train: docs(["only"]), heldOut: [] });
    expect(splitHeldOut([])).toEqual({ train: [], heldOut: [] });
  });
  it("rejects a fraction outside (0, 1)", () => {
    for (const f of [0, 1, -0.5, 2, Number.NaN]) expect(() => splitHeldOut(docs(["a"]), f)).toThrow(RangeError);
  });
});

describe("heldOutFlags and documentsOnSide", () => {
  it("make splitHeldOut's split while reading the corpus as a stream", () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `Sentence ${i}.`);
    const path = file("stream.txt", lines.join("\n"));
    for (const corpus of [wordnet, loadCorpus(path)]) {
      const all = [...corpus.documents()];
      const held = heldOutFlags(corpus);
      expect(held.length).toBe(all.length);
      const eager = splitHeldOut(all);
      expect([...documentsOnSide(corpus, held, "heldOut")]).toEqual(eager.heldOut);
      expect([...documentsOnSide(corpus, held, "train")]).toEqual(eager.train);
    }
  });
  it("keeps a side non-empty as splitHeldOut does", () => {
    const corpus = loadCorpus(file("two.txt", "One.\n\nTwo.\n"));
    const held = heldOutFlags(corpus, 0.01);
    expect([...held].sort()).toEqual([0, 1]);
  });
  it("a file corpus reads its documents again on each call", () => {
    const corpus = loadCorpus(file("again.txt", "a\nb\n\nc\n"));
    const first = [...corpus.documents()];
    expect([...corpus.documents()]).toEqual(first);
    expect(sentencesOf(corpus.documents()).next().value).toBe("a");
  });
});
