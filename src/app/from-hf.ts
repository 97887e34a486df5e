/**
 * The `.bdl` model a Hugging Face config.json describes, as text, checked: the config's sizes
 * may still break a rule of the language (say, positions beyond the vocabulary's use).
 */
import * as path from "node:path";
import { checkProgram } from "../compiler/semantics/check.js";
import { hasErrors, renderLine } from "../compiler/diagnostics.js";
import { MODEL_NAME, modelFromHfConfig, sanitizeModelName } from "../compiler/unparse/from-hf.js";
import { loadProgram, ParseCache, type CompilerHost } from "../compiler/semantics/program.js";
import { readConfigJson } from "./hf-folder.js";
import { InputError } from "./input-error.js";
import { asInputErrors } from "./user-errors.js";

export interface FromHfOptions {
  /** The folder holding config.json, or the config.json file itself. */
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
  const text = asInputErrors(() => modelFromHfConfig(readConfigJson(configPath), name, configPath));
  const virtual = `${name}.bdl`;
  const host: CompilerHost = { readFile: () => text, fileExists: (p) => p === virtual };
  const checked = checkProgram(loadProgram(virtual, new ParseCache(host)));
  const errors = checked.diagnostics.filter((d) => d.severity === "error");
  if (hasErrors(checked.diagnostics)) {
    throw new InputError(`${configPath} describes a model bdl rejects:\n${errors.map(renderLine).join("\n")}`);
  }
  return text;
}
