/** `bdlc finetune CKPT --task TASK [--out DIR]`: fine-tune and evaluate a sequence classifier. */
import {
  BACKEND_FLAG_HELP,
  nonNegativeIntFlag,
  parseFlags,
  positiveIntFlag,
  requirePositionals,
  UsageError,
  type Command,
} from "./command.js";
import { interruptHandler, stopNotice } from "./interrupt.js";

export const DEFAULTS = { epochs: 1, batch: 32, lr: 5e-4, seed: 0, maxExamples: 10000, maxTest: 2000, seq: 64 } as const;

const help = `Usage: bdlc finetune CKPT --task TASK [options]

Fine-tune a sequence classifier on TASK and evaluate it on the task's test split (a fixed
10% of the examples): accuracy and macro-F1. The classifier is the checkpoint's encoder
plus the head of its family's …ForSequenceClassification: for BERT, ALBERT and RoBERTa,
dropout and a dense layer to the labels on the pooler's output when the model has a
pooler, else on the [CLS] hidden state; on the [CLS] state, DistilBERT's dense, ReLU,
dropout, dense; ELECTRA's dropout, dense, GELU, dropout, dense; ModernBERT's dense,
activation, LayerNorm, dropout, dense. Texts are tokenized with the run's tokenizer
as [CLS] text [SEP]. AdamW, warmup over the first 10% of the steps, then linear decay.

CKPT is a checkpoint folder or a \`bdlc train --out\` run folder (its latest checkpoint).
TASK is wordnet-lexname (built in: a WordNet gloss → its lexicographer class, 45 labels),
or a .csv file with columns text and label, or a .jsonl file of {"text": …, "label": …}.

Options:
  --task TASK         the classification task (required)
  --out DIR           save the classifier as a checkpoint in DIR/classifier/ (encoder,
                      head, labels, tokenizer; for bdlc predict and export-hf) and
                      DIR/finetune.json with the settings and results (default: print only)
  --epochs N          passes over the training examples (default ${DEFAULTS.epochs})
  --batch N           examples per step (default ${DEFAULTS.batch})
  --lr X              peak learning rate, head and encoder (default 5e-4)
  --seed N            seed for the sample, order, head init and dropout (default ${DEFAULTS.seed})
  --max-examples N    train on at most N examples, a seeded sample (default ${DEFAULTS.maxExamples}:
                      with the other defaults, ${Math.ceil(DEFAULTS.maxExamples / DEFAULTS.batch)} steps, a few minutes for bert-mini on a CPU)
  --max-test N        evaluate on at most N test examples, a fixed sample (default ${DEFAULTS.maxTest})
  --seq N             longest input in tokens, [CLS] and [SEP] included (default ${DEFAULTS.seq},
                      and at most the model's train seq)
  --pooling P         what the head reads: pooler (the pooler's output; the default when
                      the model has a pooler and its head is one dense layer) or cls
                      (the [CLS] hidden state)
  --from-scratch      the same classifier and budget, but the encoder starts from random
                      initialisation instead of the checkpoint's weights (same tokenizer)
  --tokenizer FILE    the tokenizer.json to use (default: the run folder's)
${BACKEND_FLAG_HELP}
  --json              print the results as one JSON object`;

export const finetuneCommand: Command = {
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        task: { type: "string" },
        out: { type: "string" },
        epochs: { type: "string" },
        batch: { type: "string" },
        lr: { type: "string" },
        seed: { type: "string" },
        "max-examples": { type: "string" },
        "max-test": { type: "string" },
        seq: { type: "string" },
        "from-scratch": { type: "boolean" },
        pooling: { type: "string" },
        tokenizer: { type: "string" },
        json: { type: "boolean" },
        backend: { type: "string" },
      },
      help,
    );
    requirePositionals(positionals, 1, 1, "CKPT", help);
    const ckpt = positionals[0]!;
    if (values.task === undefined)
      throw new UsageError(`missing --task TASK (wordnet-lexname, or a .csv or .jsonl file of text and label).\n\n${help}`);
    const epochs = positiveIntFlag("--epochs", values.epochs, DEFAULTS.epochs);
    const batch = positiveIntFlag("--batch", values.batch, DEFAULTS.batch);
    const maxExamples = positiveIntFlag("--max-examples", values["max-examples"], DEFAULTS.maxExamples);
    const maxTest = positiveIntFlag("--max-test", values["max-test"], DEFAULTS.maxTest);
    const seqFlag = positiveIntFlag("--seq", values.seq, DEFAULTS.seq);
    if (seqFlag < 3) throw new UsageError(`--seq must be at least 3 ([CLS], a token, [SEP]), not ${seqFlag}.`);
    const lr = values.lr === undefined ? DEFAULTS.lr : Number(values.lr);
    if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`--lr must be a positive number, not '${values.lr}'.`);
    const seed = nonNegativeIntFlag("--seed", values.seed, DEFAULTS.seed);
    const fromScratch = values["from-scratch"] ?? false;
    const pooling = values.pooling;
    if (pooling !== undefined && pooling !== "pooler" && pooling !== "cls")
      throw new UsageError(`--pooling must be pooler or cls, not '${pooling}'.`);

    const [{ finetuneCheckpoint }, progressMod] = await Promise.all([
      import("../../app/finetune-checkpoint.js"),
      import("../../runtime/train/progress.js"),
    ]);
    const progress = io.isTerminal ? progressMod.terminalProgress(process.stderr) : progressMod.lineProgress((l) => io.err(l));
    const interrupt = interruptHandler((signal) => progress.message(stopNotice(signal, "stopping after this step, writing nothing")));
    try {
      const outcome = await finetuneCheckpoint(
        {
          ...{
            checkpoint: ckpt,
            task: values.task,
            out: values.out,
            epochs,
            batch,
            lr,
            seed,
            maxExamples,
            maxTest,
            seq: seqFlag,
            pooling,
            fromScratch,
          },
          ...{ tokenizer: values.tokenizer, backend: values.backend },
        },
        { progress, onStepLoop: () => interrupt.arm(), shouldStop: () => interrupt.requested },
      );
      if (outcome.stopped) {
        io.err(`interrupted after ${outcome.steps} steps; nothing written`);
        return interrupt.exitCode;
      }
      const { record, result: r, backend, written, classifier } = outcome;
      if (values.json) io.out(JSON.stringify(record));
      else {
        io.out(
          [
            `fine-tuned ${outcome.model} ${fromScratch ? "from scratch" : "from its checkpoint"} on ${outcome.task}: ${r.examples} examples, ${r.steps} steps in ${Math.round(r.seconds)} s, loss ${r.first_loss?.toFixed(3)} → ${r.last_loss?.toFixed(3)}`,
            `test accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${r.macro_f1.toFixed(3)} (${r.test_examples} test examples, ${r.labels.length} labels); inference ${Math.round(r.inference_tokens_per_s)} tokens/s on ${backend}`,
            ...(classifier ? [`saved the classifier in ${classifier}`] : []),
            ...(written ? [`wrote ${written}`] : []),
          ].join("\n"),
        );
      }
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
};
