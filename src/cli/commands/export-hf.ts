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
DistilBertModel, ModernBertForMaskedLM / ModernBertModel) with no missing or unexpected
keys. Refuses a layout no transformers class has (say, a sharing group that shares only
attention).

A model with a generator (ELECTRA) is two transformers models: DIR/discriminator
(ElectraForPreTraining) and DIR/generator (ElectraForMaskedLM), each a folder of its own for
from_pretrained, both holding the shared embeddings; DIR is written atomically as a whole.

A classifier that bdlc finetune --out saved (CKPT: its --out folder or the classifier/
checkpoint in it), or that bdlc import-hf read (CKPT), is written as the family's …ForSequenceClassification, config.json with
its id2label and label2id: BertForSequenceClassification and AlbertForSequenceClassification
(the head on the pooler), RobertaForSequenceClassification (a model with \`pooler tanh\`: the
pooler is its classifier.dense), DistilBertForSequenceClassification (pre_classifier,
classifier), ElectraForSequenceClassification (classifier.dense, classifier.out_proj) and
ModernBertForSequenceClassification (head.dense, head.norm, classifier; classifier_pooling
cls). Refused, saying why: a classifier whose input is not the class's (BERT's, ALBERT's and
RoBERTa's read the pooler, the others the [CLS] state: see finetune --pooling), and a
DistilBERT, ELECTRA or ModernBERT classifier fine-tuned before bdl gave it its class's head.

With the weights goes the run's tokenizer: tokenizer.json, with tokenizer_config.json and
special_tokens_map.json naming its special tokens, so AutoTokenizer.from_pretrained(DIR)
encodes as bdl does and pipeline("fill-mask", DIR) finds the mask token. A checkpoint
whose run has no tokenizer (an imported one) is written without.

Options:
  --out DIR         the folder to write (written atomically; an existing folder is replaced
                    only when it holds nothing but a Hugging Face folder's files)
  --tokenizer FILE  the tokenizer.json to write (default: the checkpoint's run's)`;

export const exportHf: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: "string" }, tokenizer: { type: "string" } }, help);
    requirePositionals(positionals, 1, 1, "CKPT", help);
    if (values.out === undefined) throw new UsageError(`missing --out DIR.\n\n${help}`);
    const r = exportCheckpoint({ checkpoint: positionals[0]!, out: values.out, tokenizer: values.tokenizer });
    const tokenizer = r.tokenizer ? ", tokenizer.json, tokenizer_config.json, special_tokens_map.json" : "";
    for (const f of r.folders)
      io.out(`wrote ${f.dir}: ${f.architecture} (config.json, model.safetensors with ${f.tensors} tensors${tokenizer}) from ${r.from}`);
    if (!r.tokenizer) io.err(`note: ${r.from} belongs to no run with a tokenizer.json; give one with --tokenizer FILE to write it too`);
    return 0;
  },
};
