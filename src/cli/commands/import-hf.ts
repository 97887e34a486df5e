/**
 * `bdlc import-hf DIR --model FILE[:NAME] --out CKPT`: a Hugging Face checkpoint
 * (config.json + model.safetensors) as a checkpoint of a `.bdl` model. The config is
 * compared with the model field by field and every difference is named; the tensors must be
 * exactly the model's (missing, unexpected and misshapen ones are named). A folder of the
 * family's `…ForSequenceClassification` class becomes a fine-tuned classifier at CKPT.
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

A fine-tuned classifier, a folder whose config.json names the model's family's
…ForSequenceClassification class (BertForSequenceClassification, AlbertFor…,
RobertaFor…, DistilBertFor…, ElectraFor…, ModernBertFor…, as export-hf writes a
classifier), is saved at CKPT as the classifier checkpoint bdlc finetune --out saves in
DIR/classifier/: the encoder without the pretraining heads (for a model with a generator,
its discriminator), the class's head in classifier.safetensors, and bdl.json's classifier
record: the labels of config.json's id2label by class id, the class's pooling and head,
seq the model's train seq (at most its positions), task config.json's finetuning_task or
DIR; DIR/tokenizer.json is copied beside it when there is one. bdlc predict CKPT and
bdlc export-hf CKPT read it. Refused, naming the file and the key: a class that is not the
family's, an id2label that is not every class id from 0 (or disagrees with label2id or
num_labels), a problem_type other than single_label_classification, and a missing,
unexpected or misshapen tensor (the head's last layer needs a row per label).

Options:
  --model FILE[:NAME]  the model the checkpoint is for (NAME may be left out when the
                       file declares one model)
  --out CKPT           the checkpoint folder to write, a classifier's for a
                       …ForSequenceClassification folder (replaced atomically if it exists)`;

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
    const { tensors, parameters, classifier } = importCheckpoint({ dir, model: loaded.model, teacher: loaded.teacher, out: values.out });
    if (classifier) {
      const pooling = classifier.pooling === "pooler" ? "the pooler" : "the [CLS] state";
      const tokenizer = classifier.tokenizer
        ? `, with ${classifier.tokenizer}`
        : `; ${dir} has no tokenizer.json: give predict and export-hf --tokenizer FILE`;
      io.out(
        `wrote ${values.out}: ${classifier.architecture} as a classifier of model '${classifier.model}' (labels ${classifier.labels.join(", ")}; head ${classifier.head} on ${pooling}), ${tensors} tensors, ${parameters} parameters${tokenizer}`,
      );
      return 0;
    }
    io.out(`wrote ${values.out}: model '${loaded.model.name}', ${tensors} tensors, ${parameters} parameters`);
    return 0;
  },
};
