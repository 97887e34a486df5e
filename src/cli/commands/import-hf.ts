/**
 * `bdlc import-hf DIR --model FILE[:NAME] --out CKPT`: a Hugging Face checkpoint
 * (config.json + model.safetensors) as a checkpoint of a `.bdl` model. The config is
 * compared with the model field by field and every difference is named; the tensors must be
 * exactly the model's (missing, unexpected and misshapen ones are named).
 *
 * Also the helpers the other checkpoint commands share: reading a Hugging Face folder
 * against a model, and turning the runtime's input errors into one-line user errors.
 */
import { existsSync, statSync } from "node:fs";
import { FileReadError, readJsonFile as readJson } from "../../io/read-file.js";
import * as path from "node:path";
import { CheckpointError, saveCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { weightsFromHf, WeightsError, type WeightMap } from "../../runtime/checkpoint/hf-weights.js";
import { readSafetensors, SafetensorsError } from "../../runtime/checkpoint/safetensors.js";
import { parameterTable } from "../../model/parameters.js";
import { configMismatches } from "../../compiler/unparse/from-hf.js";
import { HfConfigError, readHfConfig } from "../../model/hf/config.js";
import type { ResolvedModel } from "../../model/model.js";
import { loadModelRef, parseFlags, requirePositionals, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc import-hf DIR --model FILE[:NAME] --out CKPT

Read a Hugging Face checkpoint (DIR/config.json + DIR/model.safetensors) into a checkpoint
of the named .bdl model. Refuses, naming each difference, when the config disagrees with
the model (sizes, activation, LayerNorm eps, positions, token types, factorization,
sharing, pad id), and names every missing, unexpected or misshapen tensor.

Options:
  --model FILE[:NAME]  the model the checkpoint is for (NAME may be left out when the
                       file declares one model)
  --out CKPT           the checkpoint folder to write (replaced atomically if it exists)`;

/**
 * Runs `fn`, turning errors about bad input files into one-line user errors. (`bdlc run`
 * adds the runtime's RunInputError; this module does not load TensorFlow.js.)
 */
export function userErrors<T>(fn: () => T, more: readonly (new (...args: never[]) => Error)[] = []): T {
  try {
    return fn();
  } catch (e) {
    const user = [HfConfigError, WeightsError, SafetensorsError, CheckpointError, ...more];
    if (user.some((c) => e instanceof c)) throw new UsageError((e as Error).message);
    throw e;
  }
}

/** Reads and parses a JSON file; any problem is a `UsageError` naming the file. */
export function readJsonFile(file: string, what: string): unknown {
  try {
    return readJson(file);
  } catch (e) {
    if (!(e instanceof FileReadError)) throw e;
    throw new UsageError(e.position || e.reason.startsWith("not valid JSON") ? e.message : `cannot read ${what} '${file}': ${e.reason}`);
  }
}

export function readConfigJson(file: string): unknown {
  return readJsonFile(file, "Hugging Face config");
}

/** Whether `dir` is a folder holding config.json and model.safetensors. */
export function isHfFolder(dir: string): boolean {
  return existsSync(path.join(dir, "config.json")) && existsSync(path.join(dir, "model.safetensors"));
}

/**
 * The weights of a Hugging Face folder for `model`: the config must describe the model
 * (every difference named) and the tensors must be exactly its parameters.
 */
export function readHfFolder(dir: string, model: ResolvedModel): WeightMap {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`${dir}: no such folder`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a folder; a Hugging Face checkpoint is a folder holding config.json and model.safetensors`);
  const configPath = path.join(dir, "config.json");
  const weightsPath = path.join(dir, "model.safetensors");
  if (!existsSync(configPath)) throw new UsageError(`${dir}: missing config.json (a Hugging Face checkpoint holds config.json and model.safetensors)`);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(path.join(dir, "pytorch_model.bin")) ? " (pytorch_model.bin is not read: save with safe_serialization=True)" : "";
    throw new UsageError(`${dir}: missing model.safetensors${bin}`);
  }
  const spec = userErrors(() => readHfConfig(readConfigJson(configPath), configPath));
  const mismatches = configMismatches(spec, model, "config.json", model.file);
  if (mismatches.length > 0) {
    throw new UsageError(
      `${configPath} does not describe model '${model.name}' (${model.file}): ${mismatches.length} difference(s):\n  ${mismatches.join("\n  ")}`,
    );
  }
  return userErrors(() => weightsFromHf(readSafetensors(weightsPath), model, weightsPath));
}

export const importHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { model: { type: "string" }, out: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "DIR", help);
    if (values.model === undefined) throw new UsageError(`missing --model FILE[:NAME].\n\n${help}`);
    if (values.out === undefined) throw new UsageError(`missing --out CKPT.\n\n${help}`);
    const dir = positionals[0]!;
    const loaded = loadModelRef(values.model, io, { choose: "--model FILE:NAME" });
    if (!loaded) return 1;
    const { model, teacher: t } = loaded;
    // A teacher is recorded when it changes nothing in the table: a learned cosine projection
    // to a wider teacher is not in any Hugging Face checkpoint.
    const teacher = t && parameterTable(model, t).length === parameterTable(model).length ? t : null;
    const weights = readHfFolder(dir, model);
    userErrors(() => saveCheckpoint(values.out!, model, weights, { teacher }));
    const count = [...weights.values()].reduce((a, w) => a + w.values.length, 0);
    io.out(`wrote ${values.out}: model '${model.name}', ${weights.size} tensors, ${count} parameters`);
    return 0;
  },
};
