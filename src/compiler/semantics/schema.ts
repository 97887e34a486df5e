/**
 * What each property of the language accepts, and its default, as data. The grammar only
 * knows that a property is `key value`; this table gives keys their meaning, so adding a
 * property is one line here (plus its field in `resolve`), and a misspelt key gets "did you mean".
 */
import type { Value } from "../syntax/ast.js";
import {
  ACTIVATIONS,
  BIAS_SWITCHES,
  DECAY_KINDS,
  EXPECT_KEYS,
  FEED_FORWARD_KINDS,
  MASK_SCHEDULE_KINDS,
  MASK_UNIT_KINDS,
  NORM_POSITIONS,
  OPTIMIZER_KINDS,
  POOLERS,
  SHARED_PARTS,
  TOKENIZER_KINDS,
  type ObjectiveName,
  type SpecialRole,
  type TokenizerConfig,
} from "../../model/model.js";

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

/** Whether `word` is one of `words`, narrowing it to their type. */
export function isOneOf<W extends string>(word: string, words: readonly W[]): word is W {
  return (words as readonly string[]).includes(word);
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
      const word = v.name.text;
      if (!isOneOf(word, words)) return { ok: false, problem: { kind: "unknown", what, options: words, got: word } };
      const argType = withArgument[word];
      if (argType) {
        if (!v.argument)
          return { ok: false, problem: { kind: "type", expected: `'${word}' followed by ${argType.describe}`, got: `'${word}' alone` } };
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

/** A RoPE base, or `none`. */
const optionalTheta: PropertyType<number | null> = {
  describe: "a number > 0 or none",
  read(v) {
    if (v.kind === "Word" && v.name.text === "none" && !v.argument) return ok(null);
    return real(0, Infinity, { exclusiveMin: true }).read(v);
  },
};

const fraction01 = real(0, 1);
const dropoutType = real(0, 1, { exclusiveMax: true });
const positive = real(0, Infinity, { exclusiveMin: true });
const nonNegative = real(0, Infinity);

/**
 * One property: what it accepts and, where it has one, the value a model gets when no
 * declaration in its chain sets it (BERT-base's, where BERT-base has one).
 */
export interface Property<T = unknown> {
  readonly type: PropertyType<T>;
  /** Absent for the sizes every model must set and for special ids a model may leave out. */
  readonly default?: T;
}

function property<T>(type: PropertyType<T>, fallback: NoInfer<T>): Property<T> & { readonly default: T } {
  return { type, default: fallback };
}

/** A property with no default: a model must set it (model sizes), or may leave it out (`special bos`). */
function noDefault<T>(type: PropertyType<T>): Property<T> {
  return { type };
}

/** The value a property takes, read off its schema entry. */
export type ValueOf<P> = P extends Property<infer T> ? T : never;

/** Upper bounds on sizes: orders of magnitude above the largest BERT-family models. */
const MAX_VOCAB = 10_000_000;
const MAX_WIDTH = 1_048_576;
const MAX_LAYERS = 10_000;

/** Properties written directly in a model body. */
export const MODEL_PROPERTIES = {
  vocab: noDefault(integer(1, MAX_VOCAB)),
  hidden: noDefault(integer(1, MAX_WIDTH)),
  layers: noDefault(integer(1, MAX_LAYERS)),
  heads: noDefault(integer(1, MAX_WIDTH)),
  intermediate: noDefault(integer(1, MAX_WIDTH)),
  activation: property(enumType("activation", ACTIVATIONS), "gelu"),
  norm_eps: property(positive, 1e-12),
  norm_position: property(enumType("norm position", NORM_POSITIONS), "post"),
  feed_forward: property(enumType("feed-forward kind", FEED_FORWARD_KINDS), "plain"),
  attention_bias: property(enumType("bias switch", BIAS_SWITCHES), "true"),
  mlp_bias: property(enumType("bias switch", BIAS_SWITCHES), "true"),
  norm_bias: property(enumType("bias switch", BIAS_SWITCHES), "true"),
  // The MLM head's transform dense layer (Hugging Face's ModernBERT `classifier_bias`).
  classifier_bias: property(enumType("bias switch", BIAS_SWITCHES), "true"),
  // The MLM decoder's own bias (ModernBERT's `decoder_bias`); its weight is the word table either way.
  decoder_bias: property(enumType("bias switch", BIAS_SWITCHES), "true"),
  // ModernBERT: layer 0 has no attention LayerNorm (the embeddings' LayerNorm is right before it). Pre-LN only.
  first_attention_norm: property(enumType("switch", BIAS_SWITCHES), "true"),
  dropout: property(dropoutType, 0.1),
  attention_dropout: property(dropoutType, 0.1),
  pooler: property(enumType("pooler", POOLERS), "tanh"),
} as const satisfies Record<string, Property>;

/** Record blocks: they merge key by key under `extends`. */
export const RECORDS = {
  embeddings: {
    positions: property(integer(1, MAX_WIDTH), 512),
    offset: property(integer(0, MAX_WIDTH), 0),
    segments: property(integer(0, MAX_VOCAB), 2),
    factorize: property(optionalWidth, null),
  },
  // Rotary positions and local attention (ModernBERT). Every default is BERT's: learned
  // positions, every layer attending to every key.
  attention: {
    // RoPE base (theta) of the global layers; set, it replaces the learned position table.
    rotary: property(optionalTheta, null),
    // Local layers see the keys within window / 2 positions either side of the query.
    window: property(optionalWidth, null),
    // With a window, layer i attends globally iff i % global_every == 0 (ModernBERT: 3).
    global_every: property(integer(1, MAX_LAYERS), 1),
    // RoPE base of the local layers; none: the global layers' base.
    local_rotary: property(optionalTheta, null),
  },
  // ELECTRA's generator: declaring one makes the model a discriminator that learns, by `rtd`,
  // which tokens the generator replaced. Its other settings are the model's (see generator.ts).
  generator: {
    hidden: noDefault(integer(1, MAX_WIDTH)),
    // The model's own depth when unwritten.
    layers: noDefault(integer(1, MAX_LAYERS)),
    heads: noDefault(integer(1, MAX_WIDTH)),
    intermediate: noDefault(integer(1, MAX_WIDTH)),
  },
  masking: {
    rate: property(rateType, 0.15),
    mask: property(fraction01, 0.8),
    random: property(fraction01, 0.1),
    keep: property(fraction01, 0.1),
    unit: property(oneOf("masking unit", MASK_UNIT_KINDS, { ngram: integer(1) }), { word: "token", argument: null }),
    schedule: property(enumType("masking schedule", MASK_SCHEDULE_KINDS), "dynamic"),
    duplicates: property(integer(1), 10),
    // `unit span p 0.2 max 10`: SpanBERT's span lengths, Geo(p) over 1..max whole words.
    p: property(real(0, 1, { exclusiveMin: true }), 0.2),
    max: property(integer(1), 10),
  },
  // Special ids for a model that declares none: a layout that fits any vocabulary of 5 or
  // more. It applies as a whole: a declaration that sets some ids must set every role that
  // has a default, since a default id could silently collide with a declared one.
  special: {
    pad: property(integer(0), 0),
    unk: property(integer(0), 1),
    cls: property(integer(0), 2),
    sep: property(integer(0), 3),
    mask: property(integer(0), 4),
    bos: noDefault(integer(0)),
    eos: noDefault(integer(0)),
  } satisfies Record<SpecialRole, Property<number>>,
  train: {
    optimizer: property(enumType("optimizer", OPTIMIZER_KINDS), "adamw"),
    lr: property(positive, 1e-4),
    beta1: property(real(0, 1, { exclusiveMax: true }), 0.9),
    beta2: property(real(0, 1, { exclusiveMax: true }), 0.999),
    eps: property(positive, 1e-6),
    weight_decay: property(nonNegative, 0.01),
    warmup: property(integer(0), 10000),
    decay: property(enumType("decay", DECAY_KINDS), "linear"),
    batch: property(integer(1), 256),
    seq: property(integer(1), 128),
    steps: property(integer(1), 1000000),
    document_mask: property(enumType("switch", BIAS_SWITCHES), "false"),
  },
} as const satisfies Record<string, Record<string, Property>>;

export type RecordName = keyof typeof RECORDS;

const weight = property(nonNegative, 1);

/** Objectives and the options each accepts (every objective has a weight). */
export const OBJECTIVES = {
  mlm: { weight },
  nsp: { weight },
  sop: { weight },
  distill: { weight, temperature: property(positive, 2) },
  cosine: { weight },
  // ELECTRA's replaced-token detection (the paper weighs it 50 against the generator's mlm).
  rtd: { weight },
} as const satisfies Record<ObjectiveName, Record<string, Property<number>>>;

/** Words the language accepts after `tokenizer`, `share` and `expect`: the model's vocabularies. */
export { TOKENIZER_KINDS as TOKENIZERS, SHARED_PARTS, EXPECT_KEYS };
/** The tokenizer of a model whose chain declares none. */
export const DEFAULT_TOKENIZER: Readonly<TokenizerConfig> = { kind: "wordpiece", lowercase: true };
export const SHARING_MODES = ["all", "none"] as const;
export const TEACHER_INITS = ["layers", "embeddings"] as const;

type ModelKey = keyof typeof MODEL_PROPERTIES;
type RecordPath = { [R in RecordName]: `${R}.${keyof (typeof RECORDS)[R] & string}` }[RecordName];
/** "activation", "embeddings.factorize", "train.lr", …: the paths a resolved setting is stored under. */
export type PropertyPath = ModelKey | RecordPath;
type PropertyAt<P extends PropertyPath> = P extends ModelKey
  ? (typeof MODEL_PROPERTIES)[P]
  : P extends `${infer R extends RecordName}.${infer K}`
    ? K extends keyof (typeof RECORDS)[R]
      ? (typeof RECORDS)[R][K]
      : never
    : never;
/** The value stored under a path, as its schema entry reads it. */
export type ValueAt<P extends PropertyPath> = ValueOf<PropertyAt<P>>;

/** Every property by its path, model properties first, then each record's in schema order. */
export const PROPERTIES: ReadonlyMap<string, Property> = new Map<string, Property>([
  ...Object.entries(MODEL_PROPERTIES),
  ...Object.entries(RECORDS).flatMap(([name, record]) =>
    Object.entries(record).map(([key, p]): [string, Property] => [`${name}.${key}`, p]),
  ),
]);

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

/** Sizes every model must reach, itself or through `extends`: the model properties with no default. */
export const REQUIRED_PROPERTIES: readonly string[] = Object.entries(MODEL_PROPERTIES)
  .filter(([, p]) => !("default" in p))
  .map(([key]) => key);

/**
 * `table[key]`, only when `key` is the table's own key: a name from a user's file
 * ("constructor", "__proto__", "toString") must not find what every object inherits.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
