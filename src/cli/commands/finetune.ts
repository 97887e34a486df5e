/** `bdlc finetune CKPT --task TASK [--out DIR]`: fine-tune and evaluate a sequence classifier. */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadGraph } from "../../app/graph-loader.js";
import {
  BACKEND_FLAG_HELP, nonNegativeIntFlag, parseFlags, positiveIntFlag, requirePositionals, startBackend, UsageError, writeAtomically, type Command,
} from "./command.js";
import { interruptHandler, stopNotice } from "./interrupt.js";
import { findTokenizer } from "./eval.js";

export const DEFAULTS = { epochs: 1, batch: 32, lr: 5e-4, seed: 0, maxExamples: 10000, maxTest: 2000, seq: 64 } as const;

const help = `Usage: bdlc finetune CKPT --task TASK [options]

Fine-tune a sequence classifier on TASK and evaluate it on the task's test split (a fixed
10% of the examples): accuracy and macro-F1. The classifier is the checkpoint's encoder
plus a head: the pooler's output when the model has a pooler, else the [CLS] hidden state,
then dropout and a dense layer to the labels. Texts are tokenized with the run's tokenizer
as [CLS] text [SEP]. AdamW, warmup over the first 10% of the steps, then linear decay.

CKPT is a checkpoint folder or a \`bdlc train --out\` run folder (its latest checkpoint).
TASK is wordnet-lexname (built in: a WordNet gloss → its lexicographer class, 45 labels),
or a .csv file with columns text and label, or a .jsonl file of {"text": …, "label": …}.

Options:
  --task TASK         the classification task (required)
  --out DIR           write DIR/finetune.json with the settings and results
                      (default: print only)
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
                      the model has a pooler) or cls (the [CLS] hidden state)
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
    if (values.task === undefined) throw new UsageError(`missing --task TASK (wordnet-lexname, or a .csv or .jsonl file of text and label).\n\n${help}`);
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
    if (pooling !== undefined && pooling !== "pooler" && pooling !== "cls") throw new UsageError(`--pooling must be pooler or cls, not '${pooling}'.`);
    const out = values.out;
    if (out !== undefined) {
      try {
        if (!statSync(out).isDirectory()) throw new UsageError(`--out ${out}: exists and is not a folder`);
      } catch (e) {
        if (e instanceof UsageError) throw e;
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new UsageError(`--out ${out}: cannot use it (${(e as NodeJS.ErrnoException).code})`);
      }
    }

    const [checkpoint, tasks, tokenizers, ft, init, parameters, progressMod, backends] = await Promise.all([
      import("../../app/checkpoint.js"),
      import("../../runtime/data/tasks.js"),
      import("../../runtime/tokenizers/index.js"),
      import("../../runtime/train/finetune.js"),
      import("../../runtime/init.js"),
      import("../../model/parameters.js"),
      import("../../runtime/train/progress.js"),
      import("../../runtime/backends/backend.js"),
    ]);
    const progress = io.isTerminal ? progressMod.terminalProgress(process.stderr) : progressMod.lineProgress((l) => io.err(l));
    const interrupt = interruptHandler((signal) => progress.message(stopNotice(signal, "stopping after this step, writing nothing")));
    try {
      // Cheap checks first: the task file and the checkpoint, before compiling anything.
      const task = tasks.loadTask(values.task);
      const loaded = checkpoint.loadValidCheckpoint(ckpt);
      const model = loaded.model;
      const tokenizerPath = findTokenizer(ckpt, loaded.dir, values.tokenizer);
      const tokenizer = tokenizers.loadTokenizer(tokenizerPath);
      if (tokenizer.vocabSize !== model.vocab) {
        throw new UsageError(`${tokenizerPath} has ${tokenizer.vocabSize} tokens; the checkpoint's model '${model.name}' has vocab ${model.vocab}`);
      }
      const seq = Math.min(seqFlag, model.train.seq, model.embeddings.positions);
      const backend = await startBackend(backends, values.backend);
      const { graph } = await loadGraph(model, null);
      const weights = fromScratch ? init.initialWeights(parameters.parameterTable(model), seed, model.special["pad"] ?? 0) : loaded.weights;
      progress.message(`${fromScratch ? "from scratch" : `from ${loaded.dir}`}: model ${model.name}, task ${task.name}, backend ${backend}`);
      interrupt.arm();
      const r = await ft.finetune({
        model,
        graph,
        weights,
        tokenizer,
        task,
        epochs,
        batch,
        lr,
        seed,
        maxExamples,
        maxTest,
        seq,
        ...(pooling !== undefined ? { pooling } : {}),
        progress,
        shouldStop: () => interrupt.requested,
      });
      if (r.stopped_early) {
        io.err(`interrupted after ${r.steps} steps; nothing written`);
        return interrupt.exitCode;
      }
      const record = {
        task: r.task,
        model: model.name,
        checkpoint: loaded.dir,
        from_scratch: fromScratch,
        labels: r.labels,
        examples: r.examples,
        test_examples: r.test_examples,
        steps: r.steps,
        epochs: r.epochs,
        batch: r.batch,
        lr: r.lr,
        seq: r.seq,
        seed: r.seed,
        pooling: r.pooling,
        first_loss: r.first_loss,
        last_loss: r.last_loss,
        accuracy: r.accuracy,
        macro_f1: r.macro_f1,
        seconds: r.seconds,
        inference_tokens_per_s: r.inference_tokens_per_s,
        backend,
      };
      let written: string | null = null;
      if (out !== undefined) {
        try {
          mkdirSync(out, { recursive: true });
        } catch (e) {
          throw new UsageError(`cannot create '${out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        written = join(out, "finetune.json");
        writeAtomically(written, JSON.stringify(record, null, 2) + "\n");
      }
      if (values.json) io.out(JSON.stringify(record));
      else {
        io.out(
          [
            `fine-tuned ${model.name} ${fromScratch ? "from scratch" : "from its checkpoint"} on ${task.name}: ${r.examples} examples, ${r.steps} steps in ${Math.round(r.seconds)} s, loss ${r.first_loss?.toFixed(3)} → ${r.last_loss?.toFixed(3)}`,
            `test accuracy ${(100 * r.accuracy).toFixed(1)}%, macro-F1 ${r.macro_f1.toFixed(3)} (${r.test_examples} test examples, ${r.labels.length} labels); inference ${Math.round(r.inference_tokens_per_s)} tokens/s on ${backend}`,
            ...(written ? [`wrote ${written}`] : []),
          ].join("\n"),
        );
      }
      return 0;
    } catch (e) {
      const userErrors = [checkpoint.CheckpointError, tasks.TaskError, tokenizers.TokenizerFormatError, ft.FinetuneError];
      if (userErrors.some((kind) => e instanceof kind)) throw new UsageError((e as Error).message);
      throw e;
    } finally {
      interrupt.dispose();
    }
  },
};
