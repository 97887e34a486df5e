/**
 * One forward pass of a model on explicit inputs (and, with labels, the loss and one backward
 * pass), with weights from a checkpoint of this project or a Hugging Face folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitTorchModule } from "../compiler/emit/torch.js";
import { hfGradNorms } from "../model/hf/grad-norms.js";
import { checkRunInputs, checkVocab, runOnce, RunInputError, type RunInputs } from "../runtime/run.js";
import { writeWeights, type WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { runTorchModule, TorchInputError, TorchMissing } from "../torch/index.js";
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
  /** `tfjs` (the default) or `torch`: the compiled PyTorch module, run by the torch engine. */
  engine?: Engine;
}

export const ENGINES = ["tfjs", "torch"] as const;
export type Engine = (typeof ENGINES)[number];

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

  if (o.engine === "torch") return runOnTorch(model, teacherModel, weights, teacherWeights, inputs);
  await startBackend(o.backend);
  const loaded = await loadGraph(model, teacherModel);
  const teacher = teacherWeights && loaded.teacher ? { graph: loaded.teacher, weights: teacherWeights } : null;
  return asInputErrors(() => runOnce({ graph: loaded.graph, weights }, inputs, teacher), runErrors);
}

/**
 * The same run on the torch engine: the model's PyTorch module and its weights (by table name)
 * in a private folder, run there by PyTorch; the gradient norms keyed as on tfjs.
 */
export function runOnTorch(
  model: ResolvedModel,
  teacher: ResolvedModel | null,
  weights: WeightMap,
  teacherWeights: WeightMap | null,
  inputs: RunInputs,
): RunResult {
  asInputErrors(() => checkVocab(inputs, model.vocab), [RunInputError]);
  if (model.teacher && teacher && inputs.labels && !teacherWeights)
    throw new InputError(`model '${model.name}' learns from a teacher: give its weights with --teacher-weights`);
  const dir = mkdtempSync(join(tmpdir(), "bdl-torch-run-"));
  try {
    writeFileSync(join(dir, "model.py"), emitTorchModule(model, teacher).text);
    writeWeights(join(dir, "weights.safetensors"), weights);
    writeFileSync(join(dir, "inputs.json"), JSON.stringify(inputs));
    const withTeacher = teacher && teacherWeights ? { module: "teacher.py", weights: "teacher.safetensors" } : undefined;
    if (withTeacher && teacher && teacherWeights) {
      writeFileSync(join(dir, withTeacher.module), emitTorchModule(teacher, null).text);
      writeWeights(join(dir, withTeacher.weights), teacherWeights);
    }
    const { grad_squares: squares, ...out } = asInputErrors(
      () => runTorchModule({ dir, module: "model.py", weights: "weights.safetensors", inputs: "inputs.json", teacher: withTeacher }),
      [TorchInputError, TorchMissing],
    );
    return squares ? { ...out, ...hfGradNorms(model, new Map(Object.entries(squares))) } : out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
