/**
 * Sequence-classification tasks for fine-tuning: the built-in `wordnet-lexname` (a synset's
 * definition → its lexicographer class, e.g. `noun.animal`; 45 classes) or a CSV/JSONL file
 * of text,label pairs. Every task comes with a deterministic 10% test split.
 */

import { jsonObjects } from "./json-lines.js";
import { hashSplit, readTextFile } from "./corpus.js";
import type { LabelledText, Task } from "./types.js";
import { loadWordNet } from "./wordnet.js";

/** Bad task input. The message starts with the path or spec it is about. */
export class TaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskError";
  }
}

/** The built-in tasks, by name. */
export const BUILTIN_TASKS = ["wordnet-lexname"] as const;

/** Fraction of examples in a task's test split. */
export const TEST_FRACTION = 0.1;

const SALT = "bdl-task";

/**
 * Parses RFC 4180 CSV: fields separated by commas, records by line ends; a field in double
 * quotes may hold commas, line ends and `""` (one quote). A quote inside an unquoted field is
 * taken literally (as most readers do); text after a closing quote, or a quote left open at
 * the end, is an error. Line ends must already be LF (readTextFile normalizes CRLF). Blank
 * lines are skipped. Each record carries the 1-based line it starts on.
 */
export function parseCsv(text: string, source = "csv"): { fields: string[]; line: number }[] {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let structured = false; // the record has a comma or a quoted field (so it is not a blank line)
  const n = text.length;
  const endRecord = (): void => {
    fields.push(field);
    const blank = !structured && fields.length === 1 && field.trim() === "";
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
    field = "";
    structured = false;
  };
  let i = 0;
  while (i < n) {
    const c = text[i]!;
    const atFieldStart = i === 0 || text[i - 1] === "," || text[i - 1] === "\n";
    if (c === '"' && atFieldStart) {
      const quoteLine = line;
      structured = true;
      i++;
      let closed = false;
      while (i < n) {
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      if (!closed) throw new TaskError(`${source}:${quoteLine}: a quoted field is never closed`);
      const next = text[i];
      if (next !== undefined && next !== "," && next !== "\n") {
        throw new TaskError(
          `${source}:${line}: unexpected ${JSON.stringify(next)} after a closing quote (a quote inside a quoted field is written "")`,
        );
      }
    } else if (c === ",") {
      fields.push(field);
      field = "";
      structured = true;
      i++;
    } else if (c === "\n") {
      endRecord();
      line++;
      recordLine = line;
      i++;
    } else {
      field += c;
      i++;
    }
  }
  if (structured || fields.length > 0 || field !== "") endRecord();
  return records;
}

function labelsOf(examples: readonly LabelledText[]): string[] {
  return [...new Set(examples.map((e) => e.label))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function finish(name: string, examples: LabelledText[], keyOf: (e: LabelledText, i: number) => string): Task {
  if (examples.length === 0) throw new TaskError(`${name}: no examples`);
  const labels = labelsOf(examples);
  if (labels.length < 2) {
    throw new TaskError(`${name}: a classification task needs at least 2 labels; found ${labels.length} (${labels.join(", ")})`);
  }
  const keyed = examples.map((e, i) => ({ e, key: keyOf(e, i) }));
  const { train, heldOut } = hashSplit(keyed, (k) => k.key, TEST_FRACTION, SALT);
  return { name, labels, train: train.map((k) => k.e), test: heldOut.map((k) => k.e) };
}

function wordnetLexnameTask(): Task {
  const examples: LabelledText[] = [];
  const keys: string[] = [];
  for (const s of loadWordNet()) {
    if (!s.definition) continue;
    examples.push({ text: s.definition, label: s.lexname });
    keys.push(`${s.pos}${s.offset}`);
  }
  return finish("wordnet-lexname", examples, (_, i) => keys[i]!);
}

function csvTask(path: string): Task {
  const text = readTextFile(path, (m) => new TaskError(m));
  const records = parseCsv(text, path);
  const header = records[0];
  if (!header) throw new TaskError(`${path}: the file is empty (expected a header row with columns text and label)`);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const textCol = names.indexOf("text");
  const labelCol = names.indexOf("label");
  if (textCol < 0 || labelCol < 0) {
    const missing = [textCol < 0 ? "text" : "", labelCol < 0 ? "label" : ""].filter((m) => m).join(" and ");
    throw new TaskError(
      `${path}: the header row must have columns text and label; missing ${missing}; found: ${header.fields.map((f) => JSON.stringify(f)).join(", ")}`,
    );
  }
  for (const col of ["text", "label"]) {
    if (names.indexOf(col) !== names.lastIndexOf(col)) throw new TaskError(`${path}: the header row has column ${col} more than once`);
  }
  const examples: LabelledText[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.fields.length) {
      throw new TaskError(`${path}:${r.line}: expected ${header.fields.length} fields (as in the header), found ${r.fields.length}`);
    }
    const t = r.fields[textCol]!.trim();
    const label = r.fields[labelCol]!.trim();
    if (!t) throw new TaskError(`${path}:${r.line}: empty text`);
    if (!label) throw new TaskError(`${path}:${r.line}: empty label`);
    examples.push({ text: t, label });
  }
  if (examples.length === 0) throw new TaskError(`${path}: no examples (only a header row)`);
  return finish(path, examples, (e) => e.text);
}

function jsonlTask(path: string): Task {
  const text = readTextFile(path, (m) => new TaskError(m));
  const examples: LabelledText[] = [];
  for (const { value: obj, at } of jsonObjects(text.split("\n"), path, (m) => new TaskError(m), 'a JSON object with "text" and "label"')) {
    const missing = ["text", "label"].filter((k) => !Object.hasOwn(obj, k));
    if (missing.length > 0) {
      throw new TaskError(`${at}: missing ${missing.join(" and ")}; found: ${Object.keys(obj).join(", ") || "no fields"}`);
    }
    if (typeof obj.text !== "string") throw new TaskError(`${at}: "text" must be a string, got ${typeof obj.text}`);
    if (typeof obj.label !== "string" && typeof obj.label !== "number") {
      throw new TaskError(`${at}: "label" must be a string or number, got ${obj.label === null ? "null" : typeof obj.label}`);
    }
    const t = obj.text.trim();
    const label = String(obj.label).trim();
    if (!t) throw new TaskError(`${at}: empty text`);
    if (!label) throw new TaskError(`${at}: empty label`);
    examples.push({ text: t, label });
  }
  if (examples.length === 0) throw new TaskError(`${path}: the file is empty (no examples)`);
  return finish(path, examples, (e) => e.text);
}

/**
 * Loads a classification task: `wordnet-lexname` (built in; the split hashes each synset's
 * `${pos}${offset}`), a `.csv` file (header row with `text` and `label` columns, in any
 * order, other columns ignored) or a `.jsonl` file (`{"text": string, "label": string|number}`
 * per line). For files, the 10% test split hashes the text, so duplicates share a side.
 * Labels are sorted; a label's index is its class id. Throws {@link TaskError} on bad input.
 */
export function loadTask(spec: string): Task {
  if (spec === "wordnet-lexname") return wordnetLexnameTask();
  const lower = spec.toLowerCase();
  if (lower.endsWith(".csv")) return csvTask(spec);
  if (lower.endsWith(".jsonl")) return jsonlTask(spec);
  throw new TaskError(`${spec}: unknown task; use ${BUILTIN_TASKS.join(", ")}, or a .csv or .jsonl file of text and label`);
}
