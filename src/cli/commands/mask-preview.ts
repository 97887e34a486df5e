/** `bdlc mask-preview MODEL [-n N] [--corpus PATH]`: training examples as text, with the model's masking applied. */
import { loadModelRef, nonNegativeIntFlag, parseFlags, requirePositionals, UsageError, type Command } from "./command.js";

const help = `Usage: bdlc mask-preview MODEL [options]

Print the first N training examples of MODEL (FILE.bdl or FILE.bdl:NAME) as text, built
as training builds them (sentence pairs for NSP/SOP, else packed sentences) and masked
with the model's masking block, one example per line:

  [MASK]          a token replaced by the mask token
  <orig→new>      a token replaced by a random token
  {tok}           a token left as it is but still predicted

With NSP or SOP, each line starts with the example's label.

Options:
  -n N                examples to print (default 5)
  --corpus PATH       wordnet (built in, the default), a text file, or a .jsonl file
  --tokenizer FILE    a tokenizer.json (e.g. a run folder's); without it, a tokenizer of the
                      model's kind is trained on the corpus first (slower)
  --seed N            the seed training would use (default 0)
  --epoch N           the epoch whose masks to show (default 0)
  --step N            the training step, for a masking rate that ramps (default 0)`;

export const maskPreview: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        n: { type: "string", short: "n" },
        corpus: { type: "string" },
        tokenizer: { type: "string" },
        seed: { type: "string" },
        epoch: { type: "string" },
        step: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "MODEL", help);
    const count = nonNegativeIntFlag("-n", values.n, 5);
    if (count < 1) throw new UsageError(`-n must be a positive integer, not '${values.n}'.`);
    const seed = nonNegativeIntFlag("--seed", values.seed, 0);
    const epoch = nonNegativeIntFlag("--epoch", values.epoch, 0);
    const step = nonNegativeIntFlag("--step", values.step, 0);
    const loaded = loadModelRef(positionals[0]!, io);
    if (!loaded) return 1;
    const { maskPreview: preview } = await import("../../app/mask-preview.js");
    const lines = preview(
      { model: loaded.model, count, corpus: values.corpus ?? "wordnet", tokenizer: values.tokenizer, seed, epoch, step },
      { note: (text) => io.err(text) },
    );
    io.out(lines.join("\n"));
    return 0;
  },
};
