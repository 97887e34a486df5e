/**
 * A sequence classifier fine-tuned from a checkpoint (or, with `fromScratch`, from random
 * initialisation with the same tokenizer) and evaluated on the task's test split. With `out`,
 * the classifier is saved as a checkpoint in OUT/classifier/ (encoder, head, labels,
 * tokenizer, resolved model: see runtime/checkpoint/classifier.ts), then the settings and
 * results in OUT/finetune.json, each written atomically.
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadGraph } from "./graph-loader.js";
import { loadValidCheckpoint } from "./checkpoint.js";
import { CheckpointError, CLASSIFIER_FOLDER } from "../runtime/checkpoint/checkpoint.js";
import { saveClassifierCheckpoint } from "../runtime/checkpoint/classifier.js";
import { loadTask, TaskError } from "../runtime/data/tasks.js";
import { TokenizerFormatError } from "../runtime/tokenizers/index.js";
import { finetune, FinetuneError, type FinetuneResult } from "../runtime/train/finetune.js";
import { initialWeights } from "../runtime/init.js";
import { parameterTable } from "../model/parameters.js";
import { DEFAULT_HEAD } from "../model/classifier.js";
import type { Progress } from "../runtime/train/progress.js";
import { startBackend } from "./backend.js";
import { InputError } from "./input-error.js";
import { findTokenizer, loadTokenizerFor } from "./tokenizer-lookup.js";
import { inputErrorOf } from "./user-errors.js";
import { writeAtomically } from "./write-atomically.js";

export interface FinetuneCheckpointOptions {
  /** A checkpoint folder, or a run folder meaning its latest checkpoint. */
  checkpoint: string;
  /** The classification task: a built-in name, or a .csv or .jsonl file. */
  task: string;
  /** The folder for the classifier/ checkpoint and finetune.json (none: nothing is written). */
  out: string | undefined;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  maxExamples: number;
  maxTest: number;
  /** The longest input asked for; the model's train seq and positions cap it. */
  seq: number;
  pooling: "pooler" | "cls" | undefined;
  fromScratch: boolean;
  /** The tokenizer.json (default: the run folder's). */
  tokenizer: string | undefined;
  backend: string | undefined;
}

export interface FinetuneHooks {
  progress: Progress;
  /** Called when the step loop begins. */
  onStepLoop(): void;
  /** Polled between steps: true to stop, writing nothing. */
  shouldStop(): boolean;
}

/** What finetune.json holds. */
export interface FinetuneRecord {
  task: string;
  model: string;
  checkpoint: string;
  from_scratch: boolean;
  labels: FinetuneResult["labels"];
  examples: number;
  test_examples: number;
  steps: number;
  epochs: number;
  batch: number;
  lr: number;
  seq: number;
  seed: number;
  head: FinetuneResult["head"];
  pooling: FinetuneResult["pooling"];
  first_loss: FinetuneResult["first_loss"];
  last_loss: FinetuneResult["last_loss"];
  accuracy: number;
  macro_f1: number;
  seconds: number;
  inference_tokens_per_s: number;
  backend: string;
}

export type FinetuneOutcome =
  | { stopped: true; steps: number }
  | {
      stopped: false;
      model: string;
      task: string;
      record: FinetuneRecord;
      result: FinetuneResult;
      backend: string;
      written: string | null;
      /** The classifier checkpoint folder written (OUT/classifier), or null without `out`. */
      classifier: string | null;
    };

export async function finetuneCheckpoint(o: FinetuneCheckpointOptions, hooks: FinetuneHooks): Promise<FinetuneOutcome> {
  try {
    return await run(o, hooks);
  } catch (e) {
    throw inputErrorOf(e, [CheckpointError, TaskError, TokenizerFormatError, FinetuneError]);
  }
}

/** Refuses an --out that exists and is not a folder, before any work. */
function checkOutFolder(out: string): void {
  try {
    if (!statSync(out).isDirectory()) throw new InputError(`--out ${out}: exists and is not a folder`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new InputError(`--out ${out}: cannot use it (${(e as NodeJS.ErrnoException).code})`);
  }
}

async function run(o: FinetuneCheckpointOptions, hooks: FinetuneHooks): Promise<FinetuneOutcome> {
  if (o.out !== undefined) checkOutFolder(o.out);
  // Cheap checks first: the task file and the checkpoint, before compiling anything.
  const task = loadTask(o.task);
  const loaded = loadValidCheckpoint(o.checkpoint);
  const model = loaded.model;
  const tokenizerPath = findTokenizer(o.checkpoint, loaded.dir, o.tokenizer);
  const tokenizer = loadTokenizerFor(tokenizerPath, model, { ofCheckpoint: true });
  const seq = Math.min(o.seq, model.train.seq, model.embeddings.positions);
  const backend = await startBackend(o.backend);
  const { graph } = await loadGraph(model, null);
  const weights = o.fromScratch ? initialWeights(parameterTable(model), o.seed, model.special["pad"] ?? 0) : loaded.weights;
  hooks.progress.message(
    `${o.fromScratch ? "from scratch" : `from ${loaded.dir}`}: model ${model.name}, task ${task.name}, backend ${backend}`,
  );
  hooks.onStepLoop();
  const r = await finetune({
    model,
    graph,
    weights,
    tokenizer,
    task,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    seed: o.seed,
    maxExamples: o.maxExamples,
    maxTest: o.maxTest,
    seq,
    ...(o.pooling !== undefined ? { pooling: o.pooling } : {}),
    progress: hooks.progress,
    shouldStop: hooks.shouldStop,
    keepWeights: o.out !== undefined,
  });
  if (r.stopped_early) return { stopped: true, steps: r.steps };
  const record: FinetuneRecord = {
    task: r.task,
    model: model.name,
    checkpoint: loaded.dir,
    from_scratch: o.fromScratch,
    labels: r.labels,
    examples: r.examples,
    test_examples: r.test_examples,
    steps: r.steps,
    epochs: r.epochs,
    batch: r.batch,
    lr: r.lr,
    seq: r.seq,
    seed: r.seed,
    head: r.head,
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
  let classifier: string | null = null;
  if (o.out !== undefined) {
    try {
      mkdirSync(o.out, { recursive: true });
    } catch (e) {
      throw new InputError(`cannot create '${o.out}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    classifier = join(o.out, CLASSIFIER_FOLDER);
    // The tokenizer goes with the classifier, so that predict and export-hf need nothing else.
    const tokenizerText = readFileSync(tokenizerPath, "utf8");
    // The head is named only when it is not the one every classifier had before the record named it.
    const classifierRecord = {
      task: r.task,
      labels: r.labels,
      pooling: r.pooling,
      seq: r.seq,
      ...(r.head !== DEFAULT_HEAD ? { head: r.head } : {}),
    };
    saveClassifierCheckpoint(classifier, model, r.weights!, classifierRecord, tokenizerText);
    written = join(o.out, "finetune.json");
    writeAtomically(written, JSON.stringify(record, null, 2) + "\n");
  }
  return { stopped: false, model: model.name, task: task.name, record, result: r, backend, written, classifier };
}
