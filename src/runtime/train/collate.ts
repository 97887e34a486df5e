/** Masked examples → the tensors a compiled graph takes, padded to the longest in the batch. */
import type { SentencePairs } from "../data/examples.js";
import type { MaskedExample } from "../data/types.js";
import type { GraphInputs, GraphLabels } from "../graph-module.js";
import { IGNORE } from "../objectives/cross-entropy.js";
import { tf } from "../backends/tf.js";

export interface Batch {
  x: GraphInputs;
  y: GraphLabels;
  /** Real (non-padding) tokens, for throughput. */
  tokens: number;
  /** Positions with an MLM label. */
  predicted: number;
  dispose(): void;
}

export function collate(examples: MaskedExample[], padId: number, sentenceObjective: SentencePairs, withSegments: boolean): Batch {
  const length = Math.max(...examples.map((e) => e.inputIds.length));
  const pad = (row: number[], value: number) => [...row, ...Array<number>(length - row.length).fill(value)];
  const inputIds = tf.tensor2d(
    examples.map((e) => pad(e.inputIds, padId)),
    undefined,
    "int32",
  );
  const attentionMask = tf.tensor2d(
    examples.map((e) =>
      pad(
        e.inputIds.map(() => 1),
        0,
      ),
    ),
    undefined,
    "int32",
  );
  const labels = tf.tensor2d(
    examples.map((e) => pad(e.labels, IGNORE)),
    undefined,
    "int32",
  );
  const tokenTypeIds = withSegments
    ? tf.tensor2d(
        examples.map((e) => pad(e.tokenTypes, 0)),
        undefined,
        "int32",
      )
    : undefined;
  const sentence = sentenceObjective
    ? tf.tensor1d(
        examples.map((e) => e.sentenceLabel ?? 0),
        "int32",
      )
    : undefined;
  // Padding gets a document of its own (-1): it is masked as a key anyway.
  const documentIds = examples.some((e) => e.documents)
    ? tf.tensor2d(
        examples.map((e) => pad(e.documents ?? e.inputIds.map(() => 0), -1)),
        undefined,
        "int32",
      )
    : undefined;
  const y: GraphLabels = { labels };
  if (sentenceObjective === "nsp") y.nextSentenceLabel = sentence;
  if (sentenceObjective === "sop") y.sentenceOrderLabel = sentence;
  const all: tf.Tensor[] = [inputIds, attentionMask, labels];
  if (tokenTypeIds) all.push(tokenTypeIds);
  if (sentence) all.push(sentence);
  if (documentIds) all.push(documentIds);
  return {
    x: { inputIds, attentionMask, ...(tokenTypeIds ? { tokenTypeIds } : {}), ...(documentIds ? { documentIds } : {}) },
    y,
    tokens: examples.reduce((n, e) => n + e.inputIds.length, 0),
    predicted: examples.reduce((n, e) => n + e.labels.filter((l) => l !== IGNORE).length, 0),
    dispose: () => all.forEach((t) => t.dispose()),
  };
}
