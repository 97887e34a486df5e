/**
 * The abstract syntax tree of one `.bdl` file: what was written, with spans, before any
 * meaning is given to property names. Produced by `to-ast`, read by `program`, `resolve`,
 * the declaration checks and the formatter. Nodes are never mutated after construction.
 */
import type { Source, Span } from "../source.js";

export interface Name {
  readonly text: string;
  readonly span: Span;
}

export interface NumberLit {
  readonly kind: "Number";
  readonly value: number;
  /** As written (`1e-12`, `0.15`), so the formatter can keep the user's notation. */
  readonly text: string;
  readonly span: Span;
}

/** `19M`: value 19, scale 1e6, one significant place after the point when written `19.0M`. */
export interface QuantityLit {
  readonly kind: "Quantity";
  readonly value: number;
  readonly scale: number;
  readonly decimals: number;
  readonly text: string;
  readonly span: Span;
}

export interface StringLit {
  readonly kind: "String";
  readonly value: string;
  readonly span: Span;
}

/** `0..11`, inclusive. */
export interface RangeLit {
  readonly kind: "Range";
  readonly from: NumberLit;
  readonly to: NumberLit;
  readonly span: Span;
}

export interface ListLit {
  readonly kind: "List";
  readonly items: readonly NumberLit[];
  readonly span: Span;
}

/** `0.15 -> 0.40 over 100000`: a value that moves linearly over a number of steps. */
export interface RampLit {
  readonly kind: "Ramp";
  readonly from: NumberLit;
  readonly to: NumberLit;
  readonly over: NumberLit | QuantityLit;
  readonly span: Span;
}

/** A bare word, optionally with a numeric argument (`gelu`, `none`, `ngram 3`). */
export interface WordLit {
  readonly kind: "Word";
  readonly name: Name;
  readonly argument: NumberLit | null;
  readonly span: Span;
}

export type Value = NumberLit | QuantityLit | StringLit | RangeLit | ListLit | RampLit | WordLit;
export type LayerSet = RangeLit | ListLit | NumberLit;

/** `key value` — a model property, or an entry of a record block. */
export interface Setting {
  readonly kind: "Setting";
  readonly key: Name;
  readonly value: Value;
  readonly span: Span;
}

/** `embeddings { … }`, `masking { … }`, `special { … }`, `train { … }`. */
export interface RecordBlock {
  readonly kind: "Record";
  readonly name: Name;
  readonly settings: readonly Setting[];
  readonly span: Span;
}

export interface GroupDecl {
  readonly kind: "Group";
  readonly name: Name;
  readonly layers: LayerSet;
  readonly share: readonly Name[];
  readonly span: Span;
}

/** `sharing all`, `sharing none`, or `sharing { group … }`. */
export interface SharingDecl {
  readonly kind: "Sharing";
  /** The word after `sharing`, or null for a block. */
  readonly mode: Name | null;
  readonly groups: readonly GroupDecl[];
  readonly span: Span;
}

export interface ObjectiveDecl {
  readonly kind: "Objective";
  readonly name: Name;
  readonly off: boolean;
  /** `weight 2.0`, `temperature 2.0`: settings whose value is a number. */
  readonly options: readonly Setting[];
  readonly span: Span;
}

export interface ObjectivesDecl {
  readonly kind: "Objectives";
  readonly objectives: readonly ObjectiveDecl[];
  readonly span: Span;
}

/**
 * `init layers [0, 2]` (layers set), `init embeddings` (layers null), or either with `off`
 * (`init layers off`, `init embeddings off`: do not copy what a base model's teacher link copies).
 */
export interface TeacherInit {
  readonly kind: "Init";
  readonly target: Name;
  readonly layers: LayerSet | null;
  readonly off: boolean;
  readonly span: Span;
}

export interface TeacherDecl {
  readonly kind: "Teacher";
  readonly model: Name;
  readonly checkpoint: StringLit | null;
  readonly inits: readonly TeacherInit[];
  /** Whether a `{ … }` block was written (even an empty one). */
  readonly hasBlock: boolean;
  readonly span: Span;
}

export interface ExpectDecl {
  readonly kind: "Expect";
  readonly key: Name;
  readonly value: NumberLit | QuantityLit;
  readonly span: Span;
}

export interface TokenizerDecl {
  readonly kind: "Tokenizer";
  readonly tokenizer: Name;
  readonly lowercase: boolean;
  readonly span: Span;
}

export type Member = Setting | RecordBlock | SharingDecl | ObjectivesDecl | TeacherDecl | ExpectDecl | TokenizerDecl;

export interface ModelDecl {
  readonly kind: "Model";
  readonly name: Name;
  readonly base: Name | null;
  readonly members: readonly Member[];
  readonly span: Span;
}

export interface ImportDecl {
  readonly kind: "Import";
  readonly path: StringLit;
  readonly span: Span;
}

export interface Comment {
  /** Including the leading `//`, without the line break. */
  readonly text: string;
  readonly span: Span;
}

export interface FileNode {
  readonly kind: "File";
  readonly source: Source;
  /** Imports and models in source order. */
  readonly items: readonly (ImportDecl | ModelDecl)[];
  readonly comments: readonly Comment[];
}

export function imports(file: FileNode): ImportDecl[] {
  return file.items.filter((i): i is ImportDecl => i.kind === "Import");
}

export function models(file: FileNode): ModelDecl[] {
  return file.items.filter((i): i is ModelDecl => i.kind === "Model");
}
