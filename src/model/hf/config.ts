/**
 * Hugging Face `config.json` ↔ a model. `readHfConfig` reads what a config describes, in
 * bdl's terms (`bdlc from-hf`, `bdlc import-hf`); `hfConfig` writes the config of a model
 * (`bdlc export-hf`). Both go through `CONFIG_KEYS`, the one mapping between the model's
 * properties and the family's config keys.
 *
 * A field absent from the file takes the value transformers' config class gives it. Every
 * field read is validated, and an error names the field.
 *
 * Special token ids other than pad (and RoBERTa's bos/eos) are tokenizer facts that a
 * config does not hold: the family's standard tokenizer's ids are used when they fit the
 * vocabulary, otherwise the ids right after pad; `specialNote` says which.
 */
import { formatNumber } from "../numbers.js";
import {
  ACTIVATIONS,
  attentionConfig,
  hasBias,
  SHARED_PARTS,
  type Activation,
  type BlockSwitch,
  type ObjectiveName,
  type ResolvedModel,
  type SharingGroup,
  type TokenizerKind,
} from "../model.js";
import { sharingAllGroup } from "../sharing.js";
import { ARCHITECTURES, BASE_CLASS, FAMILY_NAME, familyOfModelType, HF_FAMILIES, TOKENIZER, type HfFamily } from "./family.js";

/** A config.json that does not describe a model bdl can express; the message names the field. */
export class HfConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HfConfigError";
  }
}

/** Properties compared between a config and a `.bdl` model. */
export type Compared =
  | "vocab"
  | "hidden"
  | "layers"
  | "heads"
  | "intermediate"
  | "activation"
  | "norm_eps"
  | "positions"
  | "offset"
  | "segments"
  | "factorize"
  | "sharing"
  | "pad";

/** What a config.json describes, in bdl's terms. */
export interface HfModelSpec extends Pick<
  ResolvedModel,
  | "vocab"
  | "hidden"
  | "layers"
  | "heads"
  | "intermediate"
  | "activation"
  | "norm_eps"
  | "dropout"
  | "attention_dropout"
  | "pooler"
  | "embeddings"
  | "sharing"
  | BlockSwitch
  | "attention"
> {
  family: HfFamily;
  /** The `architectures[0]` class, or null when the config names none (a base model). */
  architecture: string | null;
  objectives: ObjectiveName[];
  tokenizer: TokenizerKind;
  special: Record<string, number>;
  /** Where the special ids come from (comment text). */
  specialNote: string;
  /** `key value` of each field absent from the file, with the default used. */
  defaulted: string[];
  /**
   * For messages: the config field (and value) behind each compared property, e.g.
   * `hidden_size 768`. For ALBERT's `sharing` it is `num_hidden_groups`, whose groups
   * `sharing` holds.
   */
  sources: Record<Compared, string>;
}

// ---------------------------------------------------------------------------------------------
// The mapping between model properties and config keys

/** The model properties every family's config holds under a key of its own. */
type Sized = "vocab" | "hidden" | "layers" | "heads" | "intermediate" | "activation" | "norm_eps" | "dropout" | "attention_dropout";

const BERT_KEYS: Record<Sized, string> = {
  vocab: "vocab_size",
  hidden: "hidden_size",
  layers: "num_hidden_layers",
  heads: "num_attention_heads",
  intermediate: "intermediate_size",
  activation: "hidden_act",
  norm_eps: "layer_norm_eps",
  dropout: "hidden_dropout_prob",
  attention_dropout: "attention_probs_dropout_prob",
};

/** DistilBERT has no LayerNorm eps key: its eps is fixed at `DISTILBERT_NORM_EPS`. */
const DISTILBERT_KEYS: Record<Exclude<Sized, "norm_eps">, string> = {
  vocab: "vocab_size",
  hidden: "dim",
  layers: "n_layers",
  heads: "n_heads",
  intermediate: "hidden_dim",
  activation: "activation",
  dropout: "dropout",
  attention_dropout: "attention_dropout",
};

export const DISTILBERT_NORM_EPS = 1e-12;

/** ModernBERT's `mlp_dropout` is bdl's `dropout`; its `embedding_dropout` must agree with it. */
const MODERNBERT_KEYS: Record<Sized, string> = {
  vocab: "vocab_size",
  hidden: "hidden_size",
  layers: "num_hidden_layers",
  heads: "num_attention_heads",
  intermediate: "intermediate_size",
  activation: "hidden_activation",
  norm_eps: "norm_eps",
  dropout: "mlp_dropout",
  attention_dropout: "attention_dropout",
};

/** Each family's key for each model property (`norm_eps` null: not in the config). */
export const CONFIG_KEYS: Record<HfFamily, Record<Sized, string | null>> = {
  bert: BERT_KEYS,
  roberta: BERT_KEYS,
  albert: BERT_KEYS,
  distilbert: { ...DISTILBERT_KEYS, norm_eps: null },
  modernbert: MODERNBERT_KEYS,
  electra: BERT_KEYS,
};

// ---------------------------------------------------------------------------------------------
// transformers' defaults (v4.38), for fields a config file leaves out

const BERT_DEFAULTS: Record<string, unknown> = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: "absolute",
};

export const DEFAULTS: Record<HfFamily, Record<string, unknown>> = {
  bert: BERT_DEFAULTS,
  roberta: { ...BERT_DEFAULTS, vocab_size: 50265, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 },
  albert: {
    ...BERT_DEFAULTS,
    vocab_size: 30000,
    embedding_size: 128,
    hidden_size: 4096,
    num_hidden_groups: 1,
    num_attention_heads: 64,
    intermediate_size: 16384,
    inner_group_num: 1,
    hidden_act: "gelu_new",
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  },
  distilbert: {
    vocab_size: 30522,
    max_position_embeddings: 512,
    sinusoidal_pos_embds: false,
    n_layers: 6,
    n_heads: 12,
    dim: 768,
    hidden_dim: 3072,
    dropout: 0.1,
    attention_dropout: 0.1,
    activation: "gelu",
    pad_token_id: 0,
  },
  // ElectraConfig: ELECTRA-small's discriminator.
  electra: {
    ...BERT_DEFAULTS,
    embedding_size: 128,
    hidden_size: 256,
    num_attention_heads: 4,
    intermediate_size: 1024,
  },
  // ModernBertConfig (transformers 4.48+).
  modernbert: {
    vocab_size: 50368,
    hidden_size: 768,
    intermediate_size: 1152,
    num_hidden_layers: 22,
    num_attention_heads: 12,
    hidden_activation: "gelu",
    max_position_embeddings: 8192,
    norm_eps: 1e-5,
    norm_bias: false,
    pad_token_id: 50283,
    cls_token_id: 50281,
    sep_token_id: 50282,
    global_rope_theta: 160000,
    local_rope_theta: 10000,
    attention_bias: false,
    attention_dropout: 0,
    global_attn_every_n_layers: 3,
    local_attention: 128,
    embedding_dropout: 0,
    mlp_bias: false,
    mlp_dropout: 0,
    decoder_bias: true,
    classifier_bias: false,
    classifier_activation: "gelu",
    tie_word_embeddings: true,
  },
};

// ---------------------------------------------------------------------------------------------
// Reading a config

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Reads fields of one config, validating each and recording those that fell back to a default. */
class FieldReader {
  readonly defaulted: string[] = [];

  constructor(
    private readonly config: Record<string, unknown>,
    private readonly defaults: Record<string, unknown>,
    private readonly label: string,
  ) {}

  private fail(key: string, what: string, value: unknown): never {
    throw new HfConfigError(`${this.label}: '${key}' must be ${what}, got ${show(value)}`);
  }

  raw(key: string): unknown {
    const v = this.config[key];
    if (v !== undefined) return v;
    if (!(key in this.defaults)) throw new HfConfigError(`${this.label}: missing '${key}'`);
    const d = this.defaults[key];
    this.defaulted.push(`${key} ${typeof d === "number" ? formatNumber(d) : String(d)}`);
    return d;
  }

  /** `key value` for messages, noting a default. */
  source(key: string): string {
    const v = this.config[key] ?? this.defaults[key];
    const text = typeof v === "number" ? formatNumber(v) : typeof v === "string" ? v : show(v);
    return `${key} ${text}${this.config[key] === undefined ? " (transformers' default: absent from the file)" : ""}`;
  }

  int(key: string, min: number): number {
    const v = this.raw(key);
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) this.fail(key, `an integer ≥ ${min}`, v);
    return v;
  }

  /** A probability-like number in [0, 1). */
  fraction(key: string): number {
    const v = this.raw(key);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v >= 1) this.fail(key, "a number in [0, 1)", v);
    return v;
  }

  positive(key: string): number {
    const v = this.raw(key);
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) this.fail(key, "a positive number", v);
    return v;
  }

  string(key: string): string {
    const v = this.raw(key);
    if (typeof v !== "string") this.fail(key, "a string", v);
    return v;
  }

  /** A field that may be absent and has no default; read as it is. */
  optional(key: string): unknown {
    return this.config[key];
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== "boolean") this.fail(key, "true or false", v);
    return v;
  }

  activation(key: string): Activation {
    const v = this.raw(key);
    if (typeof v !== "string" || !(ACTIVATIONS as readonly string[]).includes(v)) {
      throw new HfConfigError(`${this.label}: '${key}' ${show(v)} is not an activation bdl supports (${ACTIVATIONS.join(", ")})`);
    }
    return v as Activation;
  }
}

/** What `config` (the parsed config.json) describes; `label` (its path) prefixes errors. */
export function readHfConfig(config: unknown, label: string): HfModelSpec {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new HfConfigError(`${label}: expected a JSON object`);
  }
  const c = config as Record<string, unknown>;
  const modelType = c["model_type"];
  const families = HF_FAMILIES.join(", ");
  if (modelType === undefined) throw new HfConfigError(`${label}: missing 'model_type' (one of ${families})`);
  const family = familyOfModelType(modelType);
  if (family === null) throw new HfConfigError(`${label}: 'model_type' ${show(modelType)} is not a family bdl reads (${families})`);
  const f = new FieldReader(c, DEFAULTS[family], label);

  // Which class: pooler and heads.
  const archs = c["architectures"];
  let architecture: string | null = null;
  if (archs !== undefined && archs !== null) {
    if (!Array.isArray(archs) || !archs.every((a) => typeof a === "string")) {
      throw new HfConfigError(`${label}: 'architectures' must be a list of class names, got ${show(archs)}`);
    }
    if (archs.length > 1) throw new HfConfigError(`${label}: 'architectures' names several classes (${archs.join(", ")}); bdl reads one`);
    architecture = (archs[0] as string | undefined) ?? null;
  }
  const known = ARCHITECTURES[family];
  const className = architecture ?? BASE_CLASS[family];
  // Own keys only: an architecture named "constructor" is not a class bdl knows.
  const arch = Object.hasOwn(known, className) ? known[className] : undefined;
  if (!arch) {
    throw new HfConfigError(
      `${label}: 'architectures' class ${show(architecture)} is not one bdl reads for model_type ${family} (${Object.keys(known).join(", ")})`,
    );
  }

  const keys = CONFIG_KEYS[family];
  const common = {
    vocab: f.int(keys.vocab!, 1),
    hidden: f.int(keys.hidden!, 1),
    layers: f.int(keys.layers!, 1),
    heads: f.int(keys.heads!, 1),
    intermediate: f.int(keys.intermediate!, 1),
    activation: f.activation(keys.activation!),
    norm_eps: keys.norm_eps === null ? DISTILBERT_NORM_EPS : f.positive(keys.norm_eps),
    dropout: f.fraction(keys.dropout!),
    attention_dropout: f.fraction(keys.attention_dropout!),
  };
  if (common.hidden % common.heads !== 0) {
    throw new HfConfigError(`${label}: '${keys.heads}' ${common.heads} does not divide '${keys.hidden}' ${common.hidden}`);
  }

  const maxPositions = f.int("max_position_embeddings", 1);
  const pad = f.int("pad_token_id", 0);
  if (pad >= common.vocab)
    throw new HfConfigError(`${label}: 'pad_token_id' ${pad} is outside the vocabulary (vocab_size ${common.vocab})`);
  if (family === "distilbert") {
    if (f.bool("sinusoidal_pos_embds"))
      throw new HfConfigError(`${label}: 'sinusoidal_pos_embds' true: bdl models learn their position embeddings`);
  } else if (family !== "modernbert") {
    const kind = f.string("position_embedding_type");
    if (kind !== "absolute")
      throw new HfConfigError(`${label}: 'position_embedding_type' "${kind}": bdl models have absolute position embeddings only`);
  }

  // Embeddings.
  const offset = family === "roberta" ? pad + 1 : 0;
  const positions = maxPositions - offset;
  if (positions < 1) {
    throw new HfConfigError(
      `${label}: 'max_position_embeddings' ${maxPositions} leaves no positions after RoBERTa's offset pad_token_id + 1 = ${offset}`,
    );
  }
  const segments = family === "distilbert" || family === "modernbert" ? 0 : f.int("type_vocab_size", 1);
  let factorize: number | null = null;
  let sharing: SharingGroup[] = [];
  if (family === "albert") {
    const E = f.int("embedding_size", 1);
    if (E >= common.hidden) {
      throw new HfConfigError(
        `${label}: 'embedding_size' ${E} must be smaller than 'hidden_size' ${common.hidden}: bdl factorizes embeddings only to a narrower width (ALBERT always projects E -> H)`,
      );
    }
    factorize = E;
    sharing = albertSharing(f, common.layers, label);
  } else if (family === "electra") {
    // Each of ELECTRA's pair projects the shared embeddings to its own width when they differ (`embeddings_project`).
    const E = f.int("embedding_size", 1);
    factorize = E === common.hidden ? null : E;
  }

  const special = specialIds(family, pad, common.vocab, f);
  const layout = family === "modernbert" ? modernBertLayout(f, common, label) : {};

  const fixed = (what: string): string => `model_type ${family} (${what})`;
  const sources: Record<Compared, string> = {
    vocab: f.source(keys.vocab!),
    hidden: f.source(keys.hidden!),
    layers: f.source(keys.layers!),
    heads: f.source(keys.heads!),
    intermediate: f.source(keys.intermediate!),
    activation: f.source(keys.activation!),
    norm_eps: keys.norm_eps === null ? fixed(`LayerNorm eps fixed at ${formatNumber(DISTILBERT_NORM_EPS)}`) : f.source(keys.norm_eps),
    positions: f.source("max_position_embeddings"),
    offset: family === "roberta" ? `${f.source("pad_token_id")} (position ids start at ${offset})` : fixed("position ids start at 0"),
    segments: family === "distilbert" || family === "modernbert" ? fixed("no token-type embeddings") : f.source("type_vocab_size"),
    factorize: family === "albert" || family === "electra" ? f.source("embedding_size") : fixed("embeddings are hidden-wide"),
    sharing: family === "albert" ? f.source("num_hidden_groups") : fixed("no layer sharing"),
    pad: f.source("pad_token_id"),
  };

  return {
    family,
    architecture,
    ...common,
    ...layout,
    pooler: arch.pooler,
    embeddings: { positions, offset, segments, factorize },
    sharing,
    objectives: arch.objectives,
    tokenizer: TOKENIZER[family],
    special: special.ids,
    specialNote: special.note,
    defaulted: f.defaulted,
    sources,
  };
}

/**
 * What ModernBERT's config sets beyond the sizes, in bdl's terms: pre-LN layers without
 * layer 0's attention LayerNorm, a GLU MLP, the bias switches, rotary positions with a base
 * per layer kind, and local attention. Its RoPE bases are `rope_parameters` (transformers
 * 5) or `global_rope_theta` / `local_rope_theta` (4.48+); `layer_types`, when present, must
 * be the pattern `global_attn_every_n_layers` makes.
 */
function modernBertLayout(
  f: FieldReader,
  common: { activation: Activation; dropout: number; layers: number },
  label: string,
): Partial<HfModelSpec> {
  const refuse = (why: string): never => {
    throw new HfConfigError(`${label}: ${why}`);
  };
  if (!f.bool("tie_word_embeddings")) refuse("'tie_word_embeddings' false: bdl's MLM decoder is always the word-embedding table");
  const headActivation = f.activation("classifier_activation");
  if (headActivation !== common.activation)
    refuse(
      `'classifier_activation' ${headActivation} differs from 'hidden_activation' ${common.activation}: bdl's MLM head uses the model's activation`,
    );
  const embeddingDropout = f.fraction("embedding_dropout");
  if (embeddingDropout !== common.dropout)
    refuse(`'embedding_dropout' ${embeddingDropout} differs from 'mlp_dropout' ${common.dropout}: bdl has one hidden dropout for both`);
  const every = f.int("global_attn_every_n_layers", 1);
  const window = f.int("local_attention", 1);
  const types = (f.optional("layer_types") ?? null) as unknown;
  if (types !== null) {
    const expected = Array.from({ length: common.layers }, (_, i) => (i % every === 0 ? "full_attention" : "sliding_attention"));
    if (!Array.isArray(types) || types.join(",") !== expected.join(","))
      refuse(
        `'layer_types' must be ${JSON.stringify(expected)}, the layers 'global_attn_every_n_layers' ${every} makes global, got ${show(types)}`,
      );
  }
  const rope = f.optional("rope_parameters");
  const theta = (kind: string, legacy: string): number => {
    if (rope === undefined) return f.positive(legacy);
    const entry = typeof rope === "object" && rope !== null ? (rope as Record<string, unknown>)[kind] : undefined;
    const value = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)["rope_theta"] : undefined;
    const type = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)["rope_type"] : undefined;
    if (typeof value !== "number" || !(value > 0))
      refuse(`'rope_parameters.${kind}.rope_theta' must be a positive number, got ${show(value)}`);
    if (type !== undefined && type !== "default")
      refuse(`'rope_parameters.${kind}.rope_type' ${show(type)}: bdl applies default RoPE only`);
    return value as number;
  };
  const global = theta("full_attention", "global_rope_theta");
  const local = theta("sliding_attention", "local_rope_theta");
  const off = (key: string) => (f.bool(key) ? {} : { [key]: false as const });
  return {
    norm_position: "pre",
    feed_forward: "gated",
    first_attention_norm: false,
    ...off("attention_bias"),
    ...off("mlp_bias"),
    ...off("norm_bias"),
    ...off("classifier_bias"),
    ...off("decoder_bias"),
    attention: { rotary: global, window, global_every: every, local_rotary: local === global ? null : local },
  };
}

/**
 * ALBERT's layer groups: layer i uses group ⌊i / (L / G)⌋, every group sharing attention and
 * FFN. bdl writes that as `sharing all` (G = 1), no sharing (G = L), or G contiguous groups.
 */
function albertSharing(f: FieldReader, layers: number, label: string): SharingGroup[] {
  const inner = f.int("inner_group_num", 1);
  if (inner !== 1) {
    throw new HfConfigError(`${label}: 'inner_group_num' ${inner}: bdl models have one layer per ALBERT layer group (inner_group_num 1)`);
  }
  const groups = f.int("num_hidden_groups", 1);
  if (groups > layers || layers % groups !== 0) {
    throw new HfConfigError(
      `${label}: 'num_hidden_groups' ${groups} does not divide 'num_hidden_layers' ${layers}: bdl's ALBERT layer groups are contiguous and of equal size`,
    );
  }
  const per = layers / groups;
  if (per === 1) return [];
  if (groups === 1) return [sharingAllGroup(layers)];
  return range(0, groups).map((g) => ({ name: `g${g}`, layers: range(g * per, (g + 1) * per), share: [...SHARED_PARTS] }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Roles that may share an id (as the checker allows): RoBERTa's <s> and </s>. */
const MAY_SHARE = new Set(["bos:cls", "cls:bos", "eos:sep", "sep:eos"]);

function fits(ids: Record<string, number>, vocab: number): boolean {
  const entries = Object.entries(ids);
  if (entries.some(([, id]) => id < 0 || id >= vocab)) return false;
  return entries.every(([r, a], i) => entries.every(([s, b], j) => i === j || a !== b || MAY_SHARE.has(`${r}:${s}`)));
}

function specialIds(family: HfFamily, pad: number, vocab: number, f: FieldReader): { ids: Record<string, number>; note: string } {
  let standard: Record<string, number>;
  let described: string;
  /** Roles whose ids config.json gives: kept when the standard ids do not fit. */
  const kept: string[] = [];
  if (family === "roberta") {
    const bos = f.int("bos_token_id", 0);
    const eos = f.int("eos_token_id", 0);
    standard = { pad, unk: 3, cls: bos, sep: eos, mask: vocab - 1, bos, eos };
    described = `unk 3, mask vocab - 1, cls = bos_token_id, sep = eos_token_id`;
  } else if (family === "albert") {
    standard = { pad, unk: 1, cls: 2, sep: 3, mask: 4 };
    described = "unk 1, cls 2, sep 3, mask 4";
  } else if (family === "modernbert") {
    standard = { pad, unk: 50280, cls: f.int("cls_token_id", 0), sep: f.int("sep_token_id", 0), mask: 50284 };
    described = "unk 50280, mask 50284, cls = cls_token_id, sep = sep_token_id";
    // The config holds cls and sep: a small vocabulary keeps them and finds room for the others.
    kept.push("cls", "sep");
  } else {
    standard = { pad, unk: 100, cls: 101, sep: 102, mask: 103 };
    described = "unk 100, cls 101, sep 102, mask 103";
  }
  const tokenizer = `the standard ${FAMILY_NAME[family]} tokenizer's`;
  if (fits(standard, vocab)) {
    return { ids: standard, note: `Special ids other than pad are ${tokenizer} (${described}), not from config.json.` };
  }
  // The ids config.json gives, then the ids right after pad, else the lowest free ones.
  const ids: Record<string, number> = { pad };
  for (const role of kept) ids[role] = standard[role]!;
  const used = new Set<number>(Object.values(ids));
  const next = (): number => {
    for (let id = pad + 1; id < vocab; id++) if (!used.has(id)) return id;
    for (let id = 0; id < vocab; id++) if (!used.has(id)) return id;
    throw new HfConfigError(`vocab_size ${vocab} is too small to hold the special tokens pad, unk, cls, sep and mask`);
  };
  for (const role of ["unk", "cls", "sep", "mask"].filter((r) => !kept.includes(r))) {
    ids[role] = next();
    used.add(ids[role]!);
  }
  if (family === "roberta") {
    ids["bos"] = ids["cls"]!;
    ids["eos"] = ids["sep"]!;
  }
  return {
    ids,
    note:
      kept.length > 0
        ? `Special ids: pad, ${kept.join(" and ")} from config.json; ${tokenizer} others (${described}) do not fit vocab ${vocab}: these follow pad.`
        : `Special ids other than pad are not in config.json, and ${tokenizer} (${described}) do not fit vocab ${vocab}: these follow pad.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading a classifier's config

/** The `…ForSequenceClassification` class a config.json names as its one architecture, or null when it names another or none. */
export function sequenceClassificationClass(config: unknown): string | null {
  if (typeof config !== "object" || config === null || Array.isArray(config)) return null;
  const archs = (config as Record<string, unknown>)["architectures"];
  if (!Array.isArray(archs) || archs.length !== 1 || typeof archs[0] !== "string") return null;
  return archs[0].endsWith("ForSequenceClassification") ? archs[0] : null;
}

/** A classifier's config.json as its encoder's: the class replaced by the family's base model, for `readHfConfig`. */
export function classifierEncoderConfig(config: Record<string, unknown>): Record<string, unknown> {
  const family = familyOfModelType(config["model_type"]);
  return family === null ? config : { ...config, architectures: [BASE_CLASS[family]] };
}

/** What a `…ForSequenceClassification` config.json says beyond its encoder: the labels, and the task it names. */
export interface HfClassifierSpec {
  /** Label names by class id, from `id2label`. */
  labels: string[];
  /** `finetuning_task`, or null when it names none. */
  task: string | null;
}

/**
 * The labels of a `…ForSequenceClassification` config.json (`label` is its path): `id2label`,
 * keyed by every class id from 0 as text, each a distinct name, at least two; `label2id`, when
 * given, its inverse; `num_labels`, when given, their number; `problem_type` single-label
 * (softmax over one label a text, as bdl classifies) or absent. ModernBERT's `classifier_pooling`
 * must be "cls" (its default): bdl's head reads the first token.
 */
export function readHfClassifierConfig(config: Record<string, unknown>, family: HfFamily, label: string): HfClassifierSpec {
  const refuse = (why: string): never => {
    throw new HfConfigError(`${label}: ${why}`);
  };
  const id2label = config["id2label"];
  if (id2label === undefined || id2label === null) refuse("missing 'id2label', the classifier's label names by class id");
  if (typeof id2label !== "object" || Array.isArray(id2label))
    refuse(`'id2label' must be an object of label names by class id, got ${show(id2label)}`);
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels: string[] = [];
  for (const [id, name] of entries) {
    if (!/^(0|[1-9][0-9]*)$/.test(id) || Number(id) >= entries.length)
      refuse(`'id2label' key ${show(id)} is not a class id: the ids must be 0 to ${entries.length - 1}`);
    if (typeof name !== "string" || name === "") refuse(`'id2label' ${show(id)} must be a label name, got ${show(name)}`);
    if (labels.includes(name as string)) refuse(`'id2label' names the label ${show(name)} twice`);
    labels[Number(id)] = name as string;
  }
  if (labels.length < 2) refuse(`'id2label' names ${labels.length} label(s); a classifier has at least two`);
  const label2id = config["label2id"];
  if (label2id !== undefined && label2id !== null) {
    const back = typeof label2id === "object" && !Array.isArray(label2id) ? (label2id as Record<string, unknown>) : null;
    if (back === null) refuse(`'label2id' must be an object of class ids by label name, got ${show(label2id)}`);
    const wrong = labels.findIndex((name, id) => !Object.hasOwn(back!, name) || back![name] !== id);
    if (wrong >= 0)
      refuse(
        `'label2id' ${show(labels[wrong])} is ${show(Object.hasOwn(back!, labels[wrong]!) ? back![labels[wrong]!] : undefined)}, but 'id2label' gives it id ${wrong}`,
      );
    const extra = Object.keys(back!).find((name) => !labels.includes(name));
    if (extra !== undefined) refuse(`'label2id' names the label ${show(extra)}, which 'id2label' does not have`);
  }
  const numLabels = config["num_labels"];
  if (numLabels !== undefined && numLabels !== labels.length)
    refuse(`'num_labels' ${show(numLabels)} differs from the ${labels.length} labels of 'id2label'`);
  const problem = config["problem_type"];
  if (problem !== undefined && problem !== null && problem !== "single_label_classification")
    refuse(`'problem_type' ${show(problem)}: bdl's classifiers are single-label (softmax over the labels, cross-entropy)`);
  if (family === "modernbert") {
    const pooling = config["classifier_pooling"] ?? "cls";
    if (pooling !== "cls") refuse(`'classifier_pooling' ${show(pooling)}: bdl's ModernBERT head reads the first token ("cls")`);
  }
  const task = config["finetuning_task"];
  if (task !== undefined && task !== null && typeof task !== "string") refuse(`'finetuning_task' must be a string, got ${show(task)}`);
  return { labels, task: typeof task === "string" && task !== "" ? task : null };
}

// ---------------------------------------------------------------------------------------------
// Writing a config

/** Why the model's settings (beyond its tensors) do not fit the family's config, if they do not. */
export function configProblem(model: ResolvedModel, family: HfFamily): string | null {
  const pad = model.special["pad"];
  if (pad === undefined) return "the model declares no pad id (config.json needs pad_token_id)";
  if (family === "roberta" && model.embeddings.offset !== pad + 1) {
    return `RoBERTa's position ids start at pad_token_id + 1 = ${pad + 1}, but the model's embeddings offset is ${model.embeddings.offset}`;
  }
  if (family === "albert" && model.embeddings.factorize === null) {
    return "ALBERT always projects its embeddings (embedding_hidden_mapping_in), but the model has no `factorize`";
  }
  if (family === "distilbert" && model.norm_eps !== DISTILBERT_NORM_EPS) {
    return `DistilBERT's LayerNorm eps is fixed at 1e-12, but the model has norm_eps ${model.norm_eps}`;
  }
  return null;
}

/**
 * ModernBERT's fields beyond the sizes. The RoPE bases are written both ways transformers
 * reads them (`rope_parameters` and `layer_types` since version 5, `global_rope_theta` and
 * `local_rope_theta` before); without a window every layer is global
 * (`global_attn_every_n_layers` 1).
 */
function modernBertConfig(model: ResolvedModel): Record<string, unknown> {
  const a = attentionConfig(model);
  const every = a.window === null ? 1 : a.global_every;
  const local = a.local_rotary ?? a.rotary!;
  const s = model.special;
  return {
    attention_bias: hasBias(model, "attention"),
    mlp_bias: hasBias(model, "mlp"),
    norm_bias: hasBias(model, "norm"),
    classifier_bias: hasBias(model, "classifier"),
    decoder_bias: hasBias(model, "decoder"),
    tie_word_embeddings: true,
    classifier_activation: model.activation,
    embedding_dropout: model.dropout,
    classifier_dropout: 0,
    global_attn_every_n_layers: every,
    // With every layer global the window is never used; transformers' default stands in.
    local_attention: a.window ?? 128,
    global_rope_theta: a.rotary,
    local_rope_theta: local,
    layer_types: Array.from({ length: model.layers }, (_, i) => (i % every === 0 ? "full_attention" : "sliding_attention")),
    rope_parameters: {
      full_attention: { rope_theta: a.rotary, rope_type: "default" },
      sliding_attention: { rope_theta: local, rope_type: "default" },
    },
    cls_token_id: s["cls"],
    sep_token_id: s["sep"],
    bos_token_id: s["bos"] ?? s["cls"],
    eos_token_id: s["eos"] ?? s["sep"],
  };
}

/** The transformers version the written configs name (the goldens were saved with it). */
const TRANSFORMERS_VERSION = "4.38.2";

/**
 * The config.json transformers needs for the model's family and class (keys sorted, as
 * transformers writes them). The model must have a pad id (see `configProblem`).
 */
export function hfConfig(model: ResolvedModel, family: HfFamily, architecture: string): Record<string, unknown> {
  const s = model.special;
  const config: Record<string, unknown> = {};
  for (const [property, key] of Object.entries(CONFIG_KEYS[family]) as [Sized, string | null][]) {
    if (key !== null) config[key] = model[property];
  }
  Object.assign(config, {
    max_position_embeddings: model.embeddings.positions + model.embeddings.offset,
    pad_token_id: s["pad"]!,
    architectures: [architecture],
    initializer_range: 0.02,
    model_type: family,
    torch_dtype: "float32",
    // ModernBERT arrived in transformers 4.48.
    transformers_version: family === "modernbert" ? "4.48.0" : TRANSFORMERS_VERSION,
  });
  if (family === "distilbert") {
    Object.assign(config, { qa_dropout: model.dropout, seq_classif_dropout: model.dropout, sinusoidal_pos_embds: false });
  } else if (family === "modernbert") {
    Object.assign(config, modernBertConfig(model));
  } else {
    Object.assign(config, { position_embedding_type: "absolute", type_vocab_size: model.embeddings.segments });
  }
  if (family === "albert") {
    const owners = new Set(
      Array.from({ length: model.layers }, (_, l) => model.sharing.find((g) => g.layers.includes(l))?.name ?? `layer ${l}`),
    );
    Object.assign(config, {
      bos_token_id: s["bos"] ?? s["cls"],
      classifier_dropout_prob: model.dropout,
      embedding_size: model.embeddings.factorize ?? model.hidden,
      eos_token_id: s["eos"] ?? s["sep"],
      inner_group_num: 1,
      num_hidden_groups: owners.size,
    });
  }
  if (family === "electra")
    Object.assign(config, {
      classifier_dropout: null,
      embedding_size: model.embeddings.factorize ?? model.hidden,
      tie_word_embeddings: true,
    });
  if (family === "bert" || family === "roberta") Object.assign(config, { classifier_dropout: null, use_cache: true });
  if (family === "roberta") Object.assign(config, { bos_token_id: s["bos"] ?? s["cls"], eos_token_id: s["eos"] ?? s["sep"] });
  return Object.fromEntries(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
}

/**
 * The config.json of a `…ForSequenceClassification` class: the encoder's, with the labels as
 * transformers writes them (`id2label` keyed by the class id as text, `label2id` back, keys
 * sorted) and `problem_type` single-label (the head was trained with cross-entropy over one
 * label per text). transformers derives `num_labels` from `id2label` and does not write it.
 * The head's own settings are the encoder config's (DistilBERT's `seq_classif_dropout`,
 * ModernBERT's `classifier_bias` and `classifier_activation`; the others drop out at
 * `hidden_dropout_prob`), but for ModernBERT's: it reads the first token
 * (`classifier_pooling` "cls"), and drops out at the model's rate, as fine-tuning did.
 */
export function hfClassifierConfig(
  model: ResolvedModel,
  family: HfFamily,
  architecture: string,
  labels: readonly string[],
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    ...hfConfig(model, family, architecture),
    id2label: Object.fromEntries(labels.map((label, id) => [String(id), label])),
    label2id: Object.fromEntries(labels.map((label, id) => [label, id])),
    problem_type: "single_label_classification",
    ...(family === "modernbert" ? { classifier_pooling: "cls", classifier_dropout: model.dropout } : {}),
  };
  return Object.fromEntries(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
}
