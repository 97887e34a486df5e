/**
 * One forward pass of a model on explicit inputs (and, with labels, the loss and one backward
 * pass), with weights from a checkpoint of this project or a Hugging Face folder.
 */
import { checkRunInputs, runOnce, RunInputError } from "../runtime/run.js";
import { loadGraph } from "./graph-loader.js";
import type { ResolvedModel } from "../model/model.js";
import { startBackend } from "./backend.js";
import { loadWeights } from "./weights-source.js";
import { isHfFolder, readHfPairWeights } from "./hf-folder.js";
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
  /** A model with a generator: the generator's Hugging Face folder, `weights` then the discriminator's. */
  generatorWeights?: string | undefined;
  /** The inputs file. */
  inputs: string;
  backend: string;
}

/** The outputs by Hugging Face's names (and, with labels, `loss`, `loss_terms`, `grad_norms`). */
export type RunResult = Record<string, unknown>;

/** `--weights DISC --generator-weights GEN`: ELECTRA's two Hugging Face folders, given one by one. */
function generatorPairWeights(model: ResolvedModel, discriminator: string, generator: string) {
  if (!model.generator) throw new InputError(`model '${model.name}' has no generator, so --generator-weights has nothing to load`);
  for (const [flag, dir] of [
    ["--weights", discriminator],
    ["--generator-weights", generator],
  ] as const) {
    if (!isHfFolder(dir))
      throw new InputError(
        `${flag} ${dir}: with --generator-weights, each must be a Hugging Face folder (config.json + model.safetensors)`,
      );
  }
  return readHfPairWeights({ discriminator, generator }, model);
}

export async function runModel(o: RunOptions): Promise<RunResult> {
  const { model, teacher: teacherModel } = o;
  if (o.teacherWeights !== undefined && !teacherModel)
    throw new InputError(`model '${model.name}' has no teacher, so --teacher-weights has nothing to load`);
  const runErrors = [...INPUT_FILE_ERRORS, RunInputError];
  const inputs = asInputErrors(() => checkRunInputs(readJsonFile(o.inputs, "inputs"), o.inputs), runErrors);
  const weights =
    o.generatorWeights !== undefined
      ? generatorPairWeights(model, o.weights, o.generatorWeights)
      : loadWeights("--weights", o.weights, model, teacherModel);
  const teacherWeights =
    o.teacherWeights !== undefined && teacherModel ? loadWeights("--teacher-weights", o.teacherWeights, teacherModel, null) : null;

  await startBackend(o.backend);
  const loaded = await loadGraph(model, teacherModel);
  const teacher = teacherWeights && loaded.teacher ? { graph: loaded.teacher, weights: teacherWeights } : null;
  return asInputErrors(() => runOnce({ graph: loaded.graph, weights }, inputs, teacher), runErrors);
}
