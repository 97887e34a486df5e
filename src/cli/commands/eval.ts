/** `bdlc eval CKPT [--corpus PATH]`: held-out masked-LM loss, accuracy and perplexity of a checkpoint. */
import { BACKEND_FLAG_HELP, parseFlags, positiveIntFlag, requirePositionals, type Command } from "./command.js";
import { interruptHandler, stopNotice } from "./interrupt.js";

const help = `Usage: bdlc eval CKPT [options]

Evaluate a checkpoint (a checkpoint folder, or a \`bdlc train --out\` run folder meaning its
latest checkpoint) on the held-out split of its corpus, as training does: the same 1% of
documents, packed into sequences of the model's train seq, masked with the model's masking
at its starting rate, the masks drawn from the checkpoint's seed. Prints the masked-LM loss,
accuracy and perplexity. Ctrl-C stops it without printing a partial result (exit 130).

Options:
  --corpus PATH       wordnet (built in), a text file or a .jsonl file
                      (default: the corpus the checkpoint was trained on, else wordnet)
  --tokenizer FILE    the tokenizer.json to use (default: the run folder's)
  --examples N        evaluate at most N held-out sequences (default 512, as training does)
${BACKEND_FLAG_HELP}
  --json              print one JSON object instead of a sentence`;

export const evalCommand: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        corpus: { type: "string" },
        tokenizer: { type: "string" },
        examples: { type: "string" },
        json: { type: "boolean" },
        backend: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "CKPT", help);
    const ckpt = positionals[0]!;
    const maxExamples = positiveIntFlag("--examples", values.examples, 512);

    const { evalCheckpoint } = await import("../../app/eval-checkpoint.js");
    const interrupt = interruptHandler((signal) => io.err(stopNotice(signal, "stopping after this batch, printing nothing")));
    try {
      const r = await evalCheckpoint(
        { checkpoint: ckpt, corpus: values.corpus, tokenizer: values.tokenizer, maxExamples, backend: values.backend },
        {
          onStepLoop: (examples, corpus) => {
            interrupt.arm();
            io.err(`evaluating ${examples} held-out sequences of corpus '${corpus}'…`);
          },
          shouldStop: () => interrupt.requested,
        },
      );
      const result = r.metrics;
      if (result === null) {
        io.err(`interrupted before the last of ${r.examples} held-out sequences; no result printed`);
        return interrupt.exitCode;
      }
      if (values.json) {
        io.out(
          JSON.stringify({
            checkpoint: r.checkpoint,
            model: r.model,
            step: r.step,
            corpus: r.corpus,
            seed: r.seed,
            mlm_loss: result.mlm_loss,
            mlm_accuracy: result.mlm_accuracy,
            perplexity: result.perplexity,
            predicted: result.predicted,
            examples: result.examples,
            ...(result.rtd_loss === undefined
              ? {}
              : { rtd_loss: result.rtd_loss, rtd_accuracy: result.rtd_accuracy, replaced: result.replaced }),
          }),
        );
      } else {
        io.out(
          // A model with a generator: the MLM is the generator's.
          `held-out ${result.rtd_loss === undefined ? "" : "generator "}MLM loss ${result.mlm_loss.toFixed(3)}, accuracy ${(100 * result.mlm_accuracy).toFixed(1)}%, perplexity ${result.perplexity.toFixed(1)} ` +
            `(${result.predicted} predicted tokens in ${result.examples} sequences)`,
        );
        if (result.rtd_loss !== undefined) {
          io.out(
            `held-out replaced-token detection loss ${result.rtd_loss.toFixed(3)}, accuracy ${(100 * result.rtd_accuracy!).toFixed(1)}% ` +
              `(${(100 * result.replaced!).toFixed(1)}% of tokens replaced by the generator)`,
          );
        }
      }
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
};
