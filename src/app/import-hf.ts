/**
 * A Hugging Face checkpoint (config.json + model.safetensors; for a model with a generator, a
 * folder of two: generator/ and discriminator/) saved as a checkpoint of a `.bdl`
 * model: the folder is read against the model (hf-folder.ts), then written atomically. A
 * folder of the model's family's `…ForSequenceClassification` class is saved as a fine-tuned
 * classifier, in the layout `bdlc finetune --out` gives DIR/classifier/
 * (runtime/checkpoint/classifier.ts), at `out` itself.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { saveCheckpoint } from "../runtime/checkpoint/checkpoint.js";
import { CLASSIFIER_TOKENIZER_FILE, saveClassifierCheckpoint, type ClassifierRecord } from "../runtime/checkpoint/classifier.js";
import { DEFAULT_HEAD, type HeadKind, type Pooling } from "../model/classifier.js";
import { parameterTable } from "../model/parameters.js";
import type { ResolvedModel } from "../model/model.js";
import { isHfClassifierFolder, readHfClassifier, readHfWeights } from "./hf-folder.js";
import { InputError } from "./input-error.js";
import { loadTokenizerFor } from "./tokenizer-lookup.js";
import { asInputErrors } from "./user-errors.js";

export interface ImportHfOptions {
  /** The Hugging Face folder. */
  dir: string;
  model: ResolvedModel;
  teacher: ResolvedModel | null;
  /** The checkpoint folder to write. */
  out: string;
}

export interface ImportHfResult {
  tensors: number;
  parameters: number;
  /** Set when the folder was a `…ForSequenceClassification` one, saved as a classifier. */
  classifier?: {
    architecture: string;
    labels: string[];
    head: HeadKind;
    pooling: Pooling;
    /** The model the classifier was saved with (its encoder without pretraining heads). */
    model: string;
    /** The folder's tokenizer.json, copied beside the classifier, or null when it has none. */
    tokenizer: string | null;
  };
}

export function importHf(o: ImportHfOptions): ImportHfResult {
  if (isHfClassifierFolder(o.dir)) return importClassifier(o);
  // A teacher is recorded when it changes nothing in the table: a learned cosine projection
  // to a wider teacher is not in any Hugging Face checkpoint.
  const teacher = o.teacher && parameterTable(o.model, o.teacher).length === parameterTable(o.model).length ? o.teacher : null;
  const weights = readHfWeights(o.dir, o.model);
  asInputErrors(() => saveCheckpoint(o.out, o.model, weights, { teacher }));
  return { tensors: weights.size, parameters: count(weights.values()) };
}

/**
 * A `…ForSequenceClassification` folder as a classifier checkpoint: the encoder in
 * model.safetensors, the head in classifier.safetensors, bdl.json's `classifier` record (the
 * labels of id2label; the task config.json's `finetuning_task`, or the folder; the class's
 * pooling and head; the longest input the model takes), and the folder's tokenizer.json.
 */
function importClassifier(o: ImportHfOptions): ImportHfResult {
  const c = readHfClassifier(o.dir, o.model);
  const seq = Math.min(c.model.train.seq, c.model.embeddings.positions);
  if (seq < 3)
    throw new InputError(`model '${o.model.name}' takes ${seq} tokens at most; a classifier's input needs [CLS], a token and [SEP]`);
  const tokenizerFile = path.join(o.dir, CLASSIFIER_TOKENIZER_FILE);
  let tokenizer: string | null = null;
  if (existsSync(tokenizerFile)) {
    loadTokenizerFor(tokenizerFile, c.model);
    tokenizer = readFileSync(tokenizerFile, "utf8");
  }
  const record: ClassifierRecord = {
    task: c.task ?? o.dir,
    labels: c.labels,
    pooling: c.pooling,
    seq,
    ...(c.head !== DEFAULT_HEAD ? { head: c.head } : {}),
  };
  asInputErrors(() => saveClassifierCheckpoint(o.out, c.model, c.weights, record, tokenizer));
  return {
    tensors: c.weights.size,
    parameters: count(c.weights.values()),
    classifier: {
      architecture: c.architecture,
      labels: c.labels,
      head: c.head,
      pooling: c.pooling,
      model: c.model.name,
      tokenizer: tokenizer === null ? null : tokenizerFile,
    },
  };
}

function count(weights: Iterable<{ values: Float32Array }>): number {
  let n = 0;
  for (const w of weights) n += w.values.length;
  return n;
}
