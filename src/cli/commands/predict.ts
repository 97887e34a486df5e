/** `bdlc predict DIR --text TEXT | --file F`: a fine-tuned classifier's label and probability for each text. */
import { BACKEND_FLAG_HELP, parseFlags, requirePositionals, type Command } from "./command.js";

const help = `Usage: bdlc predict DIR (--text TEXT ... | --file FILE) [options]

Classify texts with a classifier that bdlc finetune --out saved: DIR is that --out folder
(its classifier/ checkpoint) or the checkpoint folder itself, or a classifier that bdlc
import-hf read from a …ForSequenceClassification folder. Each text is tokenized with
the classifier's tokenizer as [CLS] text [SEP], cut to the length it was fine-tuned with;
prints one line per text: the most probable label, its probability, and the text.

Options:
  --text TEXT         a text to classify (repeatable)
  --file FILE         a file of texts to classify, one a line (blank lines are skipped);
                      with --text, its texts come after those
  --json              print one JSON object per text: text, label, probability and every
                      label's probability
  --tokenizer FILE    the tokenizer.json to use (default: the classifier's)
${BACKEND_FLAG_HELP}`;

export const predict: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        text: { type: "string", multiple: true },
        file: { type: "string" },
        json: { type: "boolean" },
        tokenizer: { type: "string" },
        backend: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "DIR", help);
    const { predictTexts } = await import("../../app/predict.js");
    const r = await predictTexts({
      checkpoint: positionals[0]!,
      texts: values.text ?? [],
      file: values.file,
      tokenizer: values.tokenizer,
      backend: values.backend,
    });
    for (const p of r.predictions) {
      if (values.json) io.out(JSON.stringify(p));
      else io.out(`${p.label}\t${p.probability.toFixed(4)}\t${p.text}`);
    }
    return 0;
  },
};
