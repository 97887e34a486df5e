/**
 * Parameter counts, computed from a resolved model's sizes exactly as Hugging Face
 * `transformers` counts them (`sum(p.numel() for p in model.parameters())`): a tensor that
 * is tied or shared is one Parameter object there, so it is counted once here too.
 */
import {
  embeddingWidth,
  groupOwning,
  objective,
  type Expectation,
  type ResolvedModel,
  type SharedPart,
} from "./model.js";

export interface ParamCount {
  /** Embeddings (+ factorized projection) + layers + pooler. */
  encoder: number;
  /** Encoder + pretraining heads. */
  total: number;
  /** Stable keys in a fixed order; sums to `total`. Keys starting with "head." are the heads. */
  breakdown: Record<string, number>;
}

/** A dense layer: weight + bias. */
function dense(inputs: number, outputs: number): number {
  return inputs * outputs + outputs;
}

/** A LayerNorm: weight + bias. */
function layerNorm(width: number): number {
  return 2 * width;
}

/** One layer's sublayer, each with the LayerNorm that follows it. */
function sublayer(model: ResolvedModel, part: SharedPart): number {
  const H = model.hidden;
  if (part === "attention") return 4 * dense(H, H) + layerNorm(H); // query, key, value, output
  return dense(H, model.intermediate) + dense(model.intermediate, H) + layerNorm(H);
}

const PARTS: readonly SharedPart[] = ["attention", "ffn"];

export function countParams(model: ResolvedModel, teacher?: ResolvedModel | null): ParamCount {
  const H = model.hidden;
  const E = embeddingWidth(model);
  const V = model.vocab;
  const { positions, offset, segments } = model.embeddings;
  const breakdown: Record<string, number> = {};

  // The position table has `offset` extra rows below the first usable id (RoBERTa's padding).
  breakdown["embeddings"] = V * E + (positions + offset) * E + (segments > 0 ? segments * E : 0) + layerNorm(E);
  if (model.embeddings.factorize !== null) breakdown["embedding_projection"] = dense(E, H);

  // A sharing group holds one copy of each part it shares, however many layers use it; it is
  // listed where its first layer is. Whatever a layer does not take from a group is its own.
  const counted = new Set<string>(); // "group.NAME/part" already added
  for (let layer = 0; layer < model.layers; layer++) {
    let own = 0;
    for (const part of PARTS) {
      const group = groupOwning(model, layer, part);
      if (!group) {
        own += sublayer(model, part);
        continue;
      }
      const key = `group.${group.name}`;
      if (counted.has(`${key}/${part}`)) continue;
      counted.add(`${key}/${part}`);
      breakdown[key] = (breakdown[key] ?? 0) + sublayer(model, part);
    }
    if (own > 0) breakdown[`layer.${layer}`] = own;
  }

  if (model.pooler === "tanh") breakdown["pooler"] = dense(H, H);

  const encoder = sum(breakdown);

  if (objective(model, "mlm")) {
    // Transform H -> E, its LayerNorm, and the decoder's bias. The decoder's weight is the
    // word-embedding table itself (tied), so it is already counted under "embeddings".
    breakdown["head.mlm"] = dense(H, E) + layerNorm(E) + V;
  }
  if (objective(model, "nsp")) breakdown["head.nsp"] = dense(H, 2);
  if (objective(model, "sop")) breakdown["head.sop"] = dense(H, 2);
  // `distill` compares logits the MLM head already produces: no weights of its own.
  // `cosine` needs a projection only when the hidden states to compare differ in width.
  if (objective(model, "cosine") && teacher && teacher.hidden !== H) {
    breakdown["head.cosine_projection"] = dense(H, teacher.hidden);
  }

  return { encoder, total: sum(breakdown), breakdown };
}

function sum(breakdown: Record<string, number>): number {
  return Object.values(breakdown).reduce((a, b) => a + b, 0);
}

const SUFFIX: Record<number, string> = { 1: "", 1e3: "K", 1e6: "M", 1e9: "B" };

/** `n / scale` rounded to `decimals` digits, as an integer count of the last digit. */
function roundedUnits(n: number, scale: number, decimals: number): number {
  return Math.round((n * 10 ** decimals) / scale);
}

/**
 * True when `actual` rounds to the expectation at its written precision: 19M matches
 * 18,969,020; 11.8M matches 11,813,810; an integer with scale 1 must be exact.
 */
export function meetsExpectation(e: Expectation, actual: number): boolean {
  // Compare integers (units of the last written digit), not floats, so 11.8 vs 11.81381 is exact.
  return roundedUnits(actual, e.scale, e.decimals) === Math.round(e.value * 10 ** e.decimals);
}

/** 110106428 -> "110,106,428". */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 18969020, 1e6, 0 -> "19M"; 11813810, 1e6, 1 -> "11.8M". */
export function formatRounded(n: number, scale: number, decimals: number): string {
  const value = roundedUnits(n, scale, decimals) / 10 ** decimals;
  return value.toFixed(decimals) + (SUFFIX[scale] ?? `e${Math.log10(scale)}`);
}
