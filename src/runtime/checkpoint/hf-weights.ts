/**
 * Hugging Face tensors ↔ a model's parameters. Reading checks that the file holds
 * exactly the model's tensors (under the pretraining class's names or the base model's,
 * without its prefix), with the right shapes; tied tensors are stored once, as Hugging
 * Face saves them.
 */
import type { ResolvedModel } from "../../model/model.js";
import { parameterTable } from "../../model/parameters.js";
import { nonFiniteProblem } from "./finite.js";
import { baseModelName, hfNaming, isHfBuffer, blockStructureProblem, type HfNaming } from "../../model/hf/names.js";
import { fromFloat32, toFloat32, type SafetensorsFile, type TensorEntry } from "./safetensors.js";

/** Parameter values by our names, as float32 arrays in our layout (kernels [in, out]). */
export type WeightMap = Map<string, { shape: number[]; values: Float32Array }>;

export class WeightsError extends Error {}

export function weightsFromHf(file: SafetensorsFile, model: ResolvedModel, label: string): WeightMap {
  // Hugging Face weights of a post-LN, plain feed-forward family would load into a pre-LN or gated model and compute something else.
  const structure = blockStructureProblem(model);
  if (structure) throw new WeightsError(`${label}: cannot read Hugging Face weights into model '${model.name}': ${structure}`);
  const naming = hfNaming(model);
  // A base-model checkpoint (BertModel, …) stores the base model's tensors under their base-model names.
  const stored = (hf: string): TensorEntry | undefined => {
    const base = baseModelName(naming.family, hf);
    return file.tensors.get(hf) ?? (base === null ? undefined : file.tensors.get(base));
  };
  const shapes = new Map(parameterTable(model).map((p) => [p.name, p.shape]));
  const weights: WeightMap = new Map();
  const missing: string[] = [];
  const used = new Set<string>();
  for (const { name, hf, transpose } of naming.names) {
    const entry = stored(hf);
    if (!entry) {
      missing.push(hf);
      continue;
    }
    used.add(entry.name);
    const expected = shapes.get(name)!;
    const shape = transpose ? [...entry.shape].reverse() : entry.shape;
    if (shape.join(",") !== expected.join(",")) {
      throw new WeightsError(
        `${label}: tensor '${entry.name}' has shape [${entry.shape}], but model '${model.name}' needs [${transpose ? [...expected].reverse() : expected}]`,
      );
    }
    const values = toFloat32(entry);
    const nonFinite = nonFiniteProblem(values);
    if (nonFinite) throw new WeightsError(`${label}: tensor '${entry.name}' holds ${nonFinite}; weights must be finite`);
    weights.set(name, { shape: expected, values: transpose ? transpose2d(values, entry.shape[0]!, entry.shape[1]!) : values });
  }
  if (missing.length > 0) {
    throw new WeightsError(`${label}: missing ${missing.length} tensor(s) model '${model.name}' needs: ${preview(missing)}`);
  }
  const unexpected = [...file.tensors.keys()].filter((k) => !used.has(k) && !isHfBuffer(k) && !isTiedCopy(k, naming));
  if (unexpected.length > 0) {
    throw new WeightsError(`${label}: ${unexpected.length} tensor(s) that model '${model.name}' does not have: ${preview(unexpected)}`);
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
  const entries = naming.names.map(({ name, hf, transpose }) => {
    const w = weights.get(name);
    if (!w) throw new WeightsError(`no value for parameter '${name}'`);
    const [rows, cols] = w.shape as [number, number];
    return transpose ? fromFloat32(hf, [cols, rows], transpose2d(w.values, rows, cols)) : fromFloat32(hf, w.shape, w.values);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, naming };
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
