/**
 * Hugging Face folders (config.json + model.safetensors) as the commands read them: the config
 * must describe the model (every difference named) and the tensors must be exactly its parameters.
 */
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { weightsFromHf, type WeightMap } from "../runtime/checkpoint/hf-weights.js";
import { readSafetensors } from "../runtime/checkpoint/safetensors.js";
import { configMismatches } from "../compiler/unparse/from-hf.js";
import { readHfConfig } from "../model/hf/config.js";
import type { ResolvedModel } from "../model/model.js";
import { InputError } from "./input-error.js";
import { readJsonFile } from "./json-file.js";
import { asInputErrors } from "./user-errors.js";

export function readConfigJson(file: string): unknown {
  return readJsonFile(file, "Hugging Face config");
}

/** Whether `dir` is a folder holding config.json and model.safetensors. */
export function isHfFolder(dir: string): boolean {
  return existsSync(path.join(dir, "config.json")) && existsSync(path.join(dir, "model.safetensors"));
}

/** The weights of a Hugging Face folder for `model`. */
export function readHfFolder(dir: string, model: ResolvedModel): WeightMap {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError(`${dir}: no such folder`);
  }
  if (!st.isDirectory())
    throw new InputError(`${dir} is not a folder; a Hugging Face checkpoint is a folder holding config.json and model.safetensors`);
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
  const spec = asInputErrors(() => readHfConfig(readConfigJson(configPath), configPath));
  const mismatches = configMismatches(spec, model, "config.json", model.file);
  if (mismatches.length > 0) {
    throw new InputError(
      `${configPath} does not describe model '${model.name}' (${model.file}): ${mismatches.length} difference(s):\n  ${mismatches.join("\n  ")}`,
    );
  }
  return asInputErrors(() => weightsFromHf(readSafetensors(weightsPath), model, weightsPath));
}
