/** `bdlc from-hf DIR [--name NAME]`: print the `.bdl` model a Hugging Face config.json describes. */
import * as path from "node:path";
import { checkProgram } from "../../compiler/semantics/check.js";
import { hasErrors, renderLine } from "../../compiler/diagnostics.js";
import { MODEL_NAME, modelFromHfConfig, sanitizeModelName } from "../../compiler/unparse/from-hf.js";
import { loadProgram, ParseCache, type CompilerHost } from "../../compiler/semantics/program.js";
import { parseFlags, requirePositionals, UsageError, type Command } from "./command.js";
import { readConfigJson, userErrors } from "./import-hf.js";

const help = `Usage: bdlc from-hf DIR [--name NAME]

Print the .bdl model that a Hugging Face config.json describes (model_type bert, roberta,
albert or distilbert): a standalone model with no extends. DIR is the folder holding
config.json (or the config.json file itself). Fields the file leaves out take the values
of transformers' config class; special ids other than pad come from the family's standard
tokenizer (the text says so).

Options:
  --name NAME  the model's name (default: the folder's name, made an identifier)`;

export const fromHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { name: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "DIR", help);
    const dir = positionals[0]!;
    const configPath = dir.endsWith(".json") ? dir : path.join(dir, "config.json");
    const folder = dir.endsWith(".json") ? path.dirname(path.resolve(dir)) : path.resolve(dir);
    const name = values.name ?? sanitizeModelName(path.basename(folder));
    if (!MODEL_NAME.test(name)) {
      throw new UsageError(`--name '${name}' is not a model name (letters, digits and _, with inner hyphens, not starting with a digit)`);
    }
    const text = userErrors(() => modelFromHfConfig(readConfigJson(configPath), name, configPath));
    // The config's sizes may still break a rule of the language (say, positions beyond the vocabulary's use).
    const virtual = `${name}.bdl`;
    const host: CompilerHost = { readFile: () => text, fileExists: (p) => p === virtual };
    const checked = checkProgram(loadProgram(virtual, new ParseCache(host)));
    const errors = checked.diagnostics.filter((d) => d.severity === "error");
    if (hasErrors(checked.diagnostics)) {
      throw new UsageError(`${configPath} describes a model bdl rejects:\n${errors.map(renderLine).join("\n")}`);
    }
    io.out(text);
    return 0;
  },
};
