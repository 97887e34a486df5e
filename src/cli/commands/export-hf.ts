/**
 * `bdlc export-hf CKPT --out DIR`: a checkpoint of this project as a Hugging Face folder,
 * `config.json` + `model.safetensors`, that transformers loads into the family's class with
 * no missing or unexpected keys. Refuses a model whose layout no transformers class has.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadValidCheckpoint } from "../../app/checkpoint.js";
import { writeFileDurably, writeFolderAtomically } from "../../runtime/checkpoint/checkpoint.js";
import { hfNaming } from "../../model/hf/names.js";
import { hfArchitecture } from "../../model/hf/family.js";
import { configProblem, hfConfig } from "../../model/hf/config.js";
import { weightsToHf } from "../../runtime/checkpoint/hf-weights.js";
import { writeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { parseFlags, requirePositionals, UsageError, type Command } from "./command.js";
import { userErrors } from "./import-hf.js";

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

const OUR_FILES = new Set(["config.json", "model.safetensors"]);

export const exportHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "CKPT", help);
    if (values.out === undefined) throw new UsageError(`missing --out DIR.\n\n${help}`);
    const out = values.out;
    const ckpt = userErrors(() => loadValidCheckpoint(positionals[0]!));
    const model = ckpt.model;
    const naming = hfNaming(model);
    const refuse = (why: string): never => {
      throw new UsageError(`cannot export model '${model.name}' as a Hugging Face ${naming.family} checkpoint: ${why}`);
    };
    if (naming.unrepresentable) refuse(naming.unrepresentable);
    const arch = hfArchitecture(model, naming.family);
    if (typeof arch === "string") refuse(arch);
    const { name: architecture, base } = arch as { name: string; base: boolean };
    const problem = configProblem(model, naming.family);
    if (problem) refuse(problem);

    const config = hfConfig(model, naming.family, architecture);
    // Base-model classes (BertModel, …) store their tensors without the class prefix.
    const { entries } = userErrors(() => weightsToHf(ckpt.weights, model, { withoutHeads: base }));
    userErrors(() =>
      writeFolderAtomically(
        out,
        (tmp) => {
          writeSafetensors(path.join(tmp, "model.safetensors"), entries, { format: "pt" });
          writeFileDurably(path.join(tmp, "config.json"), JSON.stringify(config, null, 2) + "\n");
        },
        (existing) => {
          const others = fs.readdirSync(existing).filter((f) => !OUR_FILES.has(f));
          return others.length === 0 ? null : `it holds files other than config.json and model.safetensors (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})`;
        },
      ),
    );
    io.out(`wrote ${out}: ${architecture} (config.json, model.safetensors with ${entries.length} tensors) from ${ckpt.dir}`);
    return 0;
  },
};
