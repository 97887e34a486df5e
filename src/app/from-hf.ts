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
  /** ELECTRA's generator folder (or its config.json), `dir` then the discriminator's: `from-hf DISC --generator GEN`. */
  generator?: string | undefined;
}

/** A folder's config.json, or the file itself when given. */
function configFile(dir: string): string {
  return dir.endsWith(".json") ? dir : path.join(dir, "config.json");
}

export function modelTextFromHf(o: FromHfOptions): string {
  const configPath = configFile(o.dir);
  const folder = o.dir.endsWith(".json") ? path.dirname(path.resolve(o.dir)) : path.resolve(o.dir);
  const name = o.name ?? sanitizeModelName(path.basename(folder));
  if (!MODEL_NAME.test(name)) {
    throw new InputError(`--name '${name}' is not a model name (letters, digits and _, with inner hyphens, not starting with a digit)`);
  }
  const pair = o.generator !== undefined || (!o.dir.endsWith(".json") && !existsSync(configPath) && isHfPairFolder(o.dir));
  // The two configs: given one by one, or the generator/ and discriminator/ of one folder.
  const files: Record<keyof typeof HF_PAIR_FOLDERS, string> =
    o.generator !== undefined
      ? { discriminator: configPath, generator: configFile(o.generator) }
      : {
          discriminator: path.join(o.dir, HF_PAIR_FOLDERS.discriminator, "config.json"),
          generator: path.join(o.dir, HF_PAIR_FOLDERS.generator, "config.json"),
        };
  const side = (which: keyof typeof HF_PAIR_FOLDERS) => ({ config: readConfigJson(files[which]), label: files[which] });
  const source =
    o.generator !== undefined
      ? `${files.discriminator} and ${files.generator}`
      : path.join(o.dir, "{discriminator,generator}", "config.json");
  const text = asInputErrors(() =>
    pair
      ? modelFromHfPairConfigs(side("discriminator"), side("generator"), name, source)
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
