/**
 * The resolved model: what a `.bdl` model means once every import and `extends` is
 * applied and every default filled in. This is the only thing the later phases see
 * (check rules, params, diff, graph, print, emit); none of them look at syntax.
 */

// Each vocabulary is a list, written once, and its type is derived from it: the schema offers
// these words (in this order, which is the order messages list them in), the runtime checks
// against them, and a word added here reaches both.
export const ACTIVATIONS = ["gelu", "gelu_new", "relu", "silu"] as const;
export type Activation = (typeof ACTIVATIONS)[number];
/** Where each sublayer's LayerNorm sits: after its residual sum (BERT) or on its input (GPT-2, ModernBERT). */
export const NORM_POSITIONS = ["post", "pre"] as const;
export type NormPosition = (typeof NORM_POSITIONS)[number];
/** The feed-forward sublayer: act(x·Wi)·Wo (BERT), or gated, (act(x·Wi_input) * x·Wi_gate)·Wo (GeGLU, SwiGLU; ModernBERT). */
export const FEED_FORWARD_KINDS = ["plain", "gated"] as const;
export type FeedForwardKind = (typeof FEED_FORWARD_KINDS)[number];
/** Whether a part of each layer has bias tensors: written `true` or `false`, as Hugging Face's ModernBERT config. */
export const BIAS_SWITCHES = ["true", "false"] as const;
export type BiasSwitch = (typeof BIAS_SWITCHES)[number];
export const POOLERS = ["tanh", "none"] as const;
export type Pooler = (typeof POOLERS)[number];
export const SHARED_PARTS = ["attention", "ffn"] as const;
export type SharedPart = (typeof SHARED_PARTS)[number];
/**
 * Objectives in canonical order: `ResolvedModel.objectives` keeps this order. `rtd` is
 * ELECTRA's replaced-token detection, the discriminator's term beside its generator's `mlm`.
 */
export const OBJECTIVE_ORDER = ["mlm", "nsp", "sop", "distill", "cosine", "rtd"] as const;
export type ObjectiveName = (typeof OBJECTIVE_ORDER)[number];
/** The objectives that train on sentence pairs, which need the pooler; a model trains at most one of them. */
export const SENTENCE_PAIR_OBJECTIVES = ["nsp", "sop"] as const satisfies readonly ObjectiveName[];
export type SentencePairObjective = (typeof SENTENCE_PAIR_OBJECTIVES)[number];
/** The objectives that learn from a teacher's outputs. */
export const TEACHER_OBJECTIVES = ["distill", "cosine"] as const satisfies readonly ObjectiveName[];
export type TeacherObjective = (typeof TEACHER_OBJECTIVES)[number];
export const TOKENIZER_KINDS = ["wordpiece", "bpe", "sentencepiece"] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];
export const OPTIMIZER_KINDS = ["adamw", "lamb", "adam"] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];
export const DECAY_KINDS = ["linear", "cosine", "constant"] as const;
export type DecayKind = (typeof DECAY_KINDS)[number];
export const MASK_UNIT_KINDS = ["token", "word", "ngram", "span"] as const;
export type MaskUnitKind = (typeof MASK_UNIT_KINDS)[number];
export const MASK_SCHEDULE_KINDS = ["static", "dynamic"] as const;
export type MaskScheduleKind = (typeof MASK_SCHEDULE_KINDS)[number];
/** Roles a special token id may have. */
export const SPECIAL_ROLES = ["pad", "unk", "cls", "sep", "mask", "bos", "eos"] as const;
export type SpecialRole = (typeof SPECIAL_ROLES)[number];
/** What an `expect` line may check. */
export const EXPECT_KEYS = ["params", "encoder_params"] as const;
export type ExpectKey = (typeof EXPECT_KEYS)[number];

export interface EmbeddingsConfig {
  /** Learned absolute positions a sequence may use. */
  positions: number;
  /** First position id; the table has `positions + offset` rows (RoBERTa: 2). */
  offset: number;
  /** Token-type vocabulary; 0 means no segment embeddings at all. */
  segments: number;
  /** Embedding width E when factorized (E < hidden, with an E->H projection); null = E is hidden. */
  factorize: number | null;
}

/** Rotary positions and local attention; a model without either has none (see `ResolvedModel.attention`). */
export interface AttentionConfig {
  /** RoPE base of the global layers; null: learned absolute positions (the position table). */
  rotary: number | null;
  /** Local layers attend to keys within window / 2 positions of the query (inclusive); null: every layer is global. */
  window: number | null;
  /** With a window, layer i is global iff i % global_every == 0. */
  global_every: number;
  /** RoPE base of the local layers; null: `rotary`'s. */
  local_rotary: number | null;
}

export interface SharingGroup {
  name: string;
  /** Layer indices, ascending. */
  layers: number[];
  /** Which sublayers the group's layers share (each with its LayerNorm). */
  share: SharedPart[];
}

/**
 * ELECTRA's generator: a smaller encoder of the same block kind that shares the model's
 * embeddings (word, position and segment tables and their LayerNorm), learns by MLM, and
 * fills the masked positions with samples the model (the discriminator) must tell apart
 * from the original tokens (`rtd`). Its output layer is the shared word table.
 */
export interface GeneratorConfig {
  hidden: number;
  /** The discriminator's depth unless declared. */
  layers: number;
  heads: number;
  intermediate: number;
}

/** An objective other than `distill`: it has a weight only. */
export interface WeightedObjective {
  name: Exclude<ObjectiveName, "distill">;
  weight: number;
  temperature?: undefined;
}

/** `distill` also has a temperature, which resolution always fills (from the schema's default when unwritten). */
export interface DistillObjective {
  name: "distill";
  weight: number;
  temperature: number;
}

export type Objective = WeightedObjective | DistillObjective;

/** A value that is either fixed or moves linearly from `from` to `to` over `steps` steps. */
export type Schedule = { from: number; to: number; steps: number } | number;

export type MaskUnit =
  | { kind: Exclude<MaskUnitKind, "ngram" | "span"> }
  | { kind: "ngram"; n: number }
  /** SpanBERT: span lengths in whole words from Geo(p) truncated to 1..max (renormalized). */
  | { kind: "span"; p: number; max: number };
export type MaskSchedule =
  { kind: Extract<MaskScheduleKind, "static">; duplicates: number } | { kind: Exclude<MaskScheduleKind, "static"> };

export interface MaskingConfig {
  rate: Schedule;
  /** What a selected token becomes: [MASK], a random token, or itself; sums to 1. */
  mask: number;
  random: number;
  keep: number;
  unit: MaskUnit;
  schedule: MaskSchedule;
}

export interface TeacherLink {
  /** Name of a model in scope. */
  model: string;
  /** Checkpoint path as written, relative to the file that declares it; null when not given. */
  checkpoint: string | null;
  /** Student layer i starts as teacher layer initLayers[i]; null = no layer init. */
  initLayers: number[] | null;
  /** Copy word/position embeddings and their LayerNorm from the teacher. */
  initEmbeddings: boolean;
}

export interface TokenizerConfig {
  kind: TokenizerKind;
  lowercase: boolean;
}

export interface TrainConfig {
  optimizer: OptimizerKind;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  warmup: number;
  decay: DecayKind;
  batch: number;
  seq: number;
  steps: number;
  /**
   * Packed sequences keep their documents apart: a token attends only to tokens of its own
   * document, and positions count from each document's start. Absent: attention crosses
   * documents, as RoBERTa's FULL-SENTENCES packing does.
   */
  document_mask?: true;
}

/** `expect params 19M`: the count must round to `value * scale` at the written precision. */
export interface Expectation {
  key: ExpectKey;
  /** As written, e.g. "19M" or "110106428". */
  text: string;
  value: number;
  /** 1, 1e3 (K), 1e6 (M) or 1e9 (B). */
  scale: number;
  /** Decimal digits written after the point ("11.8M" -> 1). */
  decimals: number;
}

export interface ResolvedModel {
  name: string;
  /** File that declares the model. */
  file: string;
  /** The chain of models it extends, nearest first (for display only). */
  bases: string[];
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  activation: Activation;
  norm_eps: number;
  /**
   * Present only as `pre`; absent means `post`, the default. A post-LN model's JSON (its
   * checkpoint metadata, a compiled graph's config) is then what it was before the property
   * existed, and checkpoints saved then still read as post-LN. Read it with `normPosition`.
   */
  norm_position?: Extract<NormPosition, "pre">;
  /** Present only as `gated`; absent means `plain`, the default, for the same reason. Read it with `feedForwardKind`. */
  feed_forward?: Extract<FeedForwardKind, "gated">;
  /**
   * Present only as `false`; absent means `true`, the default, for the same reason: the q/k/v and
   * output dense layers of attention (`attention_bias`), the feed-forward dense layers (`mlp_bias`),
   * every LayerNorm (`norm_bias`). Read them with `hasBias`.
   */
  attention_bias?: false;
  mlp_bias?: false;
  norm_bias?: false;
  /** Present only as `false` (the MLM head's transform dense layer has no bias); read with `hasBias(model, "classifier")`. */
  classifier_bias?: false;
  /** Present only as `false` (the MLM decoder has no bias of its own); read with `hasBias(model, "decoder")`. */
  decoder_bias?: false;
  /** Present only as `false`: layer 0 has no attention LayerNorm (ModernBERT). Read it with `hasAttentionNorm`. */
  first_attention_norm?: false;
  /** Present only for a model with an ELECTRA generator; see `generatorModel` and `discriminatorModel`. */
  generator?: GeneratorConfig;
  /**
   * Present only on the two encoders derived from a model with a generator (generator.ts):
   * which of the pair it is. Never written in a `.bdl` file or a checkpoint, which hold the pair.
   */
  electra?: "generator" | "discriminator";
  /** Present only when the model has rotary positions or local attention; read it with `attentionConfig`. */
  attention?: AttentionConfig;
  dropout: number;
  attention_dropout: number;
  pooler: Pooler;
  embeddings: EmbeddingsConfig;
  /** Empty when no layer shares weights. */
  sharing: SharingGroup[];
  /** In canonical order mlm, nsp, sop, distill, cosine, rtd; removed (`off`) objectives are absent. With a generator, `mlm` is the generator's. */
  objectives: Objective[];
  masking: MaskingConfig;
  teacher: TeacherLink | null;
  tokenizer: TokenizerConfig;
  /** Special token ids by role (pad, unk, cls, sep, mask, bos, eos). */
  special: Record<string, number>;
  train: TrainConfig;
  /** Not inherited: an expectation is about the model that states it. */
  expect: Expectation[];
}

export function objective(model: ResolvedModel, name: "distill"): DistillObjective | undefined;
export function objective(model: ResolvedModel, name: ObjectiveName): Objective | undefined;
export function objective(model: ResolvedModel, name: ObjectiveName): Objective | undefined {
  return model.objectives.find((o) => o.name === name);
}

export function isTeacherObjective(name: ObjectiveName): name is TeacherObjective {
  return (TEACHER_OBJECTIVES as readonly ObjectiveName[]).includes(name);
}

/** The properties stored only when they differ from BERT's (see each in `ResolvedModel`): the block's layout. */
export type BlockSwitch =
  | "norm_position"
  | "feed_forward"
  | "attention_bias"
  | "mlp_bias"
  | "norm_bias"
  | "classifier_bias"
  | "decoder_bias"
  | "first_attention_norm";

/** Where the model's LayerNorms sit (see `ResolvedModel.norm_position`). */
export function normPosition(model: Pick<ResolvedModel, "norm_position">): NormPosition {
  return model.norm_position ?? "post";
}

/** The kind of the model's feed-forward sublayers (see `ResolvedModel.feed_forward`). */
export function feedForwardKind(model: Pick<ResolvedModel, "feed_forward">): FeedForwardKind {
  return model.feed_forward ?? "plain";
}

/** The parts whose bias tensors a model can leave out (see `ResolvedModel.attention_bias`). */
export const BIAS_PARTS = ["attention", "mlp", "norm", "classifier", "decoder"] as const;
export type BiasPart = (typeof BIAS_PARTS)[number];

/** Whether the model's `part` has bias tensors. */
export function hasBias(
  model: Pick<ResolvedModel, "attention_bias" | "mlp_bias" | "norm_bias" | "classifier_bias" | "decoder_bias">,
  part: BiasPart,
): boolean {
  return model[`${part}_bias`] !== false;
}

/** BERT's attention: learned positions, every layer global. */
export const DEFAULT_ATTENTION: Readonly<AttentionConfig> = { rotary: null, window: null, global_every: 1, local_rotary: null };

/** The model's rotary and local-attention settings (see `ResolvedModel.attention`). */
export function attentionConfig(model: Pick<ResolvedModel, "attention">): AttentionConfig {
  return model.attention ?? DEFAULT_ATTENTION;
}

/** Whether layer `layer` attends only within the window (a local layer). */
export function isLocalLayer(model: Pick<ResolvedModel, "attention">, layer: number): boolean {
  const a = attentionConfig(model);
  return a.window !== null && layer % a.global_every !== 0;
}

/** Whether any of the model's layers is local (a window, and a layer that `global_every` leaves local). */
export function hasLocalLayers(model: Pick<ResolvedModel, "attention" | "layers">): boolean {
  return Array.from({ length: model.layers }, (_, layer) => isLocalLayer(model, layer)).some(Boolean);
}

/** The RoPE base layer `layer` uses, or null with learned positions. */
export function rotaryBase(model: Pick<ResolvedModel, "attention">, layer: number): number | null {
  const a = attentionConfig(model);
  if (a.rotary === null) return null;
  return isLocalLayer(model, layer) ? (a.local_rotary ?? a.rotary) : a.rotary;
}

/** Whether layer `layer`'s attention sublayer has a LayerNorm (see `ResolvedModel.first_attention_norm`). */
export function hasAttentionNorm(model: Pick<ResolvedModel, "first_attention_norm">, layer: number): boolean {
  return layer !== 0 || model.first_attention_norm !== false;
}

/** Embedding width E: `factorize` when set, otherwise `hidden`. */
export function embeddingWidth(model: ResolvedModel): number {
  return model.embeddings.factorize ?? model.hidden;
}

/** The sharing group that owns `part` of `layer`, if any. */
export function groupOwning(model: ResolvedModel, layer: number, part: SharedPart): SharingGroup | undefined {
  return model.sharing.find((g) => g.share.includes(part) && g.layers.includes(layer));
}
