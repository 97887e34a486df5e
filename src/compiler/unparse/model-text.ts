/**
 * How each property of a resolved model is written in `.bdl` syntax, decided once for every
 * writer of model text: `print --resolved` (print.ts), the flat list `diff` compares
 * (flatten.ts) and `from-hf` (from-hf.ts). Each writer chooses its layout (a block, one
 * line, one entry per property); the words, the numbers and the order of a record's
 * properties come from here, so a property added to the model is written in one place.
 */
import { layersText } from "./layers-text.js";
import { formatNumber } from "../../model/numbers.js";
import { specialRoles } from "../../model/specials.js";
import type {
  EmbeddingsConfig,
  GeneratorConfig,
  MaskingConfig,
  MaskSchedule,
  MaskUnit,
  Objective,
  ResolvedModel,
  Schedule,
  SharedPart,
  SharingGroup,
  TokenizerConfig,
  TrainConfig,
} from "../../model/model.js";
import {
  BIAS_PARTS,
  feedForwardKind,
  hasAttentionNorm,
  hasBias,
  normPosition,
  type AttentionConfig,
  type BlockSwitch,
} from "../../model/model.js";

const n = formatNumber;

/** A property as `key value`, the value already in `.bdl` syntax. */
export type PropertyText = readonly [key: string, value: string];

/** The model's own properties, before its records. */
export type Architecture = Pick<
  ResolvedModel,
  | "vocab"
  | "hidden"
  | "layers"
  | "heads"
  | "intermediate"
  | "activation"
  | "norm_eps"
  | BlockSwitch
  | "dropout"
  | "attention_dropout"
  | "pooler"
>;

/** `key value` joined, as one property is written on a line. */
export function propertyLine([key, value]: PropertyText): string {
  return `${key} ${value}`;
}

/**
 * The architecture's properties in the order the language lists them. `norm_position`,
 * `feed_forward` and the bias switches are written only when not the default (as `factorize`), so the text of every
 * model without them stays what it was; `listDefaults` writes them always (flatten, whose lines `diff` pairs).
 */
export function architectureProperties(m: Architecture, { listDefaults = false } = {}): PropertyText[] {
  const position = normPosition(m);
  const ffn = feedForwardKind(m);
  return [
    ["vocab", n(m.vocab)],
    ["hidden", n(m.hidden)],
    ["layers", n(m.layers)],
    ["heads", n(m.heads)],
    ["intermediate", n(m.intermediate)],
    ["activation", m.activation],
    ["norm_eps", n(m.norm_eps)],
    ...(listDefaults || position !== "post" ? [["norm_position", position] as PropertyText] : []),
    ...(listDefaults || ffn !== "plain" ? [["feed_forward", ffn] as PropertyText] : []),
    ...BIAS_PARTS.filter((part) => listDefaults || !hasBias(m, part)).map(
      (part) => [`${part}_bias`, String(hasBias(m, part))] as PropertyText,
    ),
    ...(listDefaults || !hasAttentionNorm(m, 0) ? [["first_attention_norm", String(hasAttentionNorm(m, 0))] as PropertyText] : []),
    ["dropout", n(m.dropout)],
    ["attention_dropout", n(m.attention_dropout)],
    ["pooler", m.pooler],
  ];
}

/** The `embeddings` record; `factorize` only when set (unset is what leaving it out means). */
export function embeddingsProperties(e: EmbeddingsConfig): PropertyText[] {
  const out: PropertyText[] = [
    ["positions", n(e.positions)],
    ["offset", n(e.offset)],
    ["segments", n(e.segments)],
  ];
  if (e.factorize !== null) out.push(["factorize", n(e.factorize)]);
  return out;
}

/** The `attention` record: rotary positions and local attention, `none` where unset. */
export function attentionProperties(a: AttentionConfig): PropertyText[] {
  const orNone = (v: number | null) => (v === null ? "none" : n(v));
  return [
    ["rotary", orNone(a.rotary)],
    ["window", orNone(a.window)],
    ["global_every", n(a.global_every)],
    ["local_rotary", orNone(a.local_rotary)],
  ];
}

/** The `generator` record: ELECTRA's generator's sizes. */
export function generatorProperties(g: GeneratorConfig): PropertyText[] {
  return [
    ["hidden", n(g.hidden)],
    ["layers", n(g.layers)],
    ["heads", n(g.heads)],
    ["intermediate", n(g.intermediate)],
  ];
}

/** `group NAME layers 0..3 share attention ffn`; `share` defaults to the group's own order. */
export function groupText(g: SharingGroup, share: readonly SharedPart[] = g.share): string {
  return `group ${groupSettings(g, share)}`;
}

/** A group after the word `group`: `NAME layers 0..3 share attention ffn`. */
export function groupSettings(g: SharingGroup, share: readonly SharedPart[] = g.share): string {
  return `${g.name} layers ${layersText(g.layers)} share ${share.join(" ")}`;
}

/** An objective's settings after its name: `weight 5 temperature 2`. */
export function objectiveSettings(o: Objective): string {
  const temperature = o.temperature === undefined ? "" : ` temperature ${n(o.temperature)}`;
  return `weight ${n(o.weight)}${temperature}`;
}

export function scheduleText(s: Schedule): string {
  return typeof s === "number" ? n(s) : `${n(s.from)} -> ${n(s.to)} over ${n(s.steps)}`;
}

/** What a selected token becomes: `mask 0.8 random 0.1 keep 0.1`. */
export function fractionsText(m: Pick<MaskingConfig, "mask" | "random" | "keep">): string {
  return `mask ${n(m.mask)} random ${n(m.random)} keep ${n(m.keep)}`;
}

export function unitText(u: MaskUnit): string {
  if (u.kind === "span") return `span p ${n(u.p)} max ${n(u.max)}`;
  return u.kind === "ngram" ? `ngram ${n(u.n)}` : u.kind;
}

export function maskScheduleText(s: MaskSchedule): string {
  return s.kind === "static" ? `static duplicates ${n(s.duplicates)}` : "dynamic";
}

export function tokenizerText(t: TokenizerConfig): string {
  return t.kind + (t.lowercase ? " lowercase" : "");
}

/** The special ids in their one fixed role order: `pad 0 unk 100 …`. */
export function specialText(special: Record<string, number>): string {
  return specialRoles(special)
    .map((role) => `${role} ${n(special[role]!)}`)
    .join(" ");
}

/** The `train` record: the optimizer and its settings (the first six), then the schedule and sizes. */
/** `document_mask` only when on (as `factorize`), unless `listDefaults` (flatten, whose lines `diff` pairs). */
export function trainProperties(t: TrainConfig, { listDefaults = false } = {}): PropertyText[] {
  return [
    ["optimizer", t.optimizer],
    ["lr", n(t.lr)],
    ["beta1", n(t.beta1)],
    ["beta2", n(t.beta2)],
    ["eps", n(t.eps)],
    ["weight_decay", n(t.weight_decay)],
    ["warmup", n(t.warmup)],
    ["decay", t.decay],
    ["batch", n(t.batch)],
    ["seq", n(t.seq)],
    ["steps", n(t.steps)],
    ...(listDefaults || t.document_mask ? [["document_mask", String(t.document_mask === true)] as PropertyText] : []),
  ];
}

/** How many of `trainProperties` describe the optimizer (printed together on one line). */
export const OPTIMIZER_PROPERTIES = 6;
