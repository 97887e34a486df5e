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
    const model = loaded.model;
    const maskId = model.special["mask"];
    if (maskId === undefined) throw new UsageError(`model '${model.name}' declares no 'mask' special token, so it has no masking to preview`);

    const [data, examplesMod, masking, tokenizers] = await Promise.all([
      import("../../runtime/data/corpus.js"),
      import("../../runtime/data/examples.js"),
      import("../../runtime/data/masking.js"),
      import("../../runtime/tokenizers/index.js"),
    ]);
    try {
      const corpus = data.loadCorpus(values.corpus ?? "wordnet");
      const { train: trainDocs } = data.splitHeldOut(corpus.documents, 0.01);
      let tokenizer;
      if (values.tokenizer !== undefined) {
        tokenizer = tokenizers.loadTokenizer(values.tokenizer);
        if (tokenizer.vocabSize !== model.vocab) {
          throw new UsageError(`${values.tokenizer} has ${tokenizer.vocabSize} tokens; model '${model.name}' has vocab ${model.vocab}`);
        }
      } else {
        io.err(`note: no --tokenizer given: training a ${model.tokenizer.kind} tokenizer (vocab ${model.vocab}) on the ${trainDocs.length} training documents of ${corpus.name}…`);
        tokenizer = tokenizers.trainTokenizer(
          model.tokenizer.kind,
          trainDocs.flatMap((d) => d.sentences),
          { vocabSize: model.vocab, lowercase: model.tokenizer.lowercase, special: model.special },
        );
      }
      const pairs = examplesMod.sentencePairsFor(model);
      const options = { seq: model.train.seq, special: model.special, sentencePairs: pairs, seed };
      // The first documents of the training split, more of them until there are enough examples.
      let docs = Math.min(trainDocs.length, Math.max(8, 2 * count));
      let examples = examplesMod.buildExamples(trainDocs.slice(0, docs), (t) => tokenizer.encode(t), options);
      while (examples.length < count && docs < trainDocs.length) {
        docs = Math.min(trainDocs.length, docs * 4);
        examples = examplesMod.buildExamples(trainDocs.slice(0, docs), (t) => tokenizer.encode(t), options);
      }
      if (examples.length === 0) throw new UsageError(`corpus '${corpus.name}' yields no training examples for model '${model.name}'`);
      if (examples.length < count) io.err(`note: corpus '${corpus.name}' yields only ${examples.length} example(s)`);
      const labelText = (label: number): string =>
        pairs === "nsp" ? `nsp ${label} (${label === 1 ? "random B" : "B follows A"})` : `sop ${label} (${label === 1 ? "swapped" : "in order"})`;
      const lines = examples.slice(0, count).map((ex, index) => {
        const masked = masking.maskExample(ex, model.masking, { seed, epoch, index, step, vocab: model.vocab, special: model.special });
        const text = masking.describeMasked(masked, (id) => tokenizer.idToToken(id), maskId);
        return masked.sentenceLabel !== undefined && pairs !== null ? `[${labelText(masked.sentenceLabel)}] ${text}` : text;
      });
      io.out(lines.join("\n"));
      return 0;
    } catch (e) {
      const userErrors = [data.CorpusError, tokenizers.TokenizerTrainingError, tokenizers.TokenizerFormatError];
      if (userErrors.some((kind) => e instanceof kind)) throw new UsageError((e as Error).message);
      throw e;
    }
  },
};
