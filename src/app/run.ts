/**
 * One forward pass of a model on explicit inputs (and, with labels, the loss and one backward
 * pass), with weights from a checkpoint of this project or a Hugging Face folder.
 */
import { existsSync } from "node:fs";
import { loadValidCheckpoint } from "./checkpoint.js";
import { isCheckpointPath } from "../runtime/checkpoint/checkpoint.js";
import type { WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { parameterTable } from "../model/parameters.js";
import { checkRunInputs, runOnce, RunInputError } from "../runtime/run.js";
import { loadGraph } from "./graph-loader.js";
import type { ResolvedModel } from "../model/model.js";
import { startBackend } from "./backend.js";
import { isHfFolder, readHfFolder } from "./hf-folder.js";
import { InputError } from "./input-error.js";
import { readJsonFile } from "./json-file.js";
import { asInputErrors, INPUT_FILE_ERRORS } from "./user-errors.js";

export interface RunOptions {
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  /** The model's weights: a checkpoint of this project (or a run folder), or a Hugging Face folder. */
  weights: string;
  /** The teacher's weights (same kinds), for distillation losses. */
  teacherWeights: string | undefined;
  /** The inputs file. */
  inputs: string;
  backend: string;
}

/** The outputs by Hugging Face's names (and, with labels, `loss`, `loss_terms`, `grad_norms`). */
export type RunResult = Record<string, unknown>;

/** W or T: a checkpoint of this project or a Hugging Face folder, checked against `model`. */
function loadWeights(flag: string, p: string, model: ResolvedModel, teacher: ResolvedModel | null): WeightMap {
  let weights: WeightMap;
  if (isCheckpointPath(p)) {
    weights = asInputErrors(() => loadValidCheckpoint(p, { model, teacher })).weights;
  } else if (isHfFolder(p)) {
    weights = readHfFolder(p, model);
  } else if (!existsSync(p)) {
    throw new InputError(`${flag} ${p}: no such folder`);
  } else {
    throw new InputError(
      `${flag} ${p} is neither a checkpoint of this project (a folder with bdl.json, or a run folder with checkpoints/) nor a Hugging Face folder (config.json + model.safetensors)`,
    );
  }
  const lacking = parameterTable(model, teacher).filter((spec) => !weights.has(spec.name));
  if (lacking.length > 0) {
    throw new InputError(`${flag} ${p} has no value for ${lacking.map((s) => `'${s.name}'`).join(", ")} of model '${model.name}'`);
  }
  return weights;
}

export async function runModel(o: RunOptions): Promise<RunResult> {
  const { model, teacher: teacherModel } = o;
  if (o.teacherWeights !== undefined && !teacherModel)
    throw new InputError(`model '${model.name}' has no teacher, so --teacher-weights has nothing to load`);
  const runErrors = [...INPUT_FILE_ERRORS, RunInputError];
  const inputs = asInputErrors(() => checkRunInputs(readJsonFile(o.inputs, "inputs"), o.inputs), runErrors);
  const weights = loadWeights("--weights", o.weights, model, teacherModel);
  const teacherWeights =
    o.teacherWeights !== undefined && teacherModel ? loadWeights("--teacher-weights", o.teacherWeights, teacherModel, null) : null;

  await startBackend(o.backend);
  const loaded = await loadGraph(model, teacherModel);
  const teacher = teacherWeights && loaded.teacher ? { graph: loaded.teacher, weights: teacherWeights } : null;
  return asInputErrors(() => runOnce({ graph: loaded.graph, weights }, inputs, teacher), runErrors);
}
