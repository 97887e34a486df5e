/**
 * A Hugging Face checkpoint (config.json + model.safetensors; for a model with a generator, a
 * folder of two: generator/ and discriminator/) saved as a checkpoint of a `.bdl`
 * model: the folder is read against the model (hf-folder.ts), then written atomically.
 */
import { saveCheckpoint } from "../runtime/checkpoint/checkpoint.js";
import { parameterTable } from "../model/parameters.js";
import type { ResolvedModel } from "../model/model.js";
import { readHfWeights } from "./hf-folder.js";
import { asInputErrors } from "./user-errors.js";

export interface ImportHfOptions {
  /** The Hugging Face folder. */
  dir: string;
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  /** The checkpoint folder to write. */
  out: string;
}

export interface ImportHfResult {
  tensors: number;
  parameters: number;
}

export function importHf(o: ImportHfOptions): ImportHfResult {
  // A teacher is recorded when it changes nothing in the table: a learned cosine projection
  // to a wider teacher is not in any Hugging Face checkpoint.
  const teacher = o.teacher && parameterTable(o.model, o.teacher).length === parameterTable(o.model).length ? o.teacher : null;
  const weights = readHfWeights(o.dir, o.model);
  asInputErrors(() => saveCheckpoint(o.out, o.model, weights, { teacher }));
  const parameters = [...weights.values()].reduce((a, w) => a + w.values.length, 0);
  return { tensors: weights.size, parameters };
}
