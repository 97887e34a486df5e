/** `bdlc from-hf DIR [--name NAME]`: print the `.bdl` model a Hugging Face config.json describes. */
import { modelTextFromHf } from "../../app/from-hf.js";
import { parseFlags, requirePositionals, type Command } from "./command.js";

const help = `Usage: bdlc from-hf DIR [--generator GEN_DIR] [--name NAME]

Print the .bdl model that a Hugging Face config.json describes (model_type bert, roberta,
albert, distilbert or modernbert; electra as a pair, below): a standalone model with no
extends. DIR is the folder holding config.json (or the config.json file itself). Fields
the file leaves out take the values of transformers' config class; special ids other than
pad come from the family's standard tokenizer (the text says so).

A DIR holding generator/ (ElectraForMaskedLM) and discriminator/ (ElectraForPreTraining)
folders, as export-hf writes a model with a generator, gives one model with a generator
block of the generator's sizes; so does a discriminator's DIR with --generator GEN_DIR. The
two configs must agree on everything else, and rtd takes ELECTRA's weight, 50 (configs do
not record it).

Options:
  --generator GEN_DIR  ELECTRA: the generator's folder (ElectraForMaskedLM), DIR then the
                       discriminator's (ElectraForPreTraining)
  --name NAME          the model's name (default: the folder's name, made an identifier)`;

export const fromHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { name: { type: "string" }, generator: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "DIR", help);
    io.out(modelTextFromHf({ dir: positionals[0]!, name: values.name, generator: values.generator }));
    return 0;
  },
};
