/**
 * The `.bdl` model a Hugging Face config.json describes, as text, checked: the config's sizes
 * may still break a rule of the language (say, positions beyond the vocabulary's use). A folder
 * of ELECTRA's two checkpoints (generator/ and discriminator/, as export-hf writes a model with
 * a generator) describes one model with a generator.
 */
import * as path from "node:path";
import { checkProgram } from "../compiler/semantics/check.js";
import { hasErrors, renderLine } from "../compiler/diagnostics.js";
import { MODEL_NAME, modelFromHfConfig, modelFromHfPairConfigs, sanitizeModelName } from "../compiler/unparse/from-hf.js";
import { loadProgram, ParseCache, type CompilerHost } from "../compiler/semantics/program.js";
import { existsSync } from "node:fs";
import { HF_PAIR_FOLDERS, isHfPairFolder, readConfigJson } from "./hf-folder.js";
import { InputError } from "./input-error.js";
import { asInputErrors } from "./user-errors.js";

export interface FromHfOptions {
  /** The folder holding config.json (or generator/ and discriminator/ folders that do), or the config.json file itself. */
  dir: string;
  /** The model's name (default: the folder's name, made an identifier). */
  name: string | undefined;
}

export function modelTextFromHf(o: FromHfOptions): string {
  const configPath = o.dir.endsWith(".json") ? o.dir : path.join(o.dir, "config.json");
  const folder = o.dir.endsWith(".json") ? path.dirname(path.resolve(o.dir)) : path.resolve(o.dir);
  const name = o.name ?? sanitizeModelName(path.basename(folder));
  if (!MODEL_NAME.test(name)) {
    throw new InputError(`--name '${name}' is not a model name (letters, digits and _, with inner hyphens, not starting with a digit)`);
  }
  const pair = !o.dir.endsWith(".json") && !existsSync(configPath) && isHfPairFolder(o.dir);
  const side = (which: keyof typeof HF_PAIR_FOLDERS) => {
    const label = path.join(o.dir, HF_PAIR_FOLDERS[which], "config.json");
    return { config: readConfigJson(label), label };
  };
  const text = asInputErrors(() =>
    pair
      ? modelFromHfPairConfigs(side("discriminator"), side("generator"), name, path.join(o.dir, "{discriminator,generator}", "config.json"))
      : modelFromHfConfig(readConfigJson(configPath), name, configPath),
  );
  const virtual = `${name}.bdl`;
  const host: CompilerHost = { readFile: () => text, fileExists: (p) => p === virtual };
  const checked = checkProgram(loadProgram(virtual, new ParseCache(host)));
  const errors = checked.diagnostics.filter((d) => d.severity === "error");
  if (hasErrors(checked.diagnostics)) {
    throw new InputError(`${configPath} describes a model bdl rejects:\n${errors.map(renderLine).join("\n")}`);
  }
  return text;
}
