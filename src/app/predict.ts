/**
 * A fine-tuned classifier (`bdlc finetune --out`) applied to texts: each text's probability
 * of every label, as softmax of the logits fine-tuning's own evaluation computes (the same
 * function, `classify`), with the tokenizer saved beside the classifier.
 */
import { FileReadError, readTextFile } from "../io/read-file.js";
import { headOf, readClassifier } from "../runtime/checkpoint/classifier.js";
import { argMax, classify, FinetuneError } from "../runtime/train/finetune.js";
import { startBackend } from "./backend.js";
import { loadValidCheckpoint } from "./checkpoint.js";
import { loadGraph } from "./graph-loader.js";
import { InputError } from "./input-error.js";
import { findTokenizer, loadTokenizerFor } from "./tokenizer-lookup.js";
import { asInputErrors, INPUT_FILE_ERRORS, inputErrorOf } from "./user-errors.js";

/** A --file of texts larger than this is refused before it is read. */
const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

export interface PredictOptions {
  /** A classifier checkpoint folder, or the `bdlc finetune --out` folder holding it. */
  checkpoint: string;
  /** Texts given one by one (--text). */
  texts: readonly string[];
  /** A file of texts, one a line (--file); blank lines are skipped. */
  file: string | undefined;
  /** The tokenizer.json (default: the classifier's own). */
  tokenizer: string | undefined;
  backend: string | undefined;
}

export interface Prediction {
  text: string;
  /** The most probable label, and its probability. */
  label: string;
  probability: number;
  /** Every label's probability, in the classifier's label order. */
  probabilities: Record<string, number>;
}

export interface PredictResult {
  /** The classifier checkpoint folder read. */
  from: string;
  labels: string[];
  predictions: Prediction[];
  backend: string;
}

/** The texts to classify: the --text ones, then the file's non-blank lines; refused when there are none. */
function inputTexts(o: PredictOptions): string[] {
  const texts = [...o.texts];
  if (texts.some((t) => t.trim() === "")) throw new InputError("--text is empty: give a text to classify");
  if (o.file !== undefined) {
    let content: string;
    try {
      content = readTextFile(o.file, MAX_TEXT_FILE_BYTES);
    } catch (e) {
      if (e instanceof FileReadError) throw new InputError(e.message);
      throw e;
    }
    const lines = content.split(/\r?\n/).filter((l) => l.trim() !== "");
    if (lines.length === 0) throw new InputError(`${o.file} holds no text to classify (one text a line)`);
    texts.push(...lines);
  }
  if (texts.length === 0) throw new InputError("no texts to classify: give --text TEXT (one or more) or --file FILE");
  return texts;
}

/** Softmax in double precision, the largest logit subtracted first. */
function softmax(logits: readonly number[]): number[] {
  const top = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - top));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

export async function predictTexts(o: PredictOptions): Promise<PredictResult> {
  const texts = inputTexts(o);
  const ckpt = asInputErrors(() => loadValidCheckpoint(o.checkpoint));
  const { record, head } = asInputErrors(() => readClassifier(ckpt));
  const tokenizer = loadTokenizerFor(findTokenizer(o.checkpoint, ckpt.dir, o.tokenizer), ckpt.model, { ofCheckpoint: true });
  const backend = await startBackend(o.backend);
  const { graph } = await loadGraph(ckpt.model, null);
  const logits = await asInputErrorsAsync(() =>
    classify({
      model: ckpt.model,
      graph,
      weights: new Map([...ckpt.weights, ...head]),
      tokenizer,
      texts,
      head: headOf(record),
      pooling: record.pooling,
      seq: record.seq,
    }),
  );
  const predictions = texts.map((text, i) => {
    const p = softmax(logits[i]!);
    const best = argMax(p);
    return {
      text,
      label: record.labels[best]!,
      probability: p[best]!,
      probabilities: Object.fromEntries(record.labels.map((l, k) => [l, p[k]!])),
    };
  });
  return { from: ckpt.dir, labels: record.labels, predictions, backend };
}

/** A model without the special tokens a classifier's input needs is the checkpoint's problem, not ours. */
async function asInputErrorsAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw inputErrorOf(e, [FinetuneError, ...INPUT_FILE_ERRORS]);
  }
}
