import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TaskError, loadTask, parseCsv } from "../../../src/runtime/data/tasks.js";
import type { Task } from "../../../src/runtime/data/types.js";
import { LEXNAMES } from "../../../src/runtime/data/wordnet.js";
import { tempFiles, thrown } from "../../helpers/temp-files.js";

const { dir, file } = tempFiles("bdl-tasks-");
const error = (f: () => unknown): TaskError => thrown(TaskError, f);
/** A labelled CSV body of n rows over the given labels. */
function rows(n: number, labels = ["pos", "neg"]): string {
  return Array.from({ length: n }, (_, i) => `text number ${i},${labels[i % labels.length]}`).join("\n");
}

const lexname: Task = loadTask("wordnet-lexname");

describe("loadTask('wordnet-lexname')", () => {
  it("is a 45-way task over the WordNet definitions, labels sorted", () => {
    expect(lexname.name).toBe("wordnet-lexname");
    expect(lexname.labels).toHaveLength(45);
    expect(lexname.labels).toEqual([...LEXNAMES].sort());
    expect(lexname.labels[0]).toBe("adj.all");
    expect(lexname.train.length + lexname.test.length).toBe(117_791);
  });
  it("holds out ~10% as a test split covering every label", () => {
    expect(lexname.test.length).toBe(11_679);
    const frac = lexname.test.length / (lexname.train.length + lexname.test.length);
    expect(frac).toBeGreaterThan(0.09);
    expect(frac).toBeLessThan(0.11);
    expect(new Set(lexname.test.map((e) => e.label)).size).toBe(45);
    expect(lexname.train.every((e) => lexname.labels.includes(e.label) && e.text.length > 0)).toBe(true);
  });
  it("labels a gloss with its lexicographer class, without examples", () => {
    const all = [...lexname.train, ...lexname.test];
    const dog = all.find((e) => e.text.startsWith("a member of the genus Canis (probably descended from the common wolf)"));
    expect(dog?.label).toBe("noun.animal");
    expect(dog?.text).not.toContain("barked");
  });
  it("is deterministic", () => {
    const again = loadTask("wordnet-lexname");
    expect(again.test.map((e) => e.text)).toEqual(lexname.test.map((e) => e.text));
  });
});

describe("parseCsv", () => {
  it("parses quoted fields with commas, escaped quotes and newlines", () => {
    expect(parseCsv('a,b,c\n"x, y","say ""hi""","two\nlines"\n')).toEqual([
      { fields: ["a", "b", "c"], line: 1 },
      { fields: ["x, y", 'say "hi"', "two\nlines"], line: 2 },
    ]);
  });
  it("tracks the line a record starts on across quoted newlines and blank lines", () => {
    const recs = parseCsv('h1,h2\n"a\n\nb",1\n\n   \nc,2');
    expect(recs.map((r) => r.line)).toEqual([1, 2, 7]);
    expect(recs[1]!.fields).toEqual(["a\n\nb", "1"]);
    expect(recs[2]!.fields).toEqual(["c", "2"]);
  });
  it("handles empty fields, empty quoted fields, and a missing final newline", () => {
    expect(parseCsv(',\n"",x\na,""')).toEqual([
      { fields: ["", ""], line: 1 },
      { fields: ["", "x"], line: 2 },
      { fields: ["a", ""], line: 3 },
    ]);
    expect(parseCsv('""')).toEqual([{ fields: [""], line: 1 }]);
    expect(parseCsv("")).toEqual([]);
  });
  it("takes a quote inside an unquoted field literally", () => {
    expect(parseCsv('5" screen,x')).toEqual([{ fields: ['5" screen', "x"], line: 1 }]);
  });
  it("rejects an unclosed quote and text after a closing quote", () => {
    expect(() => parseCsv('a,b\n"open,1\n2,3', "f.csv")).toThrow("f.csv:2: a quoted field is never closed");
    expect(() => parseCsv('a,b\n"x"y,1', "f.csv")).toThrow('f.csv:2: unexpected "y" after a closing quote');
  });
});

describe("loadTask(CSV)", () => {
  it("reads text and label columns in any order, ignoring others", () => {
    const path = file(
      "t.csv",
      `id,Label,notes, text \r\n1,pos,n,"I liked it, a lot"\r\n2,neg,,"said ""meh"""\r\n3,pos,,"multi\r\nline"\r\n`,
    );
    const t = loadTask(path);
    expect(t.name).toBe(path);
    expect(t.labels).toEqual(["neg", "pos"]);
    const all = [...t.train, ...t.test].sort((a, b) => a.text.localeCompare(b.text));
    expect(all).toEqual([
      { text: "I liked it, a lot", label: "pos" },
      { text: "multi\nline", label: "pos" },
      { text: 'said "meh"', label: "neg" },
    ]);
    expect(t.test.length).toBeGreaterThanOrEqual(1);
    expect(t.train.length).toBeGreaterThanOrEqual(1);
  });
  it("splits 10% to test by a hash of the text, independent of row order", () => {
    const body = rows(1000, ["a", "b", "c"]);
    const t = loadTask(file("big.csv", `text,label\n${body}\n`));
    expect(t.test.length).toBeGreaterThan(70);
    expect(t.test.length).toBeLessThan(130);
    const shuffled = loadTask(
      file(
        "big2.csv",
        `label,text\n${body
          .split("\n")
          .reverse()
          .map((r) => r.split(",").reverse().join(","))
          .join("\n")}\n`,
      ),
    );
    expect(new Set(shuffled.test.map((e) => e.text))).toEqual(new Set(t.test.map((e) => e.text)));
  });
  it("names the columns it found when text or label is missing", () => {
    const path = file("cols.csv", "sentence,label\nhi,a\nho,b\n");
    expect(error(() => loadTask(path)).message).toBe(
      `${path}: the header row must have columns text and label; missing text; found: "sentence", "label"`,
    );
    expect(error(() => loadTask(file("cols2.csv", "a,b\n1,2\n"))).message).toMatch(/missing text and label; found: "a", "b"$/);
    expect(error(() => loadTask(file("dup.csv", "text,label,text\n1,2,3\n"))).message).toMatch(/column text more than once/);
  });
  it("names the line of a row with the wrong field count", () => {
    const path = file("count.csv", 'text,label\nok,a\n"two\nlines",b\nextra,a,b\n');
    expect(error(() => loadTask(path)).message).toBe(`${path}:5: expected 2 fields (as in the header), found 3`);
    expect(error(() => loadTask(file("short.csv", "text,label\nonly\n"))).message).toMatch(
      /:2: expected 2 fields \(as in the header\), found 1$/,
    );
  });
  it("rejects empty text or label, with the line", () => {
    expect(error(() => loadTask(file("e.csv", "text,label\nx,a\n,b\n"))).message).toMatch(/e\.csv:3: empty text$/);
    expect(error(() => loadTask(file("e2.csv", "text,label\nx,a\ny, \n"))).message).toMatch(/e2\.csv:3: empty label$/);
  });
  it("rejects fewer than 2 labels, an empty file and a header-only file", () => {
    const one = file("one.csv", `text,label\n${rows(5, ["only"])}\n`);
    expect(error(() => loadTask(one)).message).toBe(`${one}: a classification task needs at least 2 labels; found 1 (only)`);
    const empty = file("empty.csv", "");
    expect(error(() => loadTask(empty)).message).toBe(`${empty}: the file is empty (expected a header row with columns text and label)`);
    expect(error(() => loadTask(file("blank.csv", "\n\n"))).message).toMatch(/the file is empty/);
    expect(error(() => loadTask(file("header.csv", "text,label\n"))).message).toMatch(/header\.csv: no examples \(only a header row\)$/);
  });
  it("rejects malformed quoting, missing and binary files", () => {
    expect(error(() => loadTask(file("q.csv", 'text,label\n"open,a\n'))).message).toMatch(/q\.csv:2: a quoted field is never closed$/);
    const missing = join(dir, "missing.csv");
    expect(error(() => loadTask(missing)).message).toBe(`${missing}: no such file`);
    expect(error(() => loadTask(file("bin.csv", Buffer.from([1, 0, 2])))).message).toMatch(
      /bin\.csv:1:2: contains a NUL byte: this is binary data/,
    );
  });
});

describe("loadTask(JSONL)", () => {
  it("reads string or numeric labels", () => {
    const t = loadTask(
      file("t.jsonl", '{"text": "good", "label": 1}\n\n{"text": "bad", "label": 0, "x": 1}\n{"text": "fine", "label": "1"}\n'),
    );
    expect(t.labels).toEqual(["0", "1"]);
    expect([...t.train, ...t.test].sort((a, b) => a.text.localeCompare(b.text))).toEqual([
      { text: "bad", label: "0" },
      { text: "fine", label: "1" },
      { text: "good", label: "1" },
    ]);
  });
  it("names the line and fields of a bad line", () => {
    const bad = (content: string): string => error(() => loadTask(file("bad.jsonl", content))).message;
    expect(bad('{"text": "a", "label": "x"}\n{"sentence": "b", "label": "y"}\n')).toMatch(
      /bad\.jsonl:2: missing text; found: sentence, label$/,
    );
    expect(bad('{"text": "a"}\n')).toMatch(/bad\.jsonl:1: missing label; found: text$/);
    expect(bad('{"text": "a", "label": true}\n')).toMatch(/bad\.jsonl:1: "label" must be a string or number, got boolean$/);
    expect(bad('{"text": ["a"], "label": "x"}\n')).toMatch(/bad\.jsonl:1: "text" must be a string, got object$/);
    expect(bad("[1]\n")).toMatch(/bad\.jsonl:1: each line must be a JSON object/);
    expect(bad('{"text": "a", "label": "x"}\nnot json\n')).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect(bad('{"text": "a", "label": "x"}\n{"text": "b", "label": "x"}\n')).toMatch(/at least 2 labels; found 1 \(x\)$/);
    expect(bad("\n")).toMatch(/bad\.jsonl: the file is empty \(no examples\)$/);
  });
});

describe("loadTask(other)", () => {
  it("rejects an unknown task name or extension", () => {
    expect(error(() => loadTask("sst2")).message).toBe(
      "sst2: unknown task; use wordnet-lexname, or a .csv or .jsonl file of text and label",
    );
    expect(error(() => loadTask(file("t.tsv", "text\tlabel\n"))).message).toMatch(/t\.tsv: unknown task/);
  });
});
