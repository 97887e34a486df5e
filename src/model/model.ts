/**
 * The resolved model: what a `.bdl` model means once every import and `extends` is
 * applied and every default filled in. This is the only thing the later phases see
 * (check rules, params, diff, graph, print, emit); none of them look at syntax.
 */

export type Activation = "gelu" | "gelu_new" | "relu";
export type Pooler = "tanh" | "none";
export type SharedPart = "attention" | "ffn";
export type ObjectiveName = "mlm" | "nsp" | "sop" | "distill" | "cosine";
export type TokenizerKind = "wordpiece" | "bpe" | "sentencepiece";
export type OptimizerKind = "adamw" | "lamb" | "adam";
export type DecayKind = "linear" | "cosine" | "constant";

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

export interface SharingGroup {
  name: string;
  /** Layer indices, ascending. */
  layers: number[];
  /** Which sublayers the group's layers share (each with its LayerNorm). */
  share: SharedPart[];
}

export interface Objective {
  name: ObjectiveName;
  weight: number;
  /** Only `distill` has a temperature. */
  temperature?: number;
}

/** A value that is either fixed or moves linearly from `from` to `to` over `steps` steps. */
export type Schedule = { from: number; to: number; steps: number } | number;

export type MaskUnit = { kind: "token" } | { kind: "word" } | { kind: "ngram"; n: number };
export type MaskSchedule = { kind: "static"; duplicates: number } | { kind: "dynamic" };

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
}

/** `expect params 19M`: the count must round to `value * scale` at the written precision. */
export interface Expectation {
  key: "params" | "encoder_params";
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
  dropout: number;
  attention_dropout: number;
  pooler: Pooler;
  embeddings: EmbeddingsConfig;
  /** Empty when no layer shares weights. */
  sharing: SharingGroup[];
  /** In canonical order mlm, nsp, sop, distill, cosine; removed (`off`) objectives are absent. */
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

export const OBJECTIVE_ORDER: readonly ObjectiveName[] = ["mlm", "nsp", "sop", "distill", "cosine"];

export function objective(model: ResolvedModel, name: ObjectiveName): Objective | undefined {
  return model.objectives.find((o) => o.name === name);
}

/** Embedding width E: `factorize` when set, otherwise `hidden`. */
export function embeddingWidth(model: ResolvedModel): number {
  return model.embeddings.factorize ?? model.hidden;
}

/** The sharing group that owns `part` of `layer`, if any. */
export function groupOwning(model: ResolvedModel, layer: number, part: SharedPart): SharingGroup | undefined {
  return model.sharing.find((g) => g.share.includes(part) && g.layers.includes(layer));
}
