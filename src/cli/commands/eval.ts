/** `bdlc eval CKPT [--corpus PATH]`: held-out masked-LM loss, accuracy and perplexity of a checkpoint. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadGraph } from "../../app/graph-loader.js";
import { BACKEND_FLAG_HELP, parseFlags, positiveIntFlag, requirePositionals, startBackend, UsageError, type Command } from "./command.js";
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


/**
 * The tokenizer.json of the run a checkpoint belongs to: `CKPT/tokenizer.json` (a run folder,
 * or a checkpoint folder that carries its own), or the run folder two levels above a
 * `checkpoints/step-N` folder. `explicit` (a --tokenizer flag) wins. Throws a UsageError
 * naming the places it looked.
 */
export function findTokenizer(ckpt: string, checkpointDir: string, explicit: string | undefined): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new UsageError(`${explicit}: no such tokenizer file`);
    return explicit;
  }
  const candidates = [join(ckpt, "tokenizer.json"), join(checkpointDir, "tokenizer.json"), join(dirname(dirname(resolve(checkpointDir))), "tokenizer.json")];
  const unique = [...new Set(candidates.map((c) => resolve(c)))];
  for (const c of unique) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not there: try the next place
    }
  }
  throw new UsageError(`no tokenizer.json for ${ckpt}: looked in ${unique.join(", ")}; give one with --tokenizer FILE`);
}

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

    const [checkpoint, data, examplesMod, tokenizers, evaluate, backends] = await Promise.all([
      import("../../app/checkpoint.js"),
      import("../../runtime/data/corpus.js"),
      import("../../runtime/data/examples.js"),
      import("../../runtime/tokenizers/index.js"),
      import("../../runtime/train/evaluate.js"),
      import("../../runtime/backends/backend.js"),
    ]);
    const interrupt = interruptHandler((signal) => io.err(stopNotice(signal, "stopping after this batch, printing nothing")));
    try {
      const loaded = checkpoint.loadValidCheckpoint(ckpt);
      await startBackend(backends, values.backend);
      const model = loaded.model;
      const tokenizerPath = findTokenizer(ckpt, loaded.dir, values.tokenizer);
      const recorded = typeof loaded.meta["corpus"] === "string" ? (loaded.meta["corpus"] as string) : undefined;
      const corpusSpec = values.corpus ?? recorded ?? "wordnet";
      let corpus;
      try {
        corpus = data.loadCorpus(corpusSpec);
      } catch (e) {
        if (e instanceof data.CorpusError && values.corpus === undefined) {
          throw new UsageError(`${e.message} (the checkpoint was trained on corpus '${corpusSpec}'; give another with --corpus PATH)`);
        }
        throw e;
      }
      const tokenizer = tokenizers.loadTokenizer(tokenizerPath);
      if (tokenizer.vocabSize !== model.vocab) {
        throw new UsageError(`${tokenizerPath} has ${tokenizer.vocabSize} tokens; the checkpoint's model '${model.name}' has vocab ${model.vocab}`);
      }
      const { graph } = await loadGraph(model, null);
      if (!graph.mlmLogits) throw new UsageError(`model '${model.name}' has no MLM head to evaluate`);
      const seed = typeof loaded.meta["seed"] === "number" ? (loaded.meta["seed"] as number) : 0;
      const { heldOut } = data.splitHeldOut(corpus.documents, 0.01);
      const examples = examplesMod
        .buildExamples(heldOut, (t) => tokenizer.encode(t), { seq: model.train.seq, special: model.special, sentencePairs: null, seed })
        .slice(0, maxExamples);
      if (examples.length === 0) throw new UsageError(`corpus '${corpus.name}' has no held-out sequences to evaluate on`);
      const { tf } = await import("../../runtime/backends/tf.js");
      const tensors = new Map([...loaded.weights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)]));
      let result;
      interrupt.arm();
      io.err(`evaluating ${examples.length} held-out sequences of corpus '${corpus.name}'…`);
      try {
        result = await evaluate.evaluateMlm(graph, graph.bindParams((n) => tensors.get(n)), examples, model.masking, {
          seed,
          batch: evaluate.evalBatchSize(model.train.seq),
          padId: model.special["pad"] ?? 0,
          withSegments: model.embeddings.segments > 0,
          shouldStop: () => interrupt.requested,
        });
      } finally {
        for (const t of tensors.values()) t.dispose();
      }
      if (result === null) {
        io.err(`interrupted before the last of ${examples.length} held-out sequences; no result printed`);
        return interrupt.exitCode;
      }
      if (values.json) {
        io.out(
          JSON.stringify({
            checkpoint: loaded.dir,
            model: model.name,
            step: loaded.meta.step ?? null,
            corpus: corpus.name,
            seed,
            mlm_loss: result.mlm_loss,
            mlm_accuracy: result.mlm_accuracy,
            perplexity: result.perplexity,
            predicted: result.predicted,
            examples: result.examples,
          }),
        );
      } else {
        io.out(
          `held-out MLM loss ${result.mlm_loss.toFixed(3)}, accuracy ${(100 * result.mlm_accuracy).toFixed(1)}%, perplexity ${result.perplexity.toFixed(1)} ` +
            `(${result.predicted} predicted tokens in ${result.examples} sequences)`,
        );
      }
      return 0;
    } catch (e) {
      const userErrors = [checkpoint.CheckpointError, data.CorpusError, tokenizers.TokenizerFormatError];
      if (userErrors.some((kind) => e instanceof kind)) throw new UsageError((e as Error).message);
      throw e;
    } finally {
      interrupt.dispose();
    }
  },
};
