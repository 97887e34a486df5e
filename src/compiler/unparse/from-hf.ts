/**
 * Hugging Face `config.json` → a `.bdl` model (`bdlc from-hf`), and the field-by-field
 * comparison of a config with a model (`bdlc import-hf`, `bdlc run` on a Hugging Face folder).
 *
 * Families: BERT, RoBERTa, ALBERT, DistilBERT (`model_type`). A field absent from the file
 * takes the value transformers' config class gives it (the generated text lists them). Every
 * field read is validated, and an error names the field.
 *
 * Special token ids other than pad (and RoBERTa's bos/eos) are tokenizer facts that a
 * config does not hold: the family's standard tokenizer's ids are used when they fit the
 * vocabulary, otherwise the ids right after pad; the generated text says so.
 */
import { formatNumber } from "./flatten.js";
import { formatSource } from "./format.js";
import type { Activation, ObjectiveName, Pooler, ResolvedModel, SharingGroup, TokenizerKind } from "../../model/model.js";

export type HfFamily = "bert" | "roberta" | "albert" | "distilbert";

/** A config.json that does not describe a model bdl can express; the message names the field. */
export class HfConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HfConfigError";
  }
}

/** Properties compared between a config and a `.bdl` model. */
type Compared = "vocab" | "hidden" | "layers" | "heads" | "intermediate" | "activation" | "norm_eps" | "positions" | "offset" | "segments" | "factorize" | "sharing" | "pad";

/** What a config.json describes, in bdl's terms. */
export interface HfModelSpec
  extends Pick<
    ResolvedModel,
    "vocab" | "hidden" | "layers" | "heads" | "intermediate" | "activation" | "norm_eps" | "dropout" | "attention_dropout" | "pooler" | "embeddings" | "sharing"
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
  /** For messages: the config field (and value) behind each compared property, e.g. `hidden_size 768`. */
  sources: Record<Compared, string>;
}

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

const DEFAULTS: Record<HfFamily, Record<string, unknown>> = {
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
};

/** The classes each family supports: pooler and pretraining objectives. */
const ARCHITECTURES: Record<HfFamily, Record<string, { pooler: Pooler; objectives: ObjectiveName[] }>> = {
  bert: {
    BertForPreTraining: { pooler: "tanh", objectives: ["mlm", "nsp"] },
    BertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    BertModel: { pooler: "tanh", objectives: [] },
  },
  roberta: {
    RobertaForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    RobertaModel: { pooler: "none", objectives: [] },
  },
  albert: {
    AlbertForPreTraining: { pooler: "tanh", objectives: ["mlm", "sop"] },
    AlbertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    AlbertModel: { pooler: "tanh", objectives: [] },
  },
  distilbert: {
    DistilBertForMaskedLM: { pooler: "none", objectives: ["mlm"] },
    DistilBertModel: { pooler: "none", objectives: [] },
  },
};

const BASE_CLASS: Record<HfFamily, string> = { bert: "BertModel", roberta: "RobertaModel", albert: "AlbertModel", distilbert: "DistilBertModel" };
const FAMILY_NAME: Record<HfFamily, string> = { bert: "BERT", roberta: "RoBERTa", albert: "ALBERT", distilbert: "DistilBERT" };
const TOKENIZER: Record<HfFamily, TokenizerKind> = { bert: "wordpiece", roberta: "bpe", albert: "sentencepiece", distilbert: "wordpiece" };
const ACTIVATIONS: readonly Activation[] = ["gelu", "gelu_new", "relu"];

// ---------------------------------------------------------------------------------------------
// Reading a config

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v) ?? String(v);
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
  if (modelType === undefined) throw new HfConfigError(`${label}: missing 'model_type' (one of bert, roberta, albert, distilbert)`);
  if (typeof modelType !== "string" || !Object.hasOwn(DEFAULTS, modelType)) {
    throw new HfConfigError(`${label}: 'model_type' ${show(modelType)} is not a family bdl reads (bert, roberta, albert, distilbert)`);
  }
  const family = modelType as HfFamily;
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

  const common = family === "distilbert"
    ? {
        vocab: f.int("vocab_size", 1),
        hidden: f.int("dim", 1),
        layers: f.int("n_layers", 1),
        heads: f.int("n_heads", 1),
        intermediate: f.int("hidden_dim", 1),
        activation: f.activation("activation"),
        norm_eps: 1e-12,
        dropout: f.fraction("dropout"),
        attention_dropout: f.fraction("attention_dropout"),
      }
    : {
        vocab: f.int("vocab_size", 1),
        hidden: f.int("hidden_size", 1),
        layers: f.int("num_hidden_layers", 1),
        heads: f.int("num_attention_heads", 1),
        intermediate: f.int("intermediate_size", 1),
        activation: f.activation("hidden_act"),
        norm_eps: f.positive("layer_norm_eps"),
        dropout: f.fraction("hidden_dropout_prob"),
        attention_dropout: f.fraction("attention_probs_dropout_prob"),
      };
  const headsKey = family === "distilbert" ? "n_heads" : "num_attention_heads";
  const hiddenKey = family === "distilbert" ? "dim" : "hidden_size";
  if (common.hidden % common.heads !== 0) {
    throw new HfConfigError(`${label}: '${headsKey}' ${common.heads} does not divide '${hiddenKey}' ${common.hidden}`);
  }

  const maxPositions = f.int("max_position_embeddings", 1);
  const pad = f.int("pad_token_id", 0);
  if (pad >= common.vocab) throw new HfConfigError(`${label}: 'pad_token_id' ${pad} is outside the vocabulary (vocab_size ${common.vocab})`);
  if (family === "distilbert") {
    if (f.bool("sinusoidal_pos_embds")) throw new HfConfigError(`${label}: 'sinusoidal_pos_embds' true: bdl models learn their position embeddings`);
  } else {
    const kind = f.string("position_embedding_type");
    if (kind !== "absolute") throw new HfConfigError(`${label}: 'position_embedding_type' "${kind}": bdl models have absolute position embeddings only`);
  }

  // Embeddings.
  const offset = family === "roberta" ? pad + 1 : 0;
  const positions = maxPositions - offset;
  if (positions < 1) {
    throw new HfConfigError(`${label}: 'max_position_embeddings' ${maxPositions} leaves no positions after RoBERTa's offset pad_token_id + 1 = ${offset}`);
  }
  const segments = family === "distilbert" ? 0 : f.int("type_vocab_size", 1);
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
  }

  const special = specialIds(family, pad, common.vocab, f);

  const sources: Record<Compared, string> = family === "distilbert"
    ? {
        vocab: f.source("vocab_size"),
        hidden: f.source("dim"),
        layers: f.source("n_layers"),
        heads: f.source("n_heads"),
        intermediate: f.source("hidden_dim"),
        activation: f.source("activation"),
        norm_eps: "model_type distilbert (LayerNorm eps fixed at 1e-12)",
        positions: f.source("max_position_embeddings"),
        offset: "model_type distilbert (position ids start at 0)",
        segments: "model_type distilbert (no token-type embeddings)",
        factorize: "model_type distilbert (embeddings are hidden-wide)",
        sharing: "model_type distilbert (no layer sharing)",
        pad: f.source("pad_token_id"),
      }
    : {
        vocab: f.source("vocab_size"),
        hidden: f.source("hidden_size"),
        layers: f.source("num_hidden_layers"),
        heads: f.source("num_attention_heads"),
        intermediate: f.source("intermediate_size"),
        activation: f.source("hidden_act"),
        norm_eps: f.source("layer_norm_eps"),
        positions: f.source("max_position_embeddings"),
        offset: family === "roberta" ? `${f.source("pad_token_id")} (position ids start at ${offset})` : `model_type ${family} (position ids start at 0)`,
        segments: f.source("type_vocab_size"),
        factorize: family === "albert" ? f.source("embedding_size") : `model_type ${family} (embeddings are hidden-wide)`,
        sharing: family === "albert" ? `${f.source("num_hidden_groups")} (${sharingText(sharing)})` : `model_type ${family} (no layer sharing)`,
        pad: f.source("pad_token_id"),
      };

  return {
    family,
    architecture,
    ...common,
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
  if (groups === 1) return [{ name: "all", layers: range(0, layers), share: ["attention", "ffn"] }];
  return range(0, groups).map((g) => ({ name: `g${g}`, layers: range(g * per, (g + 1) * per), share: ["attention", "ffn"] }));
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
  if (family === "roberta") {
    const bos = f.int("bos_token_id", 0);
    const eos = f.int("eos_token_id", 0);
    standard = { pad, unk: 3, cls: bos, sep: eos, mask: vocab - 1, bos, eos };
    described = `unk 3, mask vocab - 1, cls = bos_token_id, sep = eos_token_id`;
  } else if (family === "albert") {
    standard = { pad, unk: 1, cls: 2, sep: 3, mask: 4 };
    described = "unk 1, cls 2, sep 3, mask 4";
  } else {
    standard = { pad, unk: 100, cls: 101, sep: 102, mask: 103 };
    described = "unk 100, cls 101, sep 102, mask 103";
  }
  const tokenizer = `the standard ${FAMILY_NAME[family]} tokenizer's`;
  if (fits(standard, vocab)) {
    return { ids: standard, note: `Special ids other than pad are ${tokenizer} (${described}), not from config.json.` };
  }
  // The ids right after pad, else the lowest free ones.
  const used = new Set<number>([pad]);
  const next = (): number => {
    for (let id = pad + 1; id < vocab; id++) if (!used.has(id)) return id;
    for (let id = 0; id < vocab; id++) if (!used.has(id)) return id;
    throw new HfConfigError(`vocab_size ${vocab} is too small to hold the special tokens pad, unk, cls, sep and mask`);
  };
  const ids: Record<string, number> = { pad };
  for (const role of ["unk", "cls", "sep", "mask"]) {
    ids[role] = next();
    used.add(ids[role]!);
  }
  if (family === "roberta") {
    ids["bos"] = ids["cls"]!;
    ids["eos"] = ids["sep"]!;
  }
  return {
    ids,
    note: `Special ids other than pad are not in config.json, and ${tokenizer} (${described}) do not fit vocab ${vocab}: these follow pad.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing a .bdl model

const n = formatNumber;

function layersText(layers: readonly number[]): string {
  return layers.length > 1 ? `${layers[0]}..${layers.at(-1)}` : `[${layers.join(", ")}]`;
}

function sharingText(groups: readonly SharingGroup[]): string {
  if (groups.length === 0) return "no sharing";
  if (groups.length === 1 && groups[0]!.name === "all") return "sharing all";
  return groups.map((g) => `${g.name} layers ${layersText(g.layers)}`).join(", ");
}

/** `//` comment lines of at most about 96 characters, broken between `units` (default: words). */
function comment(text: string, units: string[] = text.split(/\s+/)): string[] {
  const lines: string[] = [];
  let line = "//";
  for (const word of units) {
    if (line !== "//" && line.length + 1 + word.length > 96) {
      lines.push(line);
      line = "//";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

const SPECIAL_ORDER = ["pad", "unk", "cls", "sep", "mask", "bos", "eos"];

/** The `.bdl` text (canonically formatted) of a spec read by `readHfConfig`. */
export function renderHfModel(spec: HfModelSpec, name: string, label: string): string {
  const lines: string[] = [];
  const cls = spec.architecture ?? `${BASE_CLASS[spec.family]} (config.json names no architecture)`;
  lines.push(...comment(`Generated by \`bdlc from-hf\` from ${label.replace(/[\r\n]+/g, " ")}: ${cls}, model_type ${spec.family}.`));
  if (spec.defaulted.length > 0) {
    const units = ["Absent", "from", "config.json,", "so", "transformers'", "defaults:", ...spec.defaulted.map((d, i) => (i < spec.defaulted.length - 1 ? `${d},` : `${d}.`))];
    lines.push(...comment("", units));
  }
  lines.push(`model ${name} {`);
  lines.push(`vocab ${n(spec.vocab)}`, `hidden ${n(spec.hidden)}`, `layers ${n(spec.layers)}`, `heads ${n(spec.heads)}`);
  lines.push(`intermediate ${n(spec.intermediate)}`, `activation ${spec.activation}`, `norm_eps ${n(spec.norm_eps)}`);
  lines.push(`dropout ${n(spec.dropout)}`, `attention_dropout ${n(spec.attention_dropout)}`, `pooler ${spec.pooler}`);
  lines.push("");
  const e = spec.embeddings;
  const factorize = e.factorize === null ? "" : ` factorize ${n(e.factorize)}`;
  lines.push(`embeddings { positions ${n(e.positions)} offset ${n(e.offset)} segments ${n(e.segments)}${factorize} }`);
  if (spec.sharing.length === 1 && spec.sharing[0]!.name === "all") {
    lines.push("sharing all");
  } else if (spec.sharing.length > 0) {
    lines.push("sharing {");
    for (const g of spec.sharing) lines.push(`group ${g.name} layers ${layersText(g.layers)} share ${g.share.join(" ")}`);
    lines.push("}");
  }
  if (spec.objectives.length > 0) {
    lines.push(`objectives { ${spec.objectives.map((o) => `${o} weight 1`).join(" ")} }`);
  } else {
    lines.push(`// ${spec.architecture ?? BASE_CLASS[spec.family]} has no pretraining heads.`);
    lines.push("objectives {}");
  }
  lines.push("");
  lines.push(`tokenizer ${spec.tokenizer}`);
  lines.push(...comment(spec.specialNote));
  const roles = Object.keys(spec.special).sort((a, b) => SPECIAL_ORDER.indexOf(a) - SPECIAL_ORDER.indexOf(b));
  lines.push(`special { ${roles.map((r) => `${r} ${n(spec.special[r]!)}`).join(" ")} }`);
  // The default training length (128) must fit the learned positions.
  if (e.positions < 128) lines.push(`train { seq ${n(e.positions)} }`);
  lines.push("}");

  const formatted = formatSource({ path: `<from-hf ${name}>`, text: lines.join("\n") + "\n" });
  if (formatted.text === undefined) {
    const why = formatted.diagnostics.map((d) => d.message).join("; ");
    throw new Error(`internal error: the model generated from ${label} does not parse: ${why}`);
  }
  return formatted.text;
}

/** `bdlc from-hf`: the `.bdl` text of a standalone model for a Hugging Face config.json. */
export function modelFromHfConfig(config: unknown, name: string, label: string): string {
  return renderHfModel(readHfConfig(config, label), name, label);
}

/** A folder name (or any text) as a model name: runs of other characters become one hyphen. */
export function sanitizeModelName(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]+/g, "-").replace(/^-+|-+$/g, "");
  if (s === "") return "hf-model";
  return /^[A-Za-z_]/.test(s) ? s : `hf-${s}`;
}

export const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$/;

// ---------------------------------------------------------------------------------------------
// Comparing a config with a model

/** Per layer: which layers share its attention and its FFN (a sorted list), or "own". */
function sharingLayout(groups: readonly SharingGroup[], layers: number): string {
  const owner = (layer: number, part: "attention" | "ffn"): string => {
    const g = groups.find((x) => x.share.includes(part) && x.layers.includes(layer));
    return g ? [...g.layers].sort((a, b) => a - b).join(",") : "own";
  };
  return range(0, layers).map((l) => `${owner(l, "attention")}/${owner(l, "ffn")}`).join(" ");
}

function modelSharingText(model: ResolvedModel): string {
  if (model.sharing.length === 0) return "none";
  return model.sharing.map((g) => `${g.name} layers ${layersText(g.layers)} share ${g.share.join(" ")}`).join(", ");
}

/**
 * Each difference between what a config describes and `model`, as
 * `config.json hidden_size 768 ≠ models/x.bdl hidden 256`; empty when they agree.
 * Pooler and heads are not compared here: they decide which tensors the checkpoint must
 * hold, which reading the weights checks.
 */
export function configMismatches(spec: HfModelSpec, model: ResolvedModel, configLabel: string, modelLabel: string): string[] {
  const out: string[] = [];
  const differ = (what: Compared, ours: string, equal: boolean): void => {
    if (!equal) out.push(`${configLabel} ${spec.sources[what]} ≠ ${modelLabel} ${ours}`);
  };
  const num = (what: Compared & keyof ResolvedModel, v: number): void => differ(what, `${what} ${n(model[what] as number)}`, model[what] === v);
  num("vocab", spec.vocab);
  num("hidden", spec.hidden);
  num("layers", spec.layers);
  num("heads", spec.heads);
  num("intermediate", spec.intermediate);
  differ("activation", `activation ${model.activation}`, model.activation === spec.activation);
  num("norm_eps", spec.norm_eps);
  const me = model.embeddings;
  const se = spec.embeddings;
  differ(
    "positions",
    `positions + offset ${n(me.positions + me.offset)} (${n(me.positions)} + ${n(me.offset)})`,
    me.positions + me.offset === se.positions + se.offset,
  );
  differ("offset", `offset ${n(me.offset)}`, me.offset === se.offset);
  differ("segments", `segments ${n(me.segments)}`, me.segments === se.segments);
  differ("factorize", me.factorize === null ? "factorize none (embeddings are hidden-wide)" : `factorize ${n(me.factorize)}`, me.factorize === se.factorize);
  // With different layer counts (reported above) only "shares or not" is compared.
  const sameSharing = model.layers === spec.layers
    ? sharingLayout(model.sharing, model.layers) === sharingLayout(spec.sharing, spec.layers)
    : (model.sharing.length === 0) === (spec.sharing.length === 0);
  differ("sharing", `sharing ${modelSharingText(model)}`, sameSharing);
  const pad = model.special["pad"];
  differ("pad", `special pad ${pad === undefined ? "(none)" : n(pad)}`, pad === spec.special["pad"]);
  return out;
}
