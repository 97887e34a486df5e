/** Weights for a model from either place they come from: a checkpoint of this project or a Hugging Face folder. */
import { existsSync } from "node:fs";
import { loadValidCheckpoint } from "./checkpoint.js";
import { isCheckpointPath } from "../runtime/checkpoint/checkpoint.js";
import type { WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { parameterTable } from "../model/parameters.js";
import type { ResolvedModel } from "../model/model.js";
import { isHfFolder, isHfPairFolder, readHfWeights } from "./hf-folder.js";
import { InputError } from "./input-error.js";
import { asInputErrors } from "./user-errors.js";

/** W or T: a checkpoint of this project or a Hugging Face folder (a generator/ + discriminator/ pair for a model with a generator), checked against `model`. */
export function loadWeights(flag: string, p: string, model: ResolvedModel, teacher: ResolvedModel | null): WeightMap {
  let weights: WeightMap;
  if (isCheckpointPath(p)) {
    weights = asInputErrors(() => loadValidCheckpoint(p, { model, teacher })).weights;
  } else if (isHfFolder(p) || isHfPairFolder(p)) {
    weights = readHfWeights(p, model);
  } else if (!existsSync(p)) {
    throw new InputError(`${flag} ${p}: no such folder`);
  } else {
    throw new InputError(
      `${flag} ${p} is neither a checkpoint of this project (a folder with bdl.json, or a run folder with checkpoints/) nor a Hugging Face folder (config.json + model.safetensors, or generator/ and discriminator/ folders of them for a model with a generator)`,
    );
  }
  const lacking = parameterTable(model, teacher).filter((spec) => !weights.has(spec.name));
  if (lacking.length > 0) {
    throw new InputError(`${flag} ${p} has no value for ${lacking.map((s) => `'${s.name}'`).join(", ")} of model '${model.name}'`);
  }
  return weights;
}
