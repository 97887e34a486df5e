/**
 * Parameter counts, summed over the parameter table (`parameters.ts`, the one definition of
 * every tensor) exactly as Hugging Face `transformers` counts them
 * (`sum(p.numel() for p in model.parameters())`): a tensor that is tied or shared is one
 * Parameter object there and one table entry here (the MLM decoder's weight is the word
 * embeddings' entry; a sharing group's tensors are listed once), so it is counted once.
 */
import type { Expectation, ResolvedModel } from "./model.js";
import { discriminatorModel, generatorModel } from "./generator.js";
import { parameterTable, type ParamSpec } from "./parameters.js";

export interface ParamCount {
  /** Embeddings (+ factorized projection) + layers + pooler; with a generator, the discriminator's (ElectraModel). */
  encoder: number;
  /** Encoder + pretraining heads; with a generator, also the generator's own tensors (the pair, shared embeddings once). */
  total: number;
  /** With a generator: the discriminator with its head (ElectraForPreTraining), and the generator with the shared embeddings and its head (ElectraForMaskedLM). */
  electra?: { discriminator: number; generator: number };
  /** Stable keys in a fixed order; sums to `total`. Keys starting with "head." are the heads. */
  breakdown: Record<string, number>;
}

/** The breakdown key of each head's table prefix (`heads.NAME`). */
const HEAD_KEYS: Record<string, string> = {
  mlm: "head.mlm",
  nsp: "head.nsp",
  sop: "head.sop",
  cosine: "head.cosine_projection",
  rtd: "head.rtd",
};

/**
 * Where a tensor is counted: its breakdown key, and the place of that key in the breakdown.
 * Places keep the table's order except within the layers: a sharing group is listed where
 * its first layer is, before the tensors that layer owns itself.
 */
function placeOf(model: ResolvedModel, spec: ParamSpec): { key: string; place: number } {
  const [owner, second] = spec.name.split(".");
  const afterLayers = 2 * model.layers;
  // The generator's own tensors, after everything of the discriminator's.
  if (owner === "generator") return { key: "generator", place: afterLayers + 1 };
  if (spec.group !== null) {
    const group = model.sharing.find((g) => g.name === spec.group);
    if (!group) throw new Error(`parameter '${spec.name}' names an undeclared sharing group '${spec.group}'`);
    const first = Math.min(...group.layers);
    return { key: `group.${spec.group}`, place: 2 * first };
  }
  if (owner === "layers") return { key: `layer.${second}`, place: 2 * Number(second) + 1 };
  if (owner === "embeddings") return { key: second === "projection" ? "embedding_projection" : "embeddings", place: -1 };
  if (owner === "heads") {
    const key = HEAD_KEYS[second!];
    if (key === undefined) throw new Error(`parameter '${spec.name}' belongs to no counted head`);
    return { key, place: afterLayers };
  }
  if (owner === "encoder" && second === "final_norm") return { key: "final_norm", place: afterLayers };
  if (owner === "pooler") return { key: "pooler", place: afterLayers };
  throw new Error(`parameter '${spec.name}' belongs to no part of the breakdown`);
}

export function countParams(model: ResolvedModel, teacher?: ResolvedModel | null): ParamCount {
  const places = parameterTable(model, teacher ?? null).map((spec) => ({
    ...placeOf(model, spec),
    size: spec.shape.reduce((a, b) => a * b, 1),
  }));
  // Array.prototype.sort is stable: entries of equal place keep the table's order.
  places.sort((a, b) => a.place - b.place);
  const breakdown: Record<string, number> = {};
  for (const { key, size } of places) breakdown[key] = (breakdown[key] ?? 0) + size;
  const encoder = sum(breakdown, (key) => !key.startsWith("head.") && key !== "generator");
  const count: ParamCount = { encoder, total: sum(breakdown), breakdown };
  if (model.generator)
    count.electra = {
      discriminator: countParams(discriminatorModel(model)).total,
      generator: countParams(generatorModel(model)).total,
    };
  return count;
}

function sum(breakdown: Record<string, number>, keep: (key: string) => boolean = () => true): number {
  return Object.entries(breakdown)
    .filter(([key]) => keep(key))
    .reduce((a, [, n]) => a + n, 0);
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
