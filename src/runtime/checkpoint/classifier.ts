/**
 * A fine-tuned sequence classifier as a checkpoint of this project's format (checkpoint.ts):
 * the encoder's parameters in model.safetensors as always (pooler included where the model
 * has one), so every command that reads a checkpoint reads this one too, plus
 *
 *   classifier.safetensors   the head's tensors (model/classifier.ts): `classifier.kernel`
 *                            [hidden, labels] and `classifier.bias` [labels], after a
 *                            `classifier.dense` (and `classifier.norm`) for the heads that have one
 *   tokenizer.json           the tokenizer it was fine-tuned with (an imported classifier
 *                            has one only when its Hugging Face folder had one)
 *   bdl.json                 with a `classifier` record: task, labels, pooling, seq, and the
 *                            head's kind when it is not `dense`
 *
 * The record is what tells a classifier from a pretraining checkpoint. A record without a
 * `head` (every classifier saved before there were other kinds) has the `dense` head.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { classifierHeadTable, DEFAULT_HEAD, HEAD_KINDS, POOLINGS, type HeadKind, type Pooling } from "../../model/classifier.js";
import type { ResolvedModel } from "../../model/model.js";
import { CheckpointError, saveCheckpoint, type LoadedCheckpoint } from "./checkpoint.js";
import { nonFiniteProblem } from "./finite.js";
import type { WeightMap } from "./hf-weights.js";
import { fromFloat32, readSafetensors, SafetensorsError, toFloat32 } from "./safetensors.js";

export const HEAD_FILE = "classifier.safetensors";
export const CLASSIFIER_TOKENIZER_FILE = "tokenizer.json";

/** bdl.json's `classifier` record. */
export interface ClassifierRecord {
  /** The task it was fine-tuned on (a built-in name or the file given). */
  task: string;
  /** Label names, by class id. */
  labels: string[];
  pooling: Pooling;
  /** The longest input it was fine-tuned with, [CLS] and [SEP] included. */
  seq: number;
  /** The head's kind; written only when it is not {@link DEFAULT_HEAD}, and read with {@link headOf}. */
  head?: HeadKind;
}

/** The record's head: its `head`, or the one every classifier had before the record named it. */
export function headOf(record: Pick<ClassifierRecord, "head">): HeadKind {
  return record.head ?? DEFAULT_HEAD;
}

export interface LoadedClassifier {
  record: ClassifierRecord;
  /** The head's tensors, under the names of model/classifier.ts. */
  head: WeightMap;
}

/**
 * Writes the classifier into `dir` atomically: `weights` holds the model's parameter table
 * and the head's tensors; `tokenizer` is the tokenizer.json's text (null: none is written).
 */
export function saveClassifierCheckpoint(
  dir: string,
  model: ResolvedModel,
  weights: WeightMap,
  record: ClassifierRecord,
  tokenizer: string | null,
  meta: Record<string, unknown> = {},
): void {
  const shapes = classifierHeadTable(model, headOf(record), record.labels.length);
  const heads = new Set(shapes.map((s) => s.name));
  const encoder: WeightMap = new Map([...weights].filter(([name]) => !heads.has(name)));
  const entries = shapes.map(({ name, shape }) => {
    const w = weights.get(name);
    if (!w || w.shape.join(",") !== shape.join(","))
      throw new CheckpointError(`cannot save the classifier: head tensor '${name}' must be [${shape.join(", ")}]`);
    return fromFloat32(name, shape, w.values);
  });
  saveCheckpoint(dir, model, encoder, {
    meta: { ...meta, classifier: record },
    files: { [HEAD_FILE]: { safetensors: entries }, ...(tokenizer !== null ? { [CLASSIFIER_TOKENIZER_FILE]: tokenizer } : {}) },
  });
}

function recordProblem(x: unknown): string | null {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return "not an object";
  const r = x as Record<string, unknown>;
  if (typeof r["task"] !== "string") return "'task' is not a string";
  const labels = r["labels"];
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === "string"))
    return "'labels' is not a list of at least two label names";
  if (new Set(labels).size !== labels.length) return "'labels' names a label twice";
  if (!(POOLINGS as readonly unknown[]).includes(r["pooling"])) return `'pooling' is not one of ${POOLINGS.join(", ")}`;
  if (!Number.isSafeInteger(r["seq"]) || (r["seq"] as number) < 3) return "'seq' is not an integer of at least 3";
  if (r["head"] !== undefined && !(HEAD_KINDS as readonly unknown[]).includes(r["head"]))
    return `'head' is not one of ${HEAD_KINDS.join(", ")}`;
  return null;
}

/** Whether a checkpoint's bdl.json has a `classifier` record (a fine-tuned classifier, not a pretraining checkpoint). */
export function isClassifier(ckpt: LoadedCheckpoint): boolean {
  return ckpt.meta["classifier"] !== undefined;
}

/** The classifier of a loaded checkpoint: its record and head, checked against the model; refused when it has none. */
export function readClassifier(ckpt: LoadedCheckpoint): LoadedClassifier {
  const metaPath = path.join(ckpt.dir, "bdl.json");
  if (!isClassifier(ckpt))
    throw new CheckpointError(
      `${ckpt.dir} is a pretraining checkpoint, not a classifier (${metaPath} has no 'classifier' record): make one with bdlc finetune CKPT --task TASK --out DIR`,
    );
  const problem = recordProblem(ckpt.meta["classifier"]);
  if (problem) throw new CheckpointError(`${metaPath}: 'classifier' is not a classifier record: ${problem}`);
  const record = ckpt.meta["classifier"] as ClassifierRecord;
  if (record.pooling === "pooler" && ckpt.model.pooler !== "tanh")
    throw new CheckpointError(`${metaPath}: the classifier reads the pooler, but model '${ckpt.model.name}' has none`);
  const file = path.join(ckpt.dir, HEAD_FILE);
  if (!fs.existsSync(file)) throw new CheckpointError(`${ckpt.dir}: missing ${HEAD_FILE}, the classifier's head`);
  let tensors;
  try {
    tensors = readSafetensors(file).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message, { cause: e });
    throw e;
  }
  const shapes = classifierHeadTable(ckpt.model, headOf(record), record.labels.length);
  const head: WeightMap = new Map();
  for (const { name, shape } of shapes) {
    const entry = tensors.get(name);
    if (!entry) throw new CheckpointError(`${file}: missing tensor '${name}'`);
    if (entry.dtype !== "F32") throw new CheckpointError(`${file}: tensor '${name}' is ${entry.dtype}; checkpoints hold F32`);
    if (entry.shape.join(",") !== shape.join(","))
      throw new CheckpointError(
        `${file}: tensor '${name}' is [${entry.shape.join(", ")}], but a ${headOf(record)} head of ${record.labels.length} labels on hidden ${ckpt.model.hidden} needs [${shape.join(", ")}]`,
      );
    const values = toFloat32(entry);
    const nonFinite = nonFiniteProblem(values);
    if (nonFinite) throw new CheckpointError(`${file}: tensor '${name}' holds ${nonFinite}; weights must be finite`);
    head.set(name, { shape: shape.slice(), values });
  }
  const others = [...tensors.keys()].filter((n) => !head.has(n));
  if (others.length > 0)
    throw new CheckpointError(`${file}: holds tensors a classifier head does not have: ${others.slice(0, 5).join(", ")}`);
  return { record, head };
}
