/**
 * `bdlc export-hf CKPT --out DIR`: a checkpoint of this project as a Hugging Face folder,
 * `config.json` + `model.safetensors`, that transformers loads into the family's class with
 * no missing or unexpected keys. Refuses a model whose layout no transformers class has.
 */
import { exportHf as exportCheckpoint } from "../../app/export-hf.js";
import { parseFlags, requirePositionals, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc export-hf CKPT --out DIR

Write a checkpoint (a checkpoint folder, or a train --out run folder meaning its latest
checkpoint) as a Hugging Face folder: config.json + model.safetensors, loadable by
transformers (BertForPreTraining / BertForMaskedLM / BertModel, RobertaForMaskedLM,
AlbertForPreTraining / AlbertForMaskedLM / AlbertModel, DistilBertForMaskedLM /
DistilBertModel) with no missing or unexpected keys. Refuses a layout no transformers
class has (say, a sharing group that shares only attention).

Options:
  --out DIR  the folder to write (written atomically; an existing folder is replaced only
             when it holds nothing but config.json and model.safetensors)`;

export const exportHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "CKPT", help);
    if (values.out === undefined) throw new UsageError(`missing --out DIR.\n\n${help}`);
    const r = exportCheckpoint({ checkpoint: positionals[0]!, out: values.out });
    io.out(`wrote ${values.out}: ${r.architecture} (config.json, model.safetensors with ${r.tensors} tensors) from ${r.from}`);
    return 0;
  },
};
