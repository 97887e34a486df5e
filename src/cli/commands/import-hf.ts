/**
 * `bdlc import-hf DIR --model FILE[:NAME] --out CKPT`: a Hugging Face checkpoint
 * (config.json + model.safetensors) as a checkpoint of a `.bdl` model. The config is
 * compared with the model field by field and every difference is named; the tensors must be
 * exactly the model's (missing, unexpected and misshapen ones are named).
 */
import { importHf as importCheckpoint } from "../../app/import-hf.js";
import { loadModelRef, parseFlags, requirePositionals, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc import-hf DIR --model FILE[:NAME] --out CKPT

Read a Hugging Face checkpoint (DIR/config.json + DIR/model.safetensors) into a checkpoint
of the named .bdl model. Refuses, naming each difference, when the config disagrees with
the model (sizes, activation, LayerNorm eps, positions, token types, factorization,
sharing, pad id), and names every missing, unexpected or misshapen tensor.

A model with a generator (ELECTRA) is read from two Hugging Face folders, DIR/generator
(ElectraForMaskedLM) and DIR/discriminator (ElectraForPreTraining), as export-hf writes
them; each config is compared with its side of the model, and the embeddings the two
share must hold the same values in both.

Options:
  --model FILE[:NAME]  the model the checkpoint is for (NAME may be left out when the
                       file declares one model)
  --out CKPT           the checkpoint folder to write (replaced atomically if it exists)`;

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
    const { tensors, parameters } = importCheckpoint({ dir, model: loaded.model, teacher: loaded.teacher, out: values.out });
    io.out(`wrote ${values.out}: model '${loaded.model.name}', ${tensors} tensors, ${parameters} parameters`);
    return 0;
  },
};
