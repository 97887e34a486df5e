/**
 * What each property of the language accepts, as data. The grammar only knows that a
 * property is `key value`; this table gives keys their meaning, so adding a property is
 * one line here (plus its use in `resolve`), and a misspelt key gets "did you mean".
 */
import type { Value } from "../syntax/ast.js";

export type Read<T> = { ok: true; value: T } | { ok: false; problem: Problem };

/** Why a value was refused; `resolve` turns it into a diagnostic. */
export type Problem =
  | { kind: "type"; expected: string; got: string }
  | { kind: "range"; expected: string; got: string }
  | { kind: "unknown"; what: string; options: readonly string[]; got: string };

export interface PropertyType<T = unknown> {
  /** "an integer ≥ 1", used in messages and the generated reference. */
  readonly describe: string;
  read(v: Value): Read<T>;
}

function ok<T>(value: T): Read<T> {
  return { ok: true, value };
}

export function describeValue(v: Value): string {
  switch (v.kind) {
    case "Number":
      return Number.isInteger(v.value) ? `the integer ${v.text}` : `the number ${v.text}`;
    case "Quantity":
      return `the count ${v.text}`;
    case "String":
      return "a string";
    case "Range":
      return "a range";
    case "List":
      return "a list";
    case "Ramp":
      return "a schedule";
    case "Word":
      return `'${v.name.text}'`;
  }
}

function numeric(v: Value): number | undefined {
  if (v.kind === "Number") return v.value;
  if (v.kind === "Quantity") return v.value * v.scale;
  return undefined;
}

/**
 * An integer in [min, max]. Sizes get an upper bound far beyond any real model: later
 * phases do work per layer or per position, so an absurd size must stop here.
 */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): PropertyType<number> {
  const describe = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max.toLocaleString("en-US")}`;
  return {
    describe,
    read(v) {
      const n = numeric(v);
      if (n === undefined) return { ok: false, problem: { kind: "type", expected: describe, got: describeValue(v) } };
      // Quantities such as 1.5M are exact counts once scaled; round away float noise.
      const rounded = v.kind === "Quantity" ? Math.round(n) : n;
      if (!Number.isInteger(rounded) || rounded < min || rounded > max) {
        return { ok: false, problem: { kind: "range", expected: describe, got: String(n) } };
      }
      return ok(rounded);
    },
  };
}

/** A real number in [min, max] (or (min, max) where `exclusiveMin`/`exclusiveMax`). */
export function real(min: number, max: number, opts: { exclusiveMin?: boolean; exclusiveMax?: boolean } = {}): PropertyType<number> {
  const lo = opts.exclusiveMin ? `> ${min}` : `≥ ${min}`;
  const hi = max === Infinity ? "" : opts.exclusiveMax ? ` and < ${max}` : ` and ≤ ${max}`;
  const describe = `a number ${lo}${hi}`;
  return {
    describe,
    read(v) {
      if (v.kind !== "Number") return { ok: false, problem: { kind: "type", expected: describe, got: describeValue(v) } };
      const n = v.value;
      const below = opts.exclusiveMin ? n <= min : n < min;
      const above = opts.exclusiveMax ? n >= max : n > max;
      if (!Number.isFinite(n) || below || above) return { ok: false, problem: { kind: "range", expected: describe, got: v.text } };
      return ok(n);
    },
  };
}

/** One of a fixed set of words; `withArgument` names the words that take an integer (`ngram 3`). */
export function oneOf<W extends string>(
  what: string,
  words: readonly W[],
  withArgument: Partial<Record<W, PropertyType<number>>> = {},
): PropertyType<{ word: W; argument: number | null }> {
  const describe = words.map((w) => (withArgument[w] ? `${w} N` : w)).join(" | ");
  return {
    describe,
    read(v) {
      if (v.kind !== "Word") return { ok: false, problem: { kind: "type", expected: `one of ${describe}`, got: describeValue(v) } };
      const word = v.name.text as W;
      if (!words.includes(word)) return { ok: false, problem: { kind: "unknown", what, options: words, got: v.name.text } };
      const argType = withArgument[word];
      if (argType) {
        if (!v.argument) return { ok: false, problem: { kind: "type", expected: `'${word}' followed by ${argType.describe}`, got: `'${word}' alone` } };
        const arg = argType.read(v.argument);
        if (!arg.ok) return arg;
        return ok({ word, argument: arg.value });
      }
      if (v.argument) return { ok: false, problem: { kind: "type", expected: `'${word}' alone`, got: `'${word} ${v.argument.text}'` } };
      return ok({ word, argument: null });
    },
  };
}

function enumType<W extends string>(what: string, words: readonly W[]): PropertyType<W> {
  const inner = oneOf(what, words);
  return {
    describe: inner.describe,
    read(v) {
      const r = inner.read(v);
      return r.ok ? ok(r.value.word) : r;
    },
  };
}

/** A fraction, or a linear ramp `from -> to over N` steps. */
const rateType: PropertyType<number | { from: number; to: number; steps: number }> = {
  describe: "a fraction in (0, 1), or 'A -> B over N'",
  read(v) {
    const fraction = real(0, 1, { exclusiveMin: true, exclusiveMax: true });
    if (v.kind === "Ramp") {
      const from = fraction.read(v.from);
      if (!from.ok) return from;
      const to = fraction.read(v.to);
      if (!to.ok) return to;
      const steps = integer(1).read(v.over);
      if (!steps.ok) return steps;
      return ok({ from: from.value, to: to.value, steps: steps.value });
    }
    return fraction.read(v);
  },
};

/** `factorize 128` or `factorize none`. */
const optionalWidth: PropertyType<number | null> = {
  describe: "an integer ≥ 1 or none",
  read(v) {
    if (v.kind === "Word" && v.name.text === "none" && !v.argument) return ok(null);
    return integer(1, MAX_WIDTH).read(v);
  },
};

const fraction01 = real(0, 1);
const dropoutType = real(0, 1, { exclusiveMax: true });
const positive = real(0, Infinity, { exclusiveMin: true });
const nonNegative = real(0, Infinity);

/** Properties written directly in a model body. */
/** Upper bounds on sizes: orders of magnitude above the largest BERT-family models. */
const MAX_VOCAB = 10_000_000;
const MAX_WIDTH = 1_048_576;
const MAX_LAYERS = 10_000;

export const MODEL_PROPERTIES = {
  vocab: integer(1, MAX_VOCAB),
  hidden: integer(1, MAX_WIDTH),
  layers: integer(1, MAX_LAYERS),
  heads: integer(1, MAX_WIDTH),
  intermediate: integer(1, MAX_WIDTH),
  activation: enumType("activation", ["gelu", "gelu_new", "relu"] as const),
  norm_eps: positive,
  dropout: dropoutType,
  attention_dropout: dropoutType,
  pooler: enumType("pooler", ["tanh", "none"] as const),
} as const;

/** Record blocks: they merge key by key under `extends`. */
export const RECORDS = {
  embeddings: {
    positions: integer(1, MAX_WIDTH),
    offset: integer(0, MAX_WIDTH),
    segments: integer(0, MAX_VOCAB),
    factorize: optionalWidth,
  },
  masking: {
    rate: rateType,
    mask: fraction01,
    random: fraction01,
    keep: fraction01,
    unit: oneOf("masking unit", ["token", "word", "ngram"] as const, { ngram: integer(1) }),
    schedule: enumType("masking schedule", ["static", "dynamic"] as const),
    duplicates: integer(1),
  },
  special: {
    pad: integer(0),
    unk: integer(0),
    cls: integer(0),
    sep: integer(0),
    mask: integer(0),
    bos: integer(0),
    eos: integer(0),
  },
  train: {
    optimizer: enumType("optimizer", ["adamw", "lamb", "adam"] as const),
    lr: positive,
    beta1: real(0, 1, { exclusiveMax: true }),
    beta2: real(0, 1, { exclusiveMax: true }),
    eps: positive,
    weight_decay: nonNegative,
    warmup: integer(0),
    decay: enumType("decay", ["linear", "cosine", "constant"] as const),
    batch: integer(1),
    seq: integer(1),
    steps: integer(1),
  },
} as const satisfies Record<string, Record<string, PropertyType>>;

export type RecordName = keyof typeof RECORDS;

/** Objectives and the options each accepts (every objective has a weight). */
export const OBJECTIVES = {
  mlm: { weight: nonNegative },
  nsp: { weight: nonNegative },
  sop: { weight: nonNegative },
  distill: { weight: nonNegative, temperature: positive },
  cosine: { weight: nonNegative },
} as const satisfies Record<string, Record<string, PropertyType<number>>>;

export const TOKENIZERS = ["wordpiece", "bpe", "sentencepiece"] as const;
export const SHARED_PARTS = ["attention", "ffn"] as const;
export const SHARING_MODES = ["all", "none"] as const;
export const EXPECT_KEYS = ["params", "encoder_params"] as const;
export const TEACHER_INITS = ["layers", "embeddings"] as const;

/** Every word that may start a member of a model body, for "did you mean". */
export const MEMBER_NAMES: readonly string[] = [
  ...Object.keys(MODEL_PROPERTIES),
  ...Object.keys(RECORDS),
  "sharing",
  "objectives",
  "teacher",
  "expect",
  "tokenizer",
];

/** Sizes every model must reach, itself or through `extends`. */
export const REQUIRED_PROPERTIES = ["vocab", "hidden", "layers", "heads", "intermediate"] as const;

/**
 * `table[key]`, only when `key` is the table's own key: a name from a user's file
 * ("constructor", "__proto__", "toString") must not find what every object inherits.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
