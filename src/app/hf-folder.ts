/**
 * Hugging Face folders (config.json + model.safetensors) as the commands read them: the config
 * must describe the model (every difference named) and the tensors must be exactly its parameters.
 * A model with a generator is two such folders, `generator/` and `discriminator/`, side by side
 * in one (see `HF_PAIR_FOLDERS`). A fine-tuned classifier is one folder of its family's
 * `…ForSequenceClassification` class (`readHfClassifier`).
 */
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { weightsFromHf, weightsFromHfNames, weightsFromHfPair, type WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { readSafetensors, type SafetensorsFile } from "../runtime/checkpoint/safetensors.js";
import { configMismatches } from "../compiler/unparse/from-hf.js";
import { classifierEncoderConfig, readHfClassifierConfig, readHfConfig, sequenceClassificationClass } from "../model/hf/config.js";
import { importedClassifierModel, SEQUENCE_CLASSIFICATION } from "../model/hf/classifier.js";
import { FAMILY_NAME, hfFamily } from "../model/hf/family.js";
import { electraPair } from "../model/hf/names.js";
import { CLASSIFIER_KERNEL, classifierHeadTable, type HeadKind, type Pooling } from "../model/classifier.js";
import { hfClassifierNaming } from "../model/hf/classifier.js";
import { parameterTable } from "../model/parameters.js";
import type { ResolvedModel } from "../model/model.js";
import { InputError } from "./input-error.js";
import { readJsonFile } from "./json-file.js";
import { asInputErrors } from "./user-errors.js";

/**
 * The subfolders of a model with a generator's Hugging Face folder: ELECTRA's two checkpoints,
 * as transformers' ELECTRA models are published (one from_pretrained folder each).
 */
export const HF_PAIR_FOLDERS = { discriminator: "discriminator", generator: "generator" } as const;

export function readConfigJson(file: string): unknown {
  return readJsonFile(file, "Hugging Face config");
}

/** Whether `dir` is a folder holding config.json and model.safetensors. */
export function isHfFolder(dir: string): boolean {
  return existsSync(path.join(dir, "config.json")) && existsSync(path.join(dir, "model.safetensors"));
}

/** Whether `dir` holds a `generator/` and a `discriminator/` subfolder (a model with a generator's pair). */
export function isHfPairFolder(dir: string): boolean {
  return Object.values(HF_PAIR_FOLDERS).every((side) => isFolder(path.join(dir, side)));
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The weights of a Hugging Face folder for `model`: for a model with a generator, of the folder's
 * `generator/` and `discriminator/` (their shared embeddings must agree), else of the folder itself.
 */
export function readHfWeights(dir: string, model: ResolvedModel): WeightMap {
  if (!model.generator) {
    if (!isHfFolder(dir) && isHfPairFolder(dir)) {
      throw new InputError(
        `${dir} holds ${HF_PAIR_FOLDERS.generator}/ and ${HF_PAIR_FOLDERS.discriminator}/, the two Hugging Face checkpoints of a model with a generator, but model '${model.name}' has no generator`,
      );
    }
    const { configPath, weightsPath } = checkedFolder(dir);
    checkConfig(configPath, model, `model '${model.name}'`, model.file);
    return asInputErrors(() => weightsFromHf(readSafetensors(weightsPath), model, weightsPath));
  }
  folderStat(dir);
  if (!isHfPairFolder(dir)) {
    const lacking = Object.values(HF_PAIR_FOLDERS).filter((side) => !isFolder(path.join(dir, side)));
    const what = isHfFolder(dir) ? "is a single Hugging Face checkpoint" : `has no ${lacking.map((side) => `${side}/`).join(" or ")}`;
    throw new InputError(
      `${dir} ${what}, but model '${model.name}' has a generator: its Hugging Face weights are a folder that needs ${HF_PAIR_FOLDERS.generator}/ (ElectraForMaskedLM) and ${HF_PAIR_FOLDERS.discriminator}/ (ElectraForPreTraining), each with config.json and model.safetensors`,
    );
  }
  return readHfPairWeights(
    { discriminator: path.join(dir, HF_PAIR_FOLDERS.discriminator), generator: path.join(dir, HF_PAIR_FOLDERS.generator) },
    model,
  );
}

/**
 * A model with a generator from its two Hugging Face folders, wherever they are (`run --weights
 * DISC --generator-weights GEN`): each config must describe its side, and the shared
 * embeddings must agree.
 */
export function readHfPairWeights(dirs: Record<keyof typeof HF_PAIR_FOLDERS, string>, model: ResolvedModel): WeightMap {
  if (!model.generator) throw new InputError(`model '${model.name}' has no generator, so it has no generator weights to read`);
  const pair = electraPair(model);
  const side = (which: keyof typeof HF_PAIR_FOLDERS, sideModel: ResolvedModel): { file: SafetensorsFile; label: string } => {
    const { configPath, weightsPath } = checkedFolder(dirs[which]);
    checkConfig(configPath, sideModel, `the ${which} of model '${model.name}'`, `${model.file} ${which}`);
    return { file: asInputErrors(() => readSafetensors(weightsPath)), label: weightsPath };
  };
  const discriminator = side("discriminator", pair.discriminator.model);
  const generator = side("generator", pair.generator.model);
  return asInputErrors(() => weightsFromHfPair(discriminator, generator, model));
}

function folderStat(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError(`${dir}: no such folder`);
  }
  if (!st.isDirectory())
    throw new InputError(`${dir} is not a folder; a Hugging Face checkpoint is a folder holding config.json and model.safetensors`);
}

/** A Hugging Face checkpoint folder's two files, each checked to be there. */
function checkedFolder(dir: string): { configPath: string; weightsPath: string } {
  folderStat(dir);
  const configPath = path.join(dir, "config.json");
  const weightsPath = path.join(dir, "model.safetensors");
  if (!existsSync(configPath))
    throw new InputError(`${dir}: missing config.json (a Hugging Face checkpoint holds config.json and model.safetensors)`);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(path.join(dir, "pytorch_model.bin"))
      ? " (pytorch_model.bin is not read: save with safe_serialization=True)"
      : "";
    throw new InputError(`${dir}: missing model.safetensors${bin}`);
  }
  return { configPath, weightsPath };
}

/**
 * Refuses a config.json that does not describe `model`, naming every difference. `what` names
 * the model (or its side of a pair) in the message, `modelLabel` its file (and side); `config`
 * is the file's JSON when it has been read already.
 */
function checkConfig(configPath: string, model: ResolvedModel, what: string, modelLabel: string, config?: unknown): void {
  const spec = asInputErrors(() => readHfConfig(config ?? readConfigJson(configPath), configPath));
  const mismatches = configMismatches(spec, model, "config.json", modelLabel);
  if (mismatches.length > 0) {
    throw new InputError(
      `${configPath} does not describe ${what} (${model.file}): ${mismatches.length} difference(s):\n  ${mismatches.join("\n  ")}`,
    );
  }
}

/** Whether `dir`'s config.json names a `…ForSequenceClassification` class (false when it cannot be read: the reader of the folder says why). */
export function isHfClassifierFolder(dir: string): boolean {
  const file = path.join(dir, "config.json");
  if (!existsSync(file)) return false;
  try {
    return sequenceClassificationClass(readConfigJson(file)) !== null;
  } catch {
    return false;
  }
}

/** A fine-tuned classifier read from its family's `…ForSequenceClassification` folder. */
export interface HfClassifier {
  /** The class config.json names. */
  architecture: string;
  /** The model it is saved with (`importedClassifierModel`). */
  model: ResolvedModel;
  labels: string[];
  /** config.json's `finetuning_task`, or null. */
  task: string | null;
  head: HeadKind;
  pooling: Pooling;
  /** The model's parameter table and the head's tensors (model/classifier.ts), in our names and layout. */
  weights: WeightMap;
}

/**
 * The classifier in a Hugging Face folder whose config.json names `model`'s family's
 * `…ForSequenceClassification` class (model/hf/classifier.ts): the config must describe the
 * encoder (every difference named) and give the labels (`readHfClassifierConfig`), and the
 * tensors must be exactly the class's, with a head of as many labels.
 */
export function readHfClassifier(dir: string, model: ResolvedModel): HfClassifier {
  const { configPath, weightsPath } = checkedFolder(dir);
  const config = readConfigJson(configPath);
  const architecture = sequenceClassificationClass(config);
  if (architecture === null) throw new InputError(`${configPath}: 'architectures' names no …ForSequenceClassification class`);
  const c = config as Record<string, unknown>;
  const saved = importedClassifierModel(model);
  const family = hfFamily(saved);
  const row = SEQUENCE_CLASSIFICATION[family];
  const whose = model.generator ? `the discriminator of model '${model.name}'` : `model '${model.name}'`;
  const encoderConfig = classifierEncoderConfig(c);
  const spec = asInputErrors(() => readHfConfig(encoderConfig, configPath));
  if (spec.family !== family)
    throw new InputError(
      `${configPath}: 'model_type' ${spec.family} is not the family of model '${model.name}' (${model.file}), a ${FAMILY_NAME[family]} model, whose classifier is ${row.architecture}`,
    );
  if (architecture !== row.architecture)
    throw new InputError(
      `${configPath}: 'architectures' class ${architecture} is not ${FAMILY_NAME[family]}'s classifier: a classifier of model '${model.name}' is ${row.architecture} (${row.computes})`,
    );
  checkConfig(configPath, saved, whose, model.generator ? `${model.file} discriminator` : model.file, encoderConfig);
  if (row.pooling === "pooler" && saved.pooler !== "tanh")
    throw new InputError(
      `${configPath}: ${row.architecture}'s head is ${row.computes}, but model '${model.name}' (${model.file}) has no pooler: declare \`pooler tanh\``,
    );
  const { labels, task } = asInputErrors(() => readHfClassifierConfig(c, family, configPath));
  const naming = hfClassifierNaming(saved, row.pooling, row.head);
  if (typeof naming === "string") throw new InputError(`cannot read ${dir} as a ${row.architecture} of model '${model.name}': ${naming}`);
  const file = asInputErrors(() => readSafetensors(weightsPath));
  // The head's last layer has a row per label: a count that differs is config.json's labels against the weights.
  const out = naming.names.find((n) => n.name === CLASSIFIER_KERNEL)!.hf;
  const outShape = file.tensors.get(out)?.shape;
  if (outShape !== undefined && outShape.length === 2 && outShape[0] !== labels.length)
    throw new InputError(
      `${weightsPath}: tensor '${out}' has ${outShape[0]} rows, one per label, but ${configPath} 'id2label' names ${labels.length} labels`,
    );
  const shapes = new Map(
    [...parameterTable(saved), ...classifierHeadTable(saved, row.head, labels.length)].map((p) => [p.name, p.shape] as const),
  );
  const weights = asInputErrors(() => weightsFromHfNames(file, naming.names, shapes, weightsPath, `${row.architecture} of ${whose}`));
  return { architecture, model: saved, labels, task, head: row.head, pooling: row.pooling, weights };
}
