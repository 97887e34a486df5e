/**
 * Hugging Face tensors ↔ a model's parameters. Reading checks that the file holds
 * exactly the model's tensors (under the pretraining class's names or the base model's,
 * without its prefix), with the right shapes; tied tensors are stored once, as Hugging
 * Face saves them.
 */
import type { ResolvedModel } from "../../model/model.js";
import { parameterTable } from "../../model/parameters.js";
import { nonFiniteProblem } from "./finite.js";
import { generatorTensorName } from "../../model/generator.js";
import {
  baseModelName,
  electraPair,
  hfNaming,
  isHfBuffer,
  blockStructureProblem,
  type HfName,
  type HfNaming,
} from "../../model/hf/names.js";
import { fromFloat32, toFloat32, writeSafetensors, type SafetensorsFile, type TensorEntry } from "./safetensors.js";

/** Parameter values by our names, as float32 arrays in our layout (kernels [in, out]). */
export type WeightMap = Map<string, { shape: number[]; values: Float32Array }>;

export class WeightsError extends Error {}

/** Writes `weights` under our names as a float32 safetensors file, in `order` (default: the map's). */
export function writeWeights(path: string, weights: WeightMap, order: readonly string[] = [...weights.keys()]): void {
  writeSafetensors(
    path,
    order.map((name) => fromFloat32(name, weights.get(name)!.shape, weights.get(name)!.values)),
  );
}

export function weightsFromHf(file: SafetensorsFile, model: ResolvedModel, label: string): WeightMap {
  // Hugging Face weights of a post-LN, plain feed-forward family would load into a pre-LN or gated model and compute something else.
  const structure = blockStructureProblem(model);
  if (structure) throw new WeightsError(`${label}: cannot read Hugging Face weights into model '${model.name}': ${structure}`);
  const naming = hfNaming(model);
  const shapes = new Map(parameterTable(model).map((p) => [p.name, p.shape]));
  return weightsFromHfNames(file, naming.names, shapes, label, `model '${model.name}'`, {
    // A base-model checkpoint (BertModel, …) stores the base model's tensors under their base-model names.
    stored: (hf) => {
      const base = baseModelName(naming.family, hf);
      return file.tensors.get(hf) ?? (base === null ? undefined : file.tensors.get(base));
    },
    tolerated: (hf) => isTiedCopy(hf, naming),
  });
}

/**
 * The tensors `names` names, read from `file` into our names and layout (`shapes`: each of
 * ours); every tensor of the file must be one of them, a buffer, or `tolerated`. `owner` is
 * what the messages say needs them (`model 'tiny'`), `label` the file.
 */
export function weightsFromHfNames(
  file: SafetensorsFile,
  names: readonly HfName[],
  shapes: ReadonlyMap<string, number[]>,
  label: string,
  owner: string,
  o: { stored?: (hf: string) => TensorEntry | undefined; tolerated?: (hf: string) => boolean } = {},
): WeightMap {
  const stored = o.stored ?? ((hf: string) => file.tensors.get(hf));
  const weights: WeightMap = new Map();
  const missing: string[] = [];
  const used = new Set<string>();
  for (const { name, hf, transpose, block } of names) {
    if (missing.includes(hf)) continue;
    const entry = stored(hf);
    if (!entry) {
      missing.push(hf);
      continue;
    }
    used.add(entry.name);
    const expected = shapes.get(name);
    if (!expected) throw new Error(`internal error: no shape for parameter '${name}'`);
    // The Hugging Face tensor in our layout's terms: a fused one stacks `count` of ours along its first axis.
    const ours = transpose ? [...expected].reverse() : expected;
    const wanted = block ? [ours[0]! * block.count, ...ours.slice(1)] : ours;
    if (entry.shape.join(",") !== wanted.join(",")) {
      throw new WeightsError(`${label}: tensor '${entry.name}' has shape [${entry.shape}], but ${owner} needs [${wanted}]`);
    }
    let values = toFloat32(entry);
    const nonFinite = nonFiniteProblem(values);
    if (nonFinite) throw new WeightsError(`${label}: tensor '${entry.name}' holds ${nonFinite}; weights must be finite`);
    if (block) {
      const size = values.length / block.count;
      values = values.slice(block.index * size, (block.index + 1) * size);
    }
    weights.set(name, { shape: expected, values: transpose ? transpose2d(values, ours[0]!, ours[1]!) : values });
  }
  if (missing.length > 0) {
    throw new WeightsError(`${label}: missing ${missing.length} tensor(s) ${owner} needs: ${preview(missing)}`);
  }
  const unexpected = [...file.tensors.keys()].filter((k) => !used.has(k) && !isHfBuffer(k) && !(o.tolerated?.(k) ?? false));
  if (unexpected.length > 0) {
    throw new WeightsError(`${label}: ${unexpected.length} tensor(s) that ${owner} does not have: ${preview(unexpected)}`);
  }
  return weights;
}

/**
 * Tensors in Hugging Face layout and names, tied tensors once, sorted as `save_pretrained`
 * writes them; `withoutHeads`: under a base-model class's names (see `hfNaming`).
 */
export function weightsToHf(
  weights: WeightMap,
  model: ResolvedModel,
  options: { withoutHeads?: boolean } = {},
): { entries: TensorEntry[]; naming: HfNaming } {
  const structure = blockStructureProblem(model);
  if (structure) throw new WeightsError(`cannot write model '${model.name}' as Hugging Face weights: ${structure}`);
  const naming = hfNaming(model, options);
  return { entries: weightsToHfNames(weights, naming.names), naming };
}

/**
 * `weights` as Hugging Face tensors under `names` (each of ours once; a fused tensor from its
 * blocks), sorted as `save_pretrained` writes them.
 */
export function weightsToHfNames(weights: WeightMap, names: readonly HfName[]): TensorEntry[] {
  // Each Hugging Face tensor from its parts: one of ours, or the blocks a fused tensor stacks (in block order).
  const parts = new Map<string, { index: number; shape: number[]; values: Float32Array }[]>();
  for (const { name, hf, transpose, block } of names) {
    const w = weights.get(name);
    if (!w) throw new WeightsError(`no value for parameter '${name}'`);
    const [rows, cols] = w.shape as [number, number];
    const part = transpose ? { shape: [cols, rows], values: transpose2d(w.values, rows, cols) } : { shape: w.shape, values: w.values };
    parts.set(hf, [...(parts.get(hf) ?? []), { index: block?.index ?? 0, ...part }]);
  }
  const entries = [...parts].map(([hf, blocks]) => {
    if (blocks.length === 1) return fromFloat32(hf, blocks[0]!.shape, blocks[0]!.values);
    blocks.sort((a, b) => a.index - b.index);
    const values = new Float32Array(blocks.reduce((n, b) => n + b.values.length, 0));
    let at = 0;
    for (const b of blocks) {
      values.set(b.values, at);
      at += b.values.length;
    }
    return fromFloat32(hf, [blocks.length * blocks[0]!.shape[0]!, ...blocks[0]!.shape.slice(1)], values);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries;
}

/** A tensor Hugging Face saves as a copy of another. Own keys only: `in` would take "constructor" for one. */
function isTiedCopy(name: string, naming: HfNaming): boolean {
  return Object.hasOwn(naming.tiedAliases, name);
}

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

function preview(names: string[]): string {
  return names.length <= 5 ? names.join(", ") : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/**
 * A model with a generator from its two Hugging Face checkpoints, ElectraForPreTraining's and
 * ElectraForMaskedLM's (see `electraPair`). Both store the shared embeddings; they must hold
 * the same values, as ELECTRA's own pretraining leaves them.
 */
export function weightsFromHfPair(
  discriminator: { file: SafetensorsFile; label: string },
  generator: { file: SafetensorsFile; label: string },
  model: ResolvedModel,
): WeightMap {
  const pair = electraPair(model);
  const weights = weightsFromHf(discriminator.file, pair.discriminator.model, discriminator.label);
  for (const [name, w] of weightsFromHf(generator.file, pair.generator.model, generator.label)) {
    const joint = generatorTensorName(name);
    const shared = weights.get(joint);
    if (!shared) {
      weights.set(joint, w);
      continue;
    }
    if (shared.shape.join(",") !== w.shape.join(",") || shared.values.some((v, i) => v !== w.values[i])) {
      const hf = pair.generator.naming.names.find((n) => n.name === joint)?.hf ?? joint;
      throw new WeightsError(
        `${generator.label}: tensor '${hf}' differs from the discriminator's (${discriminator.label}); the generator and discriminator share their embeddings`,
      );
    }
  }
  return weights;
}

/** A model with a generator as its two Hugging Face checkpoints' tensors, each with the shared embeddings. */
export function weightsToHfPair(
  weights: WeightMap,
  model: ResolvedModel,
  options: { withoutHeads?: boolean } = {},
): { discriminator: { entries: TensorEntry[]; naming: HfNaming }; generator: { entries: TensorEntry[]; naming: HfNaming } } {
  const pair = electraPair(model);
  const side = (sideModel: ResolvedModel, toJoint: (name: string) => string) => {
    const own: WeightMap = new Map();
    for (const p of parameterTable(sideModel)) {
      const w = weights.get(toJoint(p.name));
      if (!w) throw new WeightsError(`no value for parameter '${toJoint(p.name)}'`);
      own.set(p.name, w);
    }
    return weightsToHf(own, sideModel, options);
  };
  return {
    discriminator: side(pair.discriminator.model, (n) => n),
    generator: side(pair.generator.model, generatorTensorName),
  };
}
